"""How well do qualkit's coders agree with the reference coding of the demo corpus?

Codes every turn of ``corpora/demo`` with the keyword coder and prints, per code, F1 and Krippendorff's alpha
(nominal) against ``corpora/demo/gold.jsonl``, plus how many segments each side coded, and the time taken.

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
from qualkit.code import KeywordCoder
from qualkit.codebook import load_codebook
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


if __name__ == "__main__":
    main()
