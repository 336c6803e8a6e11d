"""Entity F of several trained pipelines and of their majority vote, on UD Bokmål/Nynorsk dev and test (NorNE).

An experiment behind ``qualkit/data/pipeline/README.md``: how much would an ensemble of pipelines trained by the
recipe (other seeds or variants, ``qualkit nlp train --out DIR`` with overrides) gain on entities, and at what
cost in speed? An entity counts in the vote when at least half of the pipelines (rounded up; 2 of 3) predict it
with the same span and type; overlapping voted entities are resolved by votes, then by position.

    .venv/bin/python benchmarks/nlp_eval.py  # the shipped pipeline alone
    .venv/bin/python benchmarks/ner_vote.py qualkit/data/pipeline/nb_qualkit_core /tmp/seed1/out /tmp/w128/out
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from pathlib import Path

import spacy
from spacy.scorer import get_ner_prf
from spacy.training import Example

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qualkit.nlp.variety  # noqa: E402,F401  (registers the factory the pipelines may name)
from qualkit.nlp.evaluate import gold_docs  # noqa: E402

SETS = [(lang, split) for split in ("dev", "test") for lang in ("nob", "nno")]
Entity = tuple[int, int, str]


def entities(path: str, texts: dict) -> tuple[dict, float]:
    """Each pipeline's entities (character offsets) per doc, and the seconds its tok2vec + ner took."""
    nlp = spacy.load(path, exclude=["morphologizer", "trainable_lemmatizer", "senter", "parser", "tagger"])
    found, seconds = {}, 0.0
    for key, batch in texts.items():
        started = time.perf_counter()
        docs = list(nlp.pipe(batch, batch_size=64))
        seconds += time.perf_counter() - started
        found[key] = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
    return found, seconds


def vote(predictions: list[list[Entity]], needed: int) -> list[Entity]:
    counts = Counter(entity for one in predictions for entity in one)
    candidates = sorted((e for e, n in counts.items() if n >= needed), key=lambda e: (-counts[e], e[0]))
    chosen: list[Entity] = []
    for entity in candidates:
        if all(entity[1] <= other[0] or entity[0] >= other[1] for other in chosen):
            chosen.append(entity)
    return sorted(chosen)


def entity_f(nlp, golds, predicted: list[list[Entity]]) -> float:
    examples = []
    for gold, ents in zip(golds, predicted, strict=True):
        doc = nlp.make_doc(gold.text)
        doc.ents = [s for s in (doc.char_span(a, b, label=label) for a, b, label in ents) if s is not None]
        examples.append(Example(doc, gold))
    return 100 * get_ner_prf(examples)["ents_f"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipelines", nargs="+", help="pipeline directories (at least 2)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "norne")
    args = parser.parse_args(argv)
    if len(args.pipelines) < 2:
        parser.error("give at least two pipelines")
    if not (args.data / "ud").exists():
        print(f"{args.data}: no UD files (pass --data path/to/norne)", file=sys.stderr)
        return 2
    blank = spacy.blank("nb")
    golds = {key: gold_docs(blank, args.data, *key) for key in SETS}
    texts = {key: [g.text for g in docs] for key, docs in golds.items()}
    words = sum(len(doc) for docs in golds.values() for doc in docs)
    names = [Path(p).name if Path(p).name not in ("out", "pipeline", "model-best") else str(p) for p in args.pipelines]
    found, seconds = {}, {}
    for name, path in zip(names, args.pipelines, strict=True):
        found[name], seconds[name] = entities(path, texts)
    header = " | ".join(f"{lang} {split}" for lang, split in SETS)
    print(f"Entity F (NorNE, 9 types) | {header} | tok2vec+ner words/s")
    for name in names:
        row = " | ".join(f"{entity_f(blank, golds[key], found[name][key]):.2f}" for key in SETS)
        print(f"{name} | {row} | {words / seconds[name]:.0f}")
    for size in range(3, len(names) + 1, 2):
        for combo in itertools.combinations(names, size):
            needed = (size + 1) // 2
            voted = {key: [vote([found[n][key][i] for n in combo], needed) for i in range(len(golds[key]))]
                     for key in SETS}
            row = " | ".join(f"{entity_f(blank, golds[key], voted[key]):.2f}" for key in SETS)
            cost = sum(seconds[n] for n in combo)
            print(f"vote of {' + '.join(combo)} | {row} | {words / cost:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
