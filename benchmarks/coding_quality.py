"""How well does qualkit code? Keyword coder vs classifier vs the human coders, on the dev gold.

Run from the repository root::

    .venv/bin/python benchmarks/coding_quality.py                 # full run (a few minutes on 1 core)
    .venv/bin/python benchmarks/coding_quality.py --quick         # smoke run (well under a minute)
    .venv/bin/python benchmarks/coding_quality.py --data ../shared/data/gold/dev.jsonl --seeds 5

What it prints:

1. Leave-one-report-out (train on three reports, test on the fourth, predictions pooled): per-code F1 and
   Krippendorff's alpha (nominal, gold vs coder) for the keyword coder, the model of codebook + demo gold (nothing
   of the reports: what ``qualkit code`` uses without ``--train`` for a codebook without a shipped model, and used
   for the default codebook before it had one), the classifier (three reports + codebook), the classifier with the
   demo gold added (the recipe of the default codebook's shipped model, which is trained on all four reports;
   ``benchmarks/shipped_model.py`` scores it further), and the human coders A and B against the gold. On other data
   than the shipped model's own training material (``--data`` another gold file), two more rows show what qualkit
   does with the default codebook: the shipped model alone, and the classifier + demo blended with it (``qualkit
   code --train``), both with thresholds set for the held-out report. With this many coded segments (> 300) and no
   shipped model qualkit keeps the thresholds tuned by cross-validation; the rows "… (adapted)" show what setting
   them for the held-out report from its own scores (``adapt_thresholds``, what qualkit does with fewer coded
   segments) would give. Then, per code, how far better thresholds alone could take α: the best α with one
   threshold per code (or per code and report) chosen on the held-out data itself, next to the AUC — a ceiling, not
   something a method reaches.
2. The model as a coder: kappa and alpha per code between the model and each human coder, next to A vs B.
3. Learning curves: macro-F1 on the held-out report after 25 … 400 coded segments chosen by active learning
   (``qualkit.active.suggest``) or at random, mean ± sd over seeds and held-out reports; mean α; and, as a
   diagnostic, macro-F1 with each code's threshold chosen on the held-out report and mean AUC (ranking quality
   apart from the thresholds).
4. Speed: train + predict on 10,000 segments (made by recombining sentences of the dev set).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import f1_score, roc_auc_score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qualkit.active import simulate  # noqa: E402
from qualkit.agree import cohen_kappa, krippendorff_alpha  # noqa: E402
from qualkit.classify import (  # noqa: E402
    SegmentClassifier,
    demo_gold_paths,
    prior_share,
    read_gold_jsonl,
    resolve_code,
    shipped_model,
)
from qualkit.classify.context import CONTEXT_COLUMNS, add_context  # noqa: E402
from qualkit.classify.models import text_digest  # noqa: E402
from qualkit.codebook import load_codebook  # noqa: E402
from qualkit.coders import set_thresholds_for  # noqa: E402

SIZES = (25, 50, 100, 200, 400)


def load_dev(path: Path, codes: list[str]) -> pd.DataFrame:
    """The dev gold as a segment table: document (= report), segment_id, text, gold and coder columns."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    table = pd.DataFrame(
        {
            "document": [r["report"] for r in rows],
            "segment_id": [r["id"] for r in rows],
            "text": [r["text"] for r in rows],
            "line": [r.get("line", i) for i, r in enumerate(rows)],
        }
    )
    table = add_context(table)
    for source in ("codes", "coder_a", "coder_b"):
        for code in codes:
            table[f"{source}:{code}"] = [
                int(code in {resolve_code(c, codes) for c in (r.get(source) or [])}) for r in rows
            ]
    return table


def matrix(table: pd.DataFrame, source: str, codes: list[str]) -> np.ndarray:
    return table[[f"{source}:{code}" for code in codes]].to_numpy()


def alpha(gold: np.ndarray, pred: np.ndarray) -> float:
    return krippendorff_alpha(np.vstack([gold, pred]).astype(float))


def scores_table(gold: np.ndarray, predictions: dict[str, np.ndarray], codes: list[str]) -> pd.DataFrame:
    """One row per coder: F1 and alpha per code, macro-F1 and mean alpha."""
    rows = []
    for name, pred in predictions.items():
        f1 = f1_score(gold, pred, average=None, zero_division=0)
        alphas = [alpha(gold[:, j], pred[:, j]) for j in range(len(codes))]
        row = {"coder": name, "macro_F1": f1.mean(), "mean_alpha": float(np.nanmean(alphas))}
        row.update({f"F1 {c}": v for c, v in zip(codes, f1, strict=True)})
        row.update({f"α {c}": v for c, v in zip(codes, alphas, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("coder")


def loro(dev: pd.DataFrame, codebook, demo: pd.DataFrame | None, params: dict,
         probabilities: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Leave-one-report-out predictions of the classifier, with and without the demo gold, with the
    cross-validated thresholds (what qualkit does with this many coded segments) and "(adapted)" to the
    held-out report's own scores. ``probabilities``, when given, receives each model's scores."""
    codes = codebook.code_names
    gold = matrix(dev, "codes", codes)
    names = ["classifier", "classifier (adapted)"]
    if demo is not None:
        names += ["classifier+demo", "classifier+demo (adapted)"]
    out = {name: np.zeros_like(gold) for name in names}
    for report in sorted(dev["document"].unique()):
        train, test = dev[dev["document"] != report], dev[dev["document"] == report]
        trainings = {"classifier": (train, gold[train.index])}
        if demo is not None:
            columns = ["document", "text", *CONTEXT_COLUMNS]
            both = pd.concat([train[columns], demo[columns]], ignore_index=True)
            trainings["classifier+demo"] = (both, np.vstack([gold[train.index], demo[codes].to_numpy()]))
        for name, (texts, labels) in trainings.items():
            model = SegmentClassifier(codebook, **params).fit(texts, labels)
            out[name][test.index] = model.predict(test)
            if probabilities is not None:
                probabilities.setdefault(name, np.zeros(gold.shape))[test.index] = model.predict_proba(test)
            out[f"{name} (adapted)"][test.index] = model.adapt_thresholds(test).predict(test)
    return out


def cold_start(dev: pd.DataFrame, codebook, demo: pd.DataFrame | None, params: dict) -> dict[str, np.ndarray]:
    """The model of codebook + demo gold (nothing of the reports) on all reports, with its cross-validated
    thresholds and with the thresholds set for the reports' segments (what ``qualkit code`` without ``--train``
    does: ``qualkit.coders.set_thresholds_for``). Not the default codebook's shipped model: that one is trained
    on these reports."""
    model = _base_model(codebook, demo, params)
    cross_validated = model.predict(dev)
    set_thresholds_for(model, dev)
    return {"codebook + demo gold (cv thresholds)": cross_validated, "codebook + demo gold": model.predict(dev)}


def with_shipped_model(dev: pd.DataFrame, codebook, demo: pd.DataFrame | None, data: Path) -> dict[str, np.ndarray]:
    """What qualkit does with the default codebook on data its shipped model was not trained on: the shipped model
    alone (``qualkit code`` without ``--train``), and the leave-one-report-out classifier + demo blended with it
    (``qualkit code --train``), thresholds set for the held-out report. Nothing when the codebook has no shipped
    model or when ``data`` holds any of the shipped model's training paragraphs (the dev gold: scores would be
    in-sample; ``benchmarks/shipped_model.py`` measures its recipe there instead)."""
    shipped = shipped_model(codebook)
    if shipped is None or demo is None:
        return {}
    seen = set(shipped.training_sources_.get("reference_text_sha256", []))
    overlap = sum(text_digest(text) in seen for text in dev["text"])
    if overlap:
        print(f"\n({overlap} of the {len(dev)} segments of {data.name} are training material of the shipped model: "
              "its rows are left out here)")
        return {}
    codes = codebook.code_names
    gold = matrix(dev, "codes", codes)
    out = {"shipped model": np.zeros_like(gold), "classifier+demo blended with the shipped model": np.zeros_like(gold)}
    columns = ["document", "text", *CONTEXT_COLUMNS]
    for report in sorted(dev["document"].unique()):
        train, test = dev[dev["document"] != report], dev[dev["document"] == report]
        alone = copy.deepcopy(shipped)
        set_thresholds_for(alone, test)
        out["shipped model"][test.index] = alone.predict(test)
        both = pd.concat([train[columns], demo[columns]], ignore_index=True)
        model = SegmentClassifier(codebook).fit(both, np.vstack([gold[train.index], demo[codes].to_numpy()]))
        model.blend_prior(shipped, prior_share(len(train)))
        set_thresholds_for(model, test)
        out["classifier+demo blended with the shipped model"][test.index] = model.predict(test)
    return out


def threshold_ceiling(dev: pd.DataFrame, gold: np.ndarray, probs: np.ndarray, predicted: np.ndarray,
                      codes: list[str]) -> pd.DataFrame:
    """Per code: α with the model's thresholds, and the best α any threshold could give — one threshold per
    code chosen on all held-out reports together, or one per code *and report* — plus the AUC.

    The "best" rows choose thresholds on the test data, so no method can reach them; they show how much of the
    distance to the α target is in the thresholds and how much in the ranking (scores)."""
    grid = np.linspace(0.02, 0.98, 97)
    reports = dev["document"].to_numpy()
    rows: dict[str, dict[str, float]] = {"model's thresholds": {}, "best threshold per code": {},
                                          "best threshold per code and report": {}, "AUC": {}}
    for j, code in enumerate(codes):
        truth, scores = gold[:, j], probs[:, j]
        rows["model's thresholds"][code] = alpha(truth, predicted[:, j])
        rows["best threshold per code"][code] = max(alpha(truth, (scores >= t).astype(int)) for t in grid)
        per_report = np.zeros(len(truth), dtype=int)
        for report in np.unique(reports):
            mask = reports == report
            best = max(grid, key=lambda t: alpha(truth[mask], (scores[mask] >= t).astype(int)))
            per_report[mask] = scores[mask] >= best
        rows["best threshold per code and report"][code] = alpha(truth, per_report)
        rows["AUC"][code] = roc_auc_score(truth, scores)
    table = pd.DataFrame(rows).T
    table["mean"] = table.mean(axis=1)
    return table


def model_vs_humans(dev: pd.DataFrame, pred: np.ndarray, codes: list[str], model_name: str) -> pd.DataFrame:
    """Kappa and alpha per code between every pair of (model, coder A, coder B)."""
    coders = {model_name: pred, "coder A": matrix(dev, "coder_a", codes), "coder B": matrix(dev, "coder_b", codes)}
    pairs = [(model_name, "coder A"), (model_name, "coder B"), ("coder A", "coder B")]
    rows = []
    for first, second in pairs:
        row = {"pair": f"{first} vs {second}"}
        for j, code in enumerate(codes):
            a, b = coders[first][:, j], coders[second][:, j]
            row[f"κ {code}"] = cohen_kappa(a.tolist(), b.tolist())
            row[f"α {code}"] = alpha(a, b)
        row["mean κ"] = np.mean([row[f"κ {c}"] for c in codes])
        row["mean α"] = np.mean([row[f"α {c}"] for c in codes])
        rows.append(row)
    return pd.DataFrame(rows).set_index("pair")


def learning_curves(dev: pd.DataFrame, codebook, demo: pd.DataFrame | None, params: dict, sizes, seeds: int,
                    reports: list[str]) -> pd.DataFrame:
    """Macro-F1 on the held-out report after n coded segments, active learning vs random choice."""
    codes = codebook.code_names
    gold = matrix(dev, "codes", codes)
    rows = []
    for report in reports:
        test = dev[dev["document"] == report]
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            train = dev[dev["document"] != report]
            pool = train.loc[rng.permutation(train.index)[: int(0.8 * len(train))]].copy()
            labels = pd.DataFrame(gold[pool.index], columns=codes, index=pool.index)
            base = _base_model(codebook, demo, params)
            for strategy in ("active", "random"):
                models = simulate(codebook, pool, labels, sizes, strategy=strategy, base_model=base,
                                  params=params, random_state=seed, extra_training=demo, max_batch=100)
                for size, model in models.items():
                    truth, probs = gold[test.index], model.predict_proba(test)
                    pred = (probs >= model.thresholds_).astype(int)
                    rows.append({"report": report, "seed": seed, "strategy": strategy, "n": size,
                                 "macro_F1": f1_score(truth, pred, average="macro", zero_division=0),
                                 "mean_alpha": np.nanmean([alpha(truth[:, j], pred[:, j]) for j in range(len(codes))]),
                                 "best_threshold_F1": best_threshold_f1(truth, probs),
                                 "mean_AUC": mean_auc(truth, probs)})
            print(f"  curves: report {report} seed {seed} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def best_threshold_f1(truth: np.ndarray, probs: np.ndarray) -> float:
    """Macro-F1 with each code's threshold chosen on the held-out report itself: a diagnostic of how well the
    scores rank, apart from how well the thresholds were set (not reachable in practice)."""
    grid = np.linspace(0.02, 0.98, 49)
    return float(np.mean([max(f1_score(truth[:, j], probs[:, j] >= t, zero_division=0) for t in grid)
                          for j in range(truth.shape[1])]))


def mean_auc(truth: np.ndarray, probs: np.ndarray) -> float:
    """Mean ROC AUC over the codes that have positives and negatives in ``truth``."""
    both = [j for j in range(truth.shape[1]) if 0 < truth[:, j].sum() < len(truth)]
    return float(np.mean([roc_auc_score(truth[:, j], probs[:, j]) for j in both]))


def _base_model(codebook, demo: pd.DataFrame | None, params: dict) -> SegmentClassifier:
    if demo is None or demo.empty:
        return SegmentClassifier(codebook, **params).fit([], np.zeros((0, len(codebook.code_names)), dtype=int))
    return SegmentClassifier(codebook, **params).fit(demo, demo[codebook.code_names])


def speed(dev: pd.DataFrame, codebook, params: dict, n: int) -> dict[str, float]:
    """Seconds to train on and then code ``n`` segments recombined from sentences of the dev set."""
    rng = random.Random(0)
    sentences = [s for t in dev["text"] for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 30]
    texts = [" ".join(rng.sample(sentences, rng.randint(2, 5))) for _ in range(n)]
    gold = matrix(dev, "codes", codebook.code_names)
    # labels that depend on the text (the keyword-bearing sentences), so that training behaves as on real data
    by_sentence = {}
    for text, row in zip(dev["text"], gold, strict=True):
        for s in re.split(r"(?<=[.!?])\s+", text):
            by_sentence[s] = row
    labels = np.array([np.max([by_sentence.get(s, np.zeros(len(row))) for s in re.split(r"(?<=[.!?])\s+", t)],
                              axis=0) for t in texts]).astype(int)
    segments = pd.DataFrame({"document": [f"doc{i % 50}" for i in range(n)], "text": texts})
    start = time.perf_counter()
    model = SegmentClassifier(codebook, **params).fit(segments, labels)
    fitted = time.perf_counter()
    model.predict(segments)
    done = time.perf_counter()
    return {"segments": n, "train_s": fitted - start, "predict_s": done - fitted, "total_s": done - start}


def show(title: str, table: pd.DataFrame) -> None:
    print(f"\n## {title}\n")
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.3f}".format):
        print(table.to_string())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "gold" / "dev.jsonl")
    parser.add_argument("--codebook", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--speed-n", type=int, default=10_000)
    parser.add_argument("--no-demo", action="store_true", help="do not add the demo gold to training")
    parser.add_argument("--quick", action="store_true", help="fast smoke run: 1 seed, 1 held-out report, 2k speed")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"{args.data}: not found (pass --data path/to/dev.jsonl)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", category=UserWarning)
    codebook = load_codebook(args.codebook)
    codes = codebook.code_names
    dev = load_dev(args.data, codes)
    paths = [] if args.no_demo else demo_gold_paths()
    demo = add_context(read_gold_jsonl(paths, codebook)) if paths else None
    params: dict = {}
    print(f"# Coding quality on {args.data} ({len(dev)} segments, {dev['document'].nunique()} reports)")
    print(f"codebook {codebook.name} ({codebook.fingerprint}); demo gold: {', '.join(p.name for p in paths) or 'none'}")

    gold = matrix(dev, "codes", codes)
    start = time.perf_counter()
    predictions = {"keyword coder": _keyword_predictions(codebook, dev)}
    predictions.update(cold_start(dev, codebook, demo, params))
    probabilities: dict[str, np.ndarray] = {}
    predictions.update(loro(dev, codebook, demo, params, probabilities))
    predictions.update(with_shipped_model(dev, codebook, demo, args.data))
    predictions["coder A"] = matrix(dev, "coder_a", codes)
    predictions["coder B"] = matrix(dev, "coder_b", codes)
    show("Leave-one-report-out: each coder vs gold (F1, Krippendorff's α nominal)",
         scores_table(gold, predictions, codes))
    print(f"\n({time.perf_counter() - start:.1f} s)")
    main_model = "classifier+demo" if demo is not None else "classifier"
    show(f"How far thresholds can go ({main_model}, α per code; the 'best' rows pick thresholds on the held-out "
         "data, a ceiling no method reaches)",
         threshold_ceiling(dev, gold, probabilities[main_model], predictions[main_model], codes))
    show(f"The model as a coder ({main_model}, leave-one-report-out) next to the humans",
         model_vs_humans(dev, predictions[main_model], codes, main_model))

    reports = sorted(dev["document"].unique())
    sizes = (25, 100) if args.quick else SIZES
    seeds = 1 if args.quick else args.seeds
    curves = learning_curves(dev, codebook, demo, params, sizes, seeds, reports[:1] if args.quick else reports)
    summary = curves.groupby(["n", "strategy"])["macro_F1"].agg(["mean", "std"]).unstack("strategy")
    show(f"Learning curves: macro-F1 on the held-out report ({seeds} seeds × {len(curves.report.unique())} "
         "held-out reports), active learning vs random", summary)
    alpha_summary = curves.groupby(["n", "strategy"])["mean_alpha"].mean().unstack("strategy")
    show("Learning curves: mean α", alpha_summary)
    ranking = curves.groupby(["n", "strategy"])[["best_threshold_F1", "mean_AUC"]].mean().unstack("strategy")
    show("Learning curves, diagnostic: macro-F1 with thresholds chosen on the held-out report, and mean AUC "
         "(how well the scores rank, apart from the thresholds)", ranking)

    timing = speed(dev, codebook, params, 2000 if args.quick else args.speed_n)
    show("Speed (train + predict, seconds, one core)", pd.DataFrame([timing]).set_index("segments"))
    return 0


def _keyword_predictions(codebook, dev: pd.DataFrame) -> np.ndarray:
    from qualkit.code import KeywordCoder

    return KeywordCoder(codebook).predict(dev["text"].tolist())


if __name__ == "__main__":
    raise SystemExit(main())
