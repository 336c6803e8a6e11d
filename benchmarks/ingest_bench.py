"""Ingest + segment throughput (words/s) and peak memory per unit on >= 1 M words.

The demo corpus (``corpora/demo``) is copied ``--copies`` times into a temporary folder (copies get distinct
names, the front matter keeps their kommune), then for each unit: ``read_corpus`` + ``segment_documents``
timed without tracing, and run again under :mod:`tracemalloc` for the peak of Python allocations (the
traced run is slower; its time is not reported). ``--no-memory`` skips the traced run.

    .venv/bin/python benchmarks/ingest_bench.py                # turn, paragraph, sentence on ~1 M words
    .venv/bin/python benchmarks/ingest_bench.py --units turn --copies 5 --no-memory
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qualkit.ingest import read_corpus  # noqa: E402
from qualkit.segment import segment_documents  # noqa: E402

DEMO = REPO / "corpora" / "demo"


def build_corpus(folder: Path, min_words: int, copies: int | None) -> tuple[int, int]:
    """Copy the demo files until the corpus has ``min_words`` words (or ``copies`` copies); (files, words)."""
    sources = [p for p in sorted(DEMO.glob("*.md")) if p.name != "README.md"]
    words_per_copy = sum(d.n_words for d in read_corpus(DEMO).documents)
    copies = copies or -(-min_words // words_per_copy)
    for n in range(copies):
        for path in sources:
            shutil.copyfile(path, folder / f"{path.stem}_{n:04d}{path.suffix}")
    return copies * len(sources), copies * words_per_copy


def run(folder: Path, unit: str, nlp) -> tuple[int, int]:
    corpus = read_corpus(folder)
    table = segment_documents(corpus.documents, unit=unit, nlp=nlp)
    return len(corpus.documents), len(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", nargs="+", default=["turn", "paragraph", "sentence"])
    parser.add_argument("--words", type=int, default=1_000_000, help="minimum corpus size in words")
    parser.add_argument("--copies", type=int, default=None, help="number of demo copies (overrides --words)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    args = parser.parse_args()

    nlp = None
    if "sentence" in args.units or "window" in args.units:
        from qualkit.nlp import load

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nlp = load(fast=True)
    with tempfile.TemporaryDirectory(prefix="qualkit-bench-") as tmp:
        folder = Path(tmp)
        files, words = build_corpus(folder, args.words, args.copies)
        print(f"corpus: {files} files, {words:,} words (demo x {files // max(1, len(list(DEMO.glob('*.md'))) - 1)})")
        print(f"pipeline for sentences: {nlp.meta.get('name', '?') if nlp is not None else '-'}")
        header = f"{'unit':<10} {'segments':>9} {'seconds':>8} {'words/s':>10} {'peak MB':>8}"
        print(header)
        print("-" * len(header))
        for unit in args.units:
            started = time.perf_counter()
            _, segments = run(folder, unit, nlp)
            seconds = time.perf_counter() - started
            peak = "-"
            if not args.no_memory:
                tracemalloc.start()
                run(folder, unit, nlp)
                peak = f"{tracemalloc.get_traced_memory()[1] / 1e6:.0f}"
                tracemalloc.stop()
            print(f"{unit:<10} {segments:>9,} {seconds:>8.1f} {words / seconds:>10,.0f} {peak:>8}")


if __name__ == "__main__":
    main()
