"""Evaluate a Norwegian pipeline on the UD Bokmål / Nynorsk dev or test files (NorNE edition).

Gold documents group ``doc_size`` consecutive UD sentences, so sentence segmentation is scored on
running text (all sentences joined by spaces, as spaCy's published figures); ``sents_f_paragraphs``
scores the same docs with each UD paragraph on a new line, as text reaches qualkit.  Each doc is
re-tokenised from its raw text by the pipeline's own tokenizer, so the scores include tokenisation
errors (spaCy aligns predicted and gold tokens; ``token_f`` is the tokenisation F-score).
"""

from __future__ import annotations

import time
from pathlib import Path

from spacy.language import Language
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc
from spacy.training import Example

from qualkit.nlp.convert import chunk, read_conll, sentences_to_doc, ud_file

LANG_NAMES = {"nob": "Bokmål", "nno": "Nynorsk"}
POS_COMPONENTS = {"morphologizer", "tagger", "attribute_ruler"}
LEMMA_COMPONENTS = {"trainable_lemmatizer", "lemmatizer", "qualkit_lookup_lemmatizer"}
METRICS = ("token_f", "pos_acc", "morph_acc", "lemma_acc", "sents_f", "sents_f_paragraphs", "ents_f")


def gold_docs(
    nlp: Language, data_dir: Path | str, lang: str, split: str, doc_size: int = 10, layout: str = "running"
) -> list[Doc]:
    """UD gold docs of ``doc_size`` sentences each (tokens, UPOS, FEATS, lemmas, sentences, NorNE).

    layout: ``"running"`` joins all sentences by spaces (as spaCy's published figures);
    ``"paragraphs"`` starts each UD paragraph (``# newpar``) on a new line, as text reaches qualkit.
    """
    sents = list(read_conll(ud_file(Path(data_dir), lang, split)))
    return [sentences_to_doc(nlp.vocab, group, ud=True, layout=layout) for group in chunk(sents, doc_size)]


def sentence_f(nlp: Language, golds: list[Doc], batch_size: int = 64) -> float:
    """Sentence-boundary F (percent) only; for the ``paragraphs`` layout, whose line-break tokens
    would otherwise count in the token-level accuracies."""
    preds = nlp.pipe((gold.text for gold in golds), batch_size=batch_size)
    examples = [Example(pred, gold) for pred, gold in zip(preds, golds, strict=True)]
    return _pct(Scorer.score_spans(examples, "sents", has_annotation=lambda d: True)["sents_f"])


def score(nlp: Language, golds: list[Doc], batch_size: int = 64) -> dict:
    """Accuracy figures (percent) of ``nlp`` against gold docs.

    Scored directly with spaCy's ``Scorer`` functions (not per component), so every pipeline,
    including the blank fallback, is scored the same way.  Metrics the pipeline cannot produce (e.g.
    entities for the blank pipeline) are ``None``.
    """
    preds = nlp.pipe((gold.text for gold in golds), batch_size=batch_size)
    examples = [Example(pred, gold) for pred, gold in zip(preds, golds, strict=True)]
    active = set(nlp.pipe_names)
    out: dict = {"token_f": Scorer.score_tokenization(examples)["token_f"]}
    if active & POS_COMPONENTS:
        out["pos_acc"] = Scorer.score_token_attr(examples, "pos")["pos_acc"]
    if "morphologizer" in active:
        out["morph_acc"] = Scorer.score_token_attr(examples, "morph")["morph_acc"]
    if active & LEMMA_COMPONENTS:
        out["lemma_acc"] = Scorer.score_token_attr(examples, "lemma")["lemma_acc"]
    out["sents_f"] = Scorer.score_spans(examples, "sents", has_annotation=lambda d: True)["sents_f"]
    if "ner" in active:
        ents = get_ner_prf(examples)
        out["ents_f"] = ents["ents_f"]
        out["ents_per_type"] = {k: round(100 * v["f"], 1) for k, v in ents["ents_per_type"].items()}
    return {k: out.get(k) if k == "ents_per_type" else _pct(out.get(k)) for k in (*METRICS, "ents_per_type")}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def words_per_second(nlp: Language, texts: list[str], batch_size: int = 256, repeat: int = 1) -> float:
    """Throughput of ``nlp.pipe`` in this process (one process, no multiprocessing), best of
    ``repeat`` runs, counting the pipeline's own tokens."""
    best = 0.0
    list(nlp.pipe(texts[:20]))  # warm-up
    for _ in range(repeat):
        start = time.perf_counter()
        n_words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=batch_size))
        best = max(best, n_words / (time.perf_counter() - start))
    return best


def evaluate(
    nlp: Language, data_dir: Path | str, split: str = "test", langs=("nob", "nno"), doc_size: int = 10
) -> dict[str, dict]:
    """Scores per language on the UD ``split`` files (``sents_f_paragraphs``: sentence F when
    paragraphs start on a new line)."""
    results = {}
    for lang in langs:
        results[lang] = score(nlp, gold_docs(nlp, data_dir, lang, split, doc_size))
        paragraphs = gold_docs(nlp, data_dir, lang, split, doc_size, layout="paragraphs")
        results[lang]["sents_f_paragraphs"] = sentence_f(nlp, paragraphs)
    return results
