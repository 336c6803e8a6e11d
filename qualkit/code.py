"""Coders: turn segments into codings. All coders share one interface.

A coder has a ``name`` (the coder's name in agreement tables, e.g. ``keywords:boligsosialt@1.0``) and a method
``code(segments) -> DataFrame`` that returns, for the segment table's index, a 0/1 column per code and a
``<code>_score`` column in [0, 1]. :func:`apply_coder` joins that onto the segment table.

The :class:`KeywordCoder` matches the codebook's keyword patterns against lemmas, word forms and compound parts,
so that ``utleieboligene`` counts for *bolig* while ``midlertidig`` never counts as *midler* and ``Husbanken``
never counts as a dwelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
import pandas as pd

from qualkit.codebook import Code, Codebook

_WORD = re.compile(r"[\wæøåÆØÅ]+(?:-[\wæøåÆØÅ]+)*")


class Coder(Protocol):
    """What every coder offers: a name and ``code(segments)``."""

    name: str

    def code(self, segments: pd.DataFrame) -> pd.DataFrame: ...


@dataclass(frozen=True)
class _Token:
    form: str
    lemma: str
    parts: tuple[str, ...]


class _Matcher:
    """Compiled keyword patterns of one code."""

    def __init__(self, code: Code):
        keywords, parts, not_keywords = code_patterns(code)
        words = [k for k in keywords if " " not in k]
        self.exact = {k for k in words if not k.endswith("*")}
        self.prefixes = tuple(k[:-1] for k in words if k.endswith("*"))
        self.phrases = [_phrase_regex(k) for k in keywords if " " in k]
        self.parts = set(parts)
        self.blocked_exact = {k for k in not_keywords if not k.endswith("*")}
        self.blocked_prefixes = tuple(k[:-1] for k in not_keywords if k.endswith("*"))

    def _matches(self, word: str) -> bool:
        return word in self.exact or (bool(self.prefixes) and word.startswith(self.prefixes))

    def _blocked(self, word: str) -> bool:
        return word in self.blocked_exact or (bool(self.blocked_prefixes) and word.startswith(self.blocked_prefixes))

    def hits(self, tokens: Sequence[_Token], lowered_text: str, lemma_text: str) -> list[str]:
        """The keyword evidence in one segment: the words (or phrases) that matched."""
        found = []
        for token in tokens:
            if self._blocked(token.form) or self._blocked(token.lemma):
                continue
            if self._matches(token.lemma) or self._matches(token.form):
                found.append(token.form)
            elif len(token.parts) > 1 and any(part in self.parts for part in token.parts):
                found.append(token.form)
        for regex in self.phrases:
            if regex.search(lowered_text) or regex.search(lemma_text):
                found.append(regex.pattern)
        return found


def code_patterns(code: Code) -> tuple[list[str], list[str], list[str]]:
    """The keyword patterns, compound parts and trap words that count for ``code``: its own, then those of its
    sub-codes (at any depth), which are evidence for their parent too.

    A sub-code's keyword or part that the code's patterns already match (``privatøkonomi*`` under a code with the
    part ``økonomi``, ``økonomisk veiledning`` under ``økonomisk*``) is not added again: it would count the same
    word twice. Trap words are pooled: a word that only looks like a sub-theme does not belong to the theme.
    """
    keywords, parts, traps = list(code.keywords), list(code.parts), list(code.not_keywords)
    for sub in descendants(code):
        for pattern in sub.keywords:
            if not _covered(pattern, keywords, parts):
                keywords.append(pattern)
        for part in sub.parts:
            if not _covered(part, keywords, parts):
                parts.append(part)
        traps.extend(t for t in sub.not_keywords if t not in traps)
    return keywords, parts, traps


def descendants(code: Code) -> list[Code]:
    out: list[Code] = []
    for sub in getattr(code, "subcodes", None) or []:
        out.append(sub)
        out.extend(descendants(sub))
    return out


def _covered(pattern: str, keywords: list[str], parts: list[str]) -> bool:
    """Whether ``keywords``/``parts`` already match the word(s) of ``pattern`` (any word, for a phrase)."""
    if pattern in keywords or pattern in parts:
        return True
    exact = {k for k in keywords if " " not in k and not k.endswith("*")}
    prefixes = tuple(k[:-1] for k in keywords if " " not in k and k.endswith("*"))
    for word in pattern.replace("*", "").split():
        if word in exact or (prefixes and word.startswith(prefixes)):
            return True
        if any(word.endswith(part) and len(word) > len(part) for part in parts):
            return True
    return False


def _phrase_regex(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


class KeywordCoder:
    """Codes a segment with every code whose keyword patterns occur in it (lemmas, forms, compound parts).

    The score grows with the number of distinct matching words: ``hits / (hits + 1)``, so one hit gives 0.5
    and codes the segment (``threshold`` = 0.5 by default). A code's sub-codes' keywords count for it
    (:func:`code_patterns`); with ``subcodes=True`` the sub-codes get columns of their own as well.

    >>> from qualkit.codebook import load_codebook
    >>> coder = KeywordCoder(load_codebook())
    >>> coder.predict(["Vi mangler kommunale utleieboliger."])[0].tolist()
    [1, 0, 0, 0, 0]
    """

    def __init__(self, codebook: Codebook, nlp=None, threshold: float = 0.5, subcodes: bool = False):
        self.codebook = codebook
        self.nlp = nlp
        self.threshold = threshold
        self.subcodes = subcodes
        codes = codebook.all_codes() if subcodes else codebook.codes
        self.code_names = [code.name for code in codes]
        self._matchers = [_Matcher(code) for code in codes]
        self.name = f"keywords:{codebook.name}@{codebook.version}"

    # -- the coder interface -------------------------------------------------------------------------------
    def code(self, segments: pd.DataFrame) -> pd.DataFrame:
        scores = self.predict_proba(segments["text"].tolist())
        return scores_to_codings(scores, self.code_names, segments.index, self.threshold)

    # -- scikit-learn-like helpers -------------------------------------------------------------------------
    def keyword_hits(self, texts: Iterable[str]) -> np.ndarray:
        """Number of distinct matching words per text and code, shape (n_texts, n_codes)."""
        evidence = self.evidence(texts)
        return np.array([[len(set(hits)) for hits in row] for row in evidence], dtype=float).reshape(
            -1, len(self.code_names)
        )

    def evidence(self, texts: Iterable[str]) -> list[list[list[str]]]:
        """The matching words per text and code (to show a user why a segment was coded)."""
        texts = list(texts)
        out = []
        for text, tokens in zip(texts, self._analyse(texts), strict=True):
            lowered = text.lower()
            lemma_text = " ".join(t.lemma for t in tokens)
            out.append([matcher.hits(tokens, lowered, lemma_text) for matcher in self._matchers])
        return out

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        hits = self.keyword_hits(texts)
        return hits / (hits + 1.0)

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        return (self.predict_proba(texts) >= self.threshold).astype(int)

    def _analyse(self, texts: list[str]) -> list[list[_Token]]:
        nlp = self.nlp
        if nlp is None:
            from qualkit.nlp import load

            nlp = self.nlp = load()
        from qualkit.segment import pipeline_pieces

        keep = {"tok2vec", "morphologizer", "tagger", "attribute_ruler", "lemmatizer", "trainable_lemmatizer"}
        disabled = [name for name in nlp.pipe_names if name not in keep]
        # a text longer than the pipeline takes (spaCy refuses it) is analysed in pieces cut at line breaks
        owners, pieces = [], []
        for owner, text in enumerate(texts):
            for start, end in pipeline_pieces(text, 0, len(text), nlp.max_length):
                owners.append(owner)
                pieces.append(text[start:end])
        analysed: list[list[_Token]] = [[] for _ in texts]
        with nlp.select_pipes(disable=disabled):
            for owner, doc in zip(owners, nlp.pipe(pieces, batch_size=64), strict=True):
                analysed[owner].extend(
                    _token(t.lower_, (t.lemma_ or t.text).lower()) for t in doc if not (t.is_punct or t.is_space)
                )
        return analysed


@lru_cache(maxsize=200_000)
def _token(form: str, lemma: str) -> _Token:
    return _Token(form, lemma, _compound_parts(lemma))


def _compound_parts(word: str) -> tuple[str, ...]:
    try:
        from qualkit.compounds import split_compound
    except ImportError:  # compound analysis not available: no parts beyond the word itself
        return (word,)
    return tuple(split_compound(word))


def scores_to_codings(scores: np.ndarray, code_names: Sequence[str], index: pd.Index, threshold) -> pd.DataFrame:
    """Turn a score matrix into the tidy coding columns: ``<code>`` (0/1) then ``<code>_score`` per code."""
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (len(code_names),))
    columns = {}
    for j, name in enumerate(code_names):
        columns[name] = (scores[:, j] >= thresholds[j]).astype(int)
    for j, name in enumerate(code_names):
        columns[f"{name}_score"] = np.round(scores[:, j].astype(float), 4)
    return pd.DataFrame(columns, index=index)


def apply_coder(segments: pd.DataFrame, coder: Coder) -> pd.DataFrame:
    """The segment table with the coder's code and score columns (replacing earlier ones of the same names)."""
    codings = coder.code(segments)
    base = segments.drop(columns=[c for c in codings.columns if c in segments.columns])
    return pd.concat([base, codings], axis=1)
