"""How well do qualkit's coders agree with the reference coding of the demo corpus?

Codes every turn of ``corpora/demo`` with the keyword coder and prints, per code, F1 and Krippendorff's alpha
(nominal) against ``corpora/demo/gold.jsonl``, plus how many segments each side coded, and the time taken.
Then the classifier leave-one-document-out (trained on the codebook and the other eleven documents' gold),
with its cross-validated thresholds and with thresholds set for the held-out document from its scores
(``qualkit.coders.set_thresholds_for``, what the default model does with a corpus it codes): how much that
costs on the kind of text the demo gold is (about half a minute).

    .venv/bin/python benchmarks/demo_gold.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from qualkit.agree import krippendorff_alpha
from qualkit.classify import SegmentClassifier
from qualkit.classify.context import add_context
from qualkit.code import KeywordCoder
from qualkit.codebook import load_codebook
from qualkit.coders import set_thresholds_for
from qualkit.ingest import read_corpus
from qualkit.segment import segment_documents

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "demo"


def gold_matrix(segments: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """The gold codes aligned to the segment table (the gold lists every turn in document order)."""
    gold = [json.loads(line) for line in (DEMO / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    if [(g["document"], g["text"]) for g in gold] != list(zip(segments["document"], segments["text"], strict=True)):
        raise SystemExit("gold.jsonl does not match the turns of the demo corpus; regenerate one of them")
    return np.array([[code in g["codes"] for code in codes] for g in gold], dtype=int)


def main() -> None:
    codebook = load_codebook()
    codes = codebook.code_names
    segments = segment_documents(read_corpus(DEMO).documents, unit="turn")
    gold = gold_matrix(segments, codes)
    started = time.perf_counter()
    predicted = KeywordCoder(codebook).predict(segments["text"].tolist())
    seconds = time.perf_counter() - started
    rows = [
        {
            "code": code,
            "gold": int(gold[:, j].sum()),
            "coded": int(predicted[:, j].sum()),
            "F1": f1_score(gold[:, j], predicted[:, j], zero_division=0),
            "alpha": krippendorff_alpha([gold[:, j], predicted[:, j]]),
        }
        for j, code in enumerate(codes)
    ]
    table = pd.DataFrame(rows).set_index("code")
    table.loc["macro / mean"] = [gold.sum(), predicted.sum(), table["F1"].mean(), table["alpha"].mean()]
    print(f"Keyword coder vs demo gold: {len(segments)} turns, {segments['document'].nunique()} documents, "
          f"{seconds:.1f} s ({len(segments) / seconds:.0f} segments/s)")
    print(table.round(3).to_string())
    print("\nClassifier, leave-one-document-out (macro-F1, mean alpha):")
    for name, predicted in leave_one_document_out(codebook, segments, gold).items():
        alphas = [krippendorff_alpha([gold[:, j], predicted[:, j]]) for j in range(len(codes))]
        print(f"  {name:<45} {f1_score(gold, predicted, average='macro', zero_division=0):.3f}  "
              f"{np.nanmean(alphas):.3f}")


def leave_one_document_out(codebook, segments: pd.DataFrame, gold: np.ndarray) -> dict[str, np.ndarray]:
    """Predictions for each document by a classifier trained on the others, with cross-validated thresholds
    and with thresholds set for the held-out document."""
    table = add_context(segments).reset_index(drop=True)
    labels = pd.DataFrame(gold, columns=codebook.code_names)
    out = {"cross-validated thresholds": np.zeros_like(gold), "thresholds set for the document": np.zeros_like(gold)}
    for document in table["document"].unique():
        held_out = (table["document"] == document).to_numpy()
        model = SegmentClassifier(codebook).fit(table[~held_out], labels[~held_out])
        out["cross-validated thresholds"][held_out] = model.predict(table[held_out])
        set_thresholds_for(model, table[held_out])
        out["thresholds set for the document"][held_out] = model.predict(table[held_out])
    return out


if __name__ == "__main__":
    main()
