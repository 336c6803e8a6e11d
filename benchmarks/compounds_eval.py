"""Evaluate the compound splitter: precision, recall and F1 per kind and målform, errors, speed.

Run from the repository root:

    .venv/bin/python benchmarks/compounds_eval.py [--gold tests/data/compounds.tsv] [--text FILE ...]

Precision and recall are per word: a predicted split (two or more parts) counts as correct only if
its parts equal the expected ones; precision = correct splits / words split, recall = correct
splits / words expected to split. "acc" is the share of words whose whole output (lemma for
non-compounds) equals the expected output.

Speed is measured on running text: the shared development set (``../shared/data/gold/dev.jsonl``)
when it is there, otherwise the gold words repeated. "cold" starts with an empty cache (every new
word type is analysed once, repeats hit the cache, as in real use); "unique" times only the first
analysis of each word type, the worst case.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from collections import defaultdict
from pathlib import Path

from qualkit.compounds import SplitScores, clear_cache, load_lexicon, score_splits, split_compound

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = ROOT / "tests" / "data" / "compounds.tsv"
DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "gold" / "dev.jsonl"
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def read_gold(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def pairs(rows: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    return [(row["word"], row["expected"].split("+")) for row in rows]


def format_scores(label: str, scores: SplitScores) -> str:
    return (
        f"{label:<22} {scores.words:>5} {scores.split:>6} {scores.expected_compounds:>9} "
        f"{scores.precision:>6.3f} {scores.recall:>6.3f} {scores.f1:>6.3f} {scores.accuracy:>6.3f}"
    )


def report_scores(rows: list[dict[str, str]]) -> None:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        groups[f"kind={row['kind']}"].append(row)
        groups[f"målform={row['målform']}"].append(row)
        groups[f"{row['kind']}/{row['målform']}"].append(row)
    print(f"{'group':<22} {'words':>5} {'split':>6} {'expected':>9} {'P':>6} {'R':>6} {'F1':>6} {'acc':>6}")
    print(format_scores("all", score_splits(pairs(rows))))
    for label in sorted(groups):
        print(format_scores(label, score_splits(pairs(groups[label]))))
    print("(P/R are 1.000 by convention when a group has no predicted or no expected splits)")


def report_errors(rows: list[dict[str, str]]) -> None:
    errors = [
        (row, split_compound(row["word"])) for row in rows if split_compound(row["word"]) != row["expected"].split("+")
    ]
    print(f"\nerrors: {len(errors)}")
    for row, predicted in errors:
        print(
            f"  {row['word']:<28} expected {row['expected']:<30} got {'+'.join(predicted):<30} "
            f"[{row['kind']}/{row['målform']}]"
        )


def running_words(paths: list[Path], rows: list[dict[str, str]]) -> tuple[list[str], str]:
    words: list[str] = []
    for path in paths:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            text = "\n".join(json.loads(line).get("text") or "" for line in text.splitlines() if line)
        words.extend(WORD.findall(text))
    if words:
        return words, ", ".join(str(path) for path in paths if path.exists())
    return [row["word"] for row in rows] * 200, "gold words x 200 (no text file found)"


def words_per_second(words: list[str]) -> float:
    start = time.perf_counter()
    for word in words:
        split_compound(word)
    return len(words) / (time.perf_counter() - start)


def report_speed(words: list[str], source: str) -> None:
    load_lexicon()  # loading the files is a one-off cost, not part of the rate
    clear_cache()
    load_lexicon()
    cold = words_per_second(words)
    warm = words_per_second(words)
    types = list(dict.fromkeys(words))
    clear_cache()
    load_lexicon()
    unique = words_per_second(types)
    split = sum(len(split_compound(word)) > 1 for word in words)
    print(f"\nspeed on {len(words):,} running words ({len(types):,} types) from {source}")
    print(f"  cold cache : {cold:>12,.0f} words/s")
    print(f"  warm cache : {warm:>12,.0f} words/s")
    print(f"  unique only: {unique:>12,.0f} words/s  (every word type analysed once, no cache hits)")
    print(f"  tokens split into parts: {split / len(words):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--text", type=Path, nargs="*", default=[DEFAULT_TEXT])
    args = parser.parse_args()
    rows = read_gold(args.gold)
    print(f"gold: {args.gold} ({len(rows)} words)\n")
    report_scores(rows)
    report_errors(rows)
    report_speed(*running_words(args.text, rows))


if __name__ == "__main__":
    main()
