"""What the default codebook's shipped model is worth, measured without ever testing on its training material.

The shipped model (``qualkit build-default-model``) is trained on the codebook, the demo gold and all four
reports of the dev gold, so it cannot be scored on the dev gold itself. This script scores its *recipe*:
whenever a report (or a demo document) is tested, the model is trained on everything else.

Run from the repository root (about 4 minutes on one core)::

    .venv/bin/python benchmarks/shipped_model.py [--data ../shared/data/gold/dev.jsonl] [--seeds 3]

What it prints (macro-F1 and mean Krippendorff's α against the gold, thresholds set for the segments being
coded as ``qualkit code`` does):

1. Coding a new report without any coding of one's own: the recipe trained on the other three reports (+ demo
   gold) against the model qualkit built before (codebook + demo gold only), and the keyword coder.
2. Coding interview turns (the demo corpus, leave-one-document-out): the same two recipes — does the report
   material cost anything on another kind of text?
3. Coding one's own corpus: a held-out report of which n segments (25, 50, 100, chosen at random) are coded by
   the user; scored on the rest of it. "labels + demo" is a model trained on the user's codings (+ demo gold),
   what qualkit did before; "blended" is that model blended with the shipped-recipe model
   (``blend_prior``, share ``prior_share(n)``), what qualkit does now; "shipped alone" ignores the codings.
4. Training on whole reports of one's own (two reports coded, one report of the dev gold standing in for the
   shipped material, the fourth tested): "labels + demo" with cross-validated thresholds (what qualkit did
   before with > 300 coded segments) against "blended".
5. Report excerpts written for qualkit (``corpora/rapporter``, 324 paragraphs of 14 documents, coded by the
   developers; never training material): the shipped model itself, the model built without the reference
   reports, and the keyword coder, each as ``qualkit code --unit paragraph`` uses it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from coding_quality import alpha, load_dev, matrix  # noqa: E402
from demo_gold import DEMO, gold_matrix  # noqa: E402

from qualkit.classify import SegmentClassifier, demo_gold_paths, prior_share, read_gold_jsonl  # noqa: E402
from qualkit.classify.context import CONTEXT_COLUMNS, add_context  # noqa: E402
from qualkit.code import KeywordCoder  # noqa: E402
from qualkit.codebook import load_codebook  # noqa: E402
from qualkit.coders import set_thresholds_for  # noqa: E402
from qualkit.ingest import read_corpus  # noqa: E402
from qualkit.segment import segment_documents  # noqa: E402

COLUMNS = ["document", "text", *CONTEXT_COLUMNS]


def scores(gold: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    f1 = f1_score(gold, predicted, average="macro", zero_division=0)
    return float(f1), float(np.nanmean([alpha(gold[:, j], predicted[:, j]) for j in range(gold.shape[1])]))


def fit(codebook, tables: list[pd.DataFrame], labels: list[np.ndarray]) -> SegmentClassifier:
    return SegmentClassifier(codebook).fit(pd.concat([t[COLUMNS] for t in tables], ignore_index=True),
                                           np.vstack(labels))


def code(model: SegmentClassifier, segments: pd.DataFrame) -> np.ndarray:
    """Predictions with the thresholds set for ``segments`` (a copy: the model is reused)."""
    model = copy.deepcopy(model)
    set_thresholds_for(model, segments)
    return model.predict(segments)


def new_report(dev, gold, demo, demo_y, codebook) -> pd.DataFrame:
    out = {"keyword coder": KeywordCoder(codebook).predict(dev["text"].tolist()),
           "codebook + demo (before)": np.zeros_like(gold),
           "codebook + demo + 3 reports (shipped recipe)": np.zeros_like(gold)}
    before = fit(codebook, [demo], [demo_y])
    for report in sorted(dev["document"].unique()):
        test = dev[dev["document"] == report]
        others = dev[dev["document"] != report]
        shipped = fit(codebook, [others, demo], [gold[others.index], demo_y])
        out["codebook + demo (before)"][test.index] = code(before, test)
        out["codebook + demo + 3 reports (shipped recipe)"][test.index] = code(shipped, test)
    return pd.DataFrame([(name, *scores(gold, p)) for name, p in out.items()], columns=["model", "F1", "alpha"])


def interview_turns(dev, gold, codebook) -> pd.DataFrame:
    segments = add_context(segment_documents(read_corpus(DEMO).documents, unit="turn")).reset_index(drop=True)
    turns_gold = gold_matrix(segments, codebook.code_names)
    out = {"codebook + demo (before)": np.zeros_like(turns_gold),
           "codebook + demo + 4 reports (shipped recipe)": np.zeros_like(turns_gold)}
    for document in segments["document"].unique():
        held_out = (segments["document"] == document).to_numpy()
        rest = segments[~held_out]
        before = fit(codebook, [rest], [turns_gold[~held_out]])
        shipped = fit(codebook, [rest, dev], [turns_gold[~held_out], gold])
        out["codebook + demo (before)"][held_out] = code(before, segments[held_out])
        out["codebook + demo + 4 reports (shipped recipe)"][held_out] = code(shipped, segments[held_out])
    return pd.DataFrame([(name, *scores(turns_gold, p)) for name, p in out.items()], columns=["model", "F1", "alpha"])


def own_corpus(dev, gold, demo, demo_y, codebook, seeds: int, sizes=(25, 50, 100)) -> pd.DataFrame:
    rows = []
    for report in sorted(dev["document"].unique()):
        own = dev[dev["document"] == report]
        others = dev[dev["document"] != report]
        shipped = fit(codebook, [others, demo], [gold[others.index], demo_y])
        for seed in range(seeds):
            order = np.random.default_rng(seed).permutation(own.index.to_numpy())
            for n in sizes:
                coded, rest = order[:n], order[n:]
                test = dev.loc[rest]
                user = fit(codebook, [dev.loc[coded], demo], [gold[coded], demo_y])
                blended = copy.deepcopy(user).blend_prior(shipped, prior_share(n))
                for name, model in (("labels + demo (before)", user), ("blended (now)", blended),
                                    ("shipped alone", shipped)):
                    # the user's own coded segments are not re-coded: thresholds from the rest
                    rows.append((report, seed, n, name, *scores(gold[rest], code(model, test))))
    frame = pd.DataFrame(rows, columns=["report", "seed", "n", "model", "F1", "alpha"])
    return frame.groupby(["n", "model"])[["F1", "alpha"]].mean().unstack("model")


def whole_reports(dev, gold, demo, demo_y, codebook) -> pd.DataFrame:
    reports = sorted(dev["document"].unique())
    rows = []
    for tested in reports:
        for stand_in in (r for r in reports if r != tested):
            coded = dev[~dev["document"].isin([tested, stand_in])]
            test = dev[dev["document"] == tested]
            material = dev[dev["document"] == stand_in]
            prior = fit(codebook, [material, demo], [gold[material.index], demo_y])
            user = fit(codebook, [coded, demo], [gold[coded.index], demo_y])
            blended = copy.deepcopy(user).blend_prior(prior, prior_share(len(coded)))
            rows.append(("labels + demo, cv thresholds (before)", *scores(gold[test.index], user.predict(test))))
            rows.append(("labels + demo, thresholds set for the report", *scores(gold[test.index], code(user, test))))
            rows.append(("blended (now)", *scores(gold[test.index], code(blended, test))))
    frame = pd.DataFrame(rows, columns=["model", "F1", "alpha"])
    return frame.groupby("model", sort=False)[["F1", "alpha"]].mean().reset_index()


def report_excerpts(codebook) -> pd.DataFrame:
    """Section 5: the models as users get them, on report paragraphs none of them was trained on."""
    from qualkit.classify import default_classifier

    folder = ROOT / "corpora" / "rapporter"
    segments = add_context(segment_documents(read_corpus(folder).documents, unit="paragraph")).reset_index(drop=True)
    records = [json.loads(line) for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    if [r["text"] for r in records] != segments["text"].tolist():
        raise SystemExit(f"{folder}/gold.jsonl does not match the paragraph units (tests/test_corpora.py says how)")
    coded = read_gold_jsonl([folder / "gold.jsonl"], codebook)
    gold = coded[codebook.code_names].to_numpy()
    out = {"keyword coder": KeywordCoder(codebook).predict(segments["text"].tolist()),
           "codebook + demo (built without the reference reports)":
               code(default_classifier(codebook, shipped=False, cache=False), segments),
           "shipped model": code(default_classifier(codebook), segments)}
    return pd.DataFrame([(name, *scores(gold, p)) for name, p in out.items()], columns=["model", "F1", "alpha"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "gold" / "dev.jsonl")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"{args.data}: not found (pass --data path/to/dev.jsonl)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", category=UserWarning)
    codebook = load_codebook()
    dev = load_dev(args.data, codebook.code_names)
    gold = matrix(dev, "codes", codebook.code_names)
    demo = add_context(read_gold_jsonl(demo_gold_paths(), codebook))
    demo_y = demo[codebook.code_names].to_numpy()
    started = time.perf_counter()
    print(f"# The shipped model's recipe on {args.data.name} ({len(dev)} paragraphs) and the demo gold\n")
    print("1. A new report, nothing coded (leave-one-report-out):")
    print(new_report(dev, gold, demo, demo_y, codebook).round(3).to_string(index=False))
    print("\n2. Interview turns of the demo corpus (leave-one-document-out):")
    print(interview_turns(dev, gold, codebook).round(3).to_string(index=False))
    print(f"\n3. One's own report, n segments coded at random ({args.seeds} seeds x 4 reports), scored on the rest:")
    print(own_corpus(dev, gold, demo, demo_y, codebook, args.seeds).round(3).to_string())
    print("\n4. Two whole reports coded, a third standing in for the shipped material, the fourth tested:")
    print(whole_reports(dev, gold, demo, demo_y, codebook).round(3).to_string(index=False))
    print("\n5. Report excerpts written for qualkit (corpora/rapporter), never trained on:")
    print(report_excerpts(codebook).round(3).to_string(index=False))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
