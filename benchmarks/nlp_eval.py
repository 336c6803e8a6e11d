"""Benchmark the Norwegian pipeline on the UD Bokmål and Nynorsk test files (NorNE edition).

    .venv/bin/python benchmarks/nlp_eval.py                      # the pipeline qualkit.nlp.load() picks
    .venv/bin/python benchmarks/nlp_eval.py --pipeline PATH      # a pipeline directory / package / blank
    .venv/bin/python benchmarks/nlp_eval.py --split dev --json /tmp/nlp_eval.json

Scores: tokenisation F (the pipeline's tokenizer on the raw text vs gold tokens), sentence F (docs of
``--doc-size`` consecutive sentences joined by spaces, as spaCy's published figures; "lines": the same
docs with each UD paragraph on a new line, as PDF exports and transcripts reach qualkit), UPOS,
morphology (full UD FEATS string), lemma accuracy,
entity F (NorNE types incl. GPE_LOC/GPE_ORG), and words/s of ``nlp.pipe`` in one process for the
full and the fast (``load_fast``: tokenizer + senter + lemmatizer) configuration.  Published figures
of spaCy's nb_core_news_sm 3.8.0 (UD Bokmål test) are printed alongside; note that it was trained on
the UD Bokmål train split only and evaluates with its own parser-based sentence splitting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qualkit.nlp import load, load_fast, pipeline_info  # noqa: E402
from qualkit.nlp.evaluate import LANG_NAMES, gold_docs, score, sentence_f, words_per_second  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "norne"

# spaCy nb_core_news_sm 3.8.0, published accuracy on UD Bokmål test (percent) and CPU speed.
NB_CORE_NEWS_SM = {
    "token_f": None,
    "pos_acc": 96.7,
    "morph_acc": 95.2,
    "lemma_acc": 96.8,
    "sents_f": 92.6,
    "ents_f": 74.8,
    "dep_uas": 88.1,
    "dep_las": 84.8,
    "words_per_s": 10800,
}
TARGETS = {"pos_acc": 96.0, "lemma_acc": 96.5, "sents_f": 92.0, "ents_f": 74.0, "words_per_s": 8000}
LABELS = {
    "token_f": "Tokenisation F",
    "pos_acc": "UPOS acc",
    "morph_acc": "Morph (FEATS) acc",
    "lemma_acc": "Lemma acc",
    "sents_f": "Sentence F",
    "sents_f_paragraphs": "Sentence F (lines)",
    "ents_f": "Entity F (NorNE)",
    "dep_uas": "UAS",
    "dep_las": "LAS",
    "words_per_s": "Words/s (full)",
    "words_per_s_fast": "Words/s (fast)",
}


def run(pipeline: str | None, data: Path, split: str, doc_size: int, repeat: int) -> dict:
    nlp = load(pipeline)
    result: dict = {"pipeline": pipeline_info(nlp), "split": split, "doc_size": doc_size, "scores": {}}
    texts: list[str] = []
    for lang in LANG_NAMES:
        golds = gold_docs(nlp, data, lang, split, doc_size)
        texts.extend(gold.text for gold in golds)
        result["scores"][lang] = score(nlp, golds)
        paragraphs = gold_docs(nlp, data, lang, split, doc_size, layout="paragraphs")
        result["scores"][lang]["sents_f_paragraphs"] = sentence_f(nlp, paragraphs)
    result["n_words"] = sum(len(t.split()) for t in texts)
    result["words_per_s"] = round(words_per_second(nlp, texts, repeat=repeat))
    fast = load_fast(pipeline)
    result["fast_components"] = [n for n in fast.pipe_names]
    result["words_per_s_fast"] = round(words_per_second(fast, texts, repeat=repeat))
    return result


def table(result: dict) -> str:
    def fmt(value) -> str:
        if value is None:
            return "–"
        return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"

    nob, nno = result["scores"]["nob"], result["scores"]["nno"]
    cols = f"{'nb_core_news_sm 3.8 (nob)':>25} | {'ours nob':>9} | {'ours nno':>9} | {'target':>7}"
    header = f"| {'Metric':<20} | {cols} |"
    lines = [header, "|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|"]
    for key, label in LABELS.items():
        if key.startswith("words_per_s"):
            ours_nob, ours_nno = result[key], None
        else:
            ours_nob, ours_nno = nob.get(key), nno.get(key)
        ref = NB_CORE_NEWS_SM.get(key)
        lines.append(
            f"| {label:<20} | {fmt(ref):>25} | {fmt(ours_nob):>9} | {fmt(ours_nno):>9} | {fmt(TARGETS.get(key)):>7} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", help="package name, pipeline directory or 'blank' (default: load())")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NorNE directory (ndt/, ud/)")
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--doc-size", type=int, default=10, help="sentences per document")
    parser.add_argument("--repeat", type=int, default=2, help="speed runs (best of)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not (args.data / "ud").is_dir():
        parser.error(f"{args.data}: no ud/ directory (the NorNE data is needed)")
    result = run(args.pipeline, args.data, args.split, args.doc_size, args.repeat)
    info = result["pipeline"]
    print(f"pipeline: {info['name']} {info['version']} ({info['source']}), components: {info['components']}")
    print(f"UD {args.split}, docs of {args.doc_size} sentences, {result['n_words']:,} words; speed: one process")
    print(f"fast configuration components: {result['fast_components']}\n")
    print(table(result))
    per_type = result["scores"]["nob"].get("ents_per_type")
    if per_type:
        print("\nEntity F per type (nob):", ", ".join(f"{k} {v}" for k, v in sorted(per_type.items())))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
