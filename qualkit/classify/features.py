"""Features for the segment classifier: cheap Norwegian normalisation, word and character n-grams, and
codebook keyword evidence (lemma patterns, compound parts, traps)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from qualkit.code import code_patterns, descendants

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

# ---------------------------------------------------------------------------------------------------------
# Cheap normalisation: lower case, a light Norwegian suffix stemmer, hyphen and compound parts
# ---------------------------------------------------------------------------------------------------------

_SUFFIXES = tuple(
    sorted(
        """hetenes hetene hetens heten heter endes ande ende edes enes erne ene ane ens ers ets het ast
        ert en ar er as es et a e""".split(),
        key=len,
        reverse=True,
    )
)
_VOWELS = set("aeiouyæøå")
# OCR-damaged reports lose æ, ø and å ("mal" for "mål", "Tromse" for "Tromsø"): fold them for matching.
_FOLD = str.maketrans({"æ": "a", "ø": "o", "å": "a", "é": "e", "è": "e", "ä": "a", "ö": "o", "ü": "u"})


def normalise_text(text: str) -> str:
    """Lower-case, NFC-normalised text with soft hyphens and line-break hyphens removed."""
    text = str(text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if "\u00ad" in text:
        text = text.replace("\u00ad", "")
    if "-\n" in text or "- \n" in text:
        text = re.sub(r"(\w)-[ \t]*\n\s*(\w)", r"\1\2", text)
    return text.lower()


def fold_text(text: str) -> str:
    """:func:`normalise_text` with æ, ø, å folded to a, o, a (for character n-grams only)."""
    return normalise_text(text).translate(_FOLD)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light Norwegian stemmer (Snowball-like step 1 and 2): ``boligene`` → ``bolig``.

    It strips one inflectional suffix, keeping at least three letters and one vowel in the stem, so that
    ``bolig``, ``boliger`` and ``boligene`` share a feature without a lemma dictionary.
    """
    word = word.lower()
    if len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if _VOWELS & set(base):
                word = base
                break
    else:
        if word.endswith("s") and len(word) > 4 and word[-2] not in _VOWELS | {"s"}:
            word = word[:-1]
    if word.endswith(("dt", "vt")):
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; hyphenated words give the joined word and its parts (``bo-forhold``)."""
    tokens = _WORD.findall(normalise_text(text))
    if not any("-" in token for token in tokens):
        return tokens
    out = []
    for word in tokens:
        if "-" in word:
            out.append(word.replace("-", ""))
            out.extend(part for part in word.split("-") if len(part) > 2)
        else:
            out.append(word)
    return out


def _tokens(doc: str | list[str]) -> list[str]:
    """Tokens of a text, or the list itself when the text was tokenised already."""
    return tokenize(doc) if isinstance(doc, str) else doc


class WordAnalyzer:
    """Callable analyzer for :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.

    Gives stems of the words, the head (last part) of compounds, and word-stem bigrams. Compounds are
    split greedily against ``vocabulary`` (the codebook's keywords and parts, the compounds that matter):
    fast and dependency-free. (``qualkit.compounds.split_compound`` gave the same accuracy on the dev set
    at twice the featurisation time.)
    """

    def __init__(self, vocabulary: Iterable[str] = (), bigrams: bool = True):
        self.vocabulary = frozenset(vocabulary)
        self.bigrams = bigrams
        self._cache: dict[str, tuple[str, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"vocabulary": self.vocabulary, "bigrams": self.bigrams}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def __call__(self, text: str | list[str]) -> list[str]:
        tokens = _tokens(text)
        stems = [stem(token) for token in tokens]
        features = list(stems)
        for word in tokens:
            features.extend(self._parts(word))
        if self.bigrams:
            features.extend(f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False))
        return features

    def _parts(self, word: str) -> tuple[str, ...]:
        cached = self._cache.get(word)
        if cached is None:
            cached = self._cache[word] = tuple(f"@{part}" for part in self._split(word))
        return cached

    def _split(self, word: str) -> list[str]:
        if len(word) < 7:
            return []
        for i in range(3, len(word) - 2):
            head = word[i:]
            if head in self.vocabulary and len(head) >= 3:
                return [head]
        return []


class CharNgramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF over character n-grams within words, computed through the word vocabulary (fast).

    Equivalent to ``TfidfVectorizer(analyzer="char_wb")`` on folded text, but each distinct word is broken
    into n-grams only once: a document's n-gram counts are its word counts times a word × n-gram matrix.
    That makes 10,000 segments a matter of a second or two instead of ten.
    """

    def __init__(self, ngram_range: tuple[int, int] = (3, 5), min_df: int = 2, max_features: int | None = None,
                 fold: bool = True):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.fold = fold

    def _ngrams(self, word: str) -> list[str]:
        padded = f" {word.translate(_FOLD) if self.fold else word} "
        low, high = self.ngram_range
        out = []
        for n in range(low, high + 1):
            if n > len(padded):
                break
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return out

    def _word_counts(self, texts: Iterable[str], words: dict[str, int], grow: bool) -> sp.csr_matrix:
        return _indicator_matrix((_tokens(text) for text in texts), words, grow)

    def _word_ngram_matrix(self, words: list[str], grams: dict[str, int], grow: bool) -> sp.csr_matrix:
        return _indicator_matrix((self._ngrams(word) for word in words), grams, grow)

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        texts = list(texts)
        words: dict[str, int] = {}
        counts = self._word_counts(texts, words, grow=True)
        grams: dict[str, int] = {}
        word_grams = self._word_ngram_matrix(list(words), grams, grow=True)
        doc_grams = (counts @ word_grams).tocsc()
        df = np.diff(doc_grams.indptr)
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(keep) > self.max_features:
            keep = keep[np.argsort(-df[keep], kind="stable")[: self.max_features]]
            keep.sort()
        names = np.array(list(grams), dtype=object)[keep]
        self.vocabulary_ = {gram: i for i, gram in enumerate(names)}
        self.words_ = {word: i for i, word in enumerate(words)}
        self.word_grams_ = word_grams[:, keep].tocsr()
        self.idf_ = np.log((1 + len(texts)) / (1 + df[keep])) + 1.0
        return self._weight(doc_grams[:, keep].tocsr())

    def fit(self, texts: Iterable[str], y: Any = None):
        self.fit_transform(texts)
        return self

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        texts = list(texts)
        words = dict(self.words_)
        counts = self._word_counts(texts, words, grow=True)
        new_words = list(words)[len(self.words_):]
        word_grams = self.word_grams_
        if new_words:
            extra = self._word_ngram_matrix(new_words, dict(self.vocabulary_), grow=False)
            word_grams = sp.vstack([word_grams, extra], format="csr")
        return self._weight((counts @ word_grams).tocsr())

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        counts = counts.astype(np.float64)
        counts.data = 1.0 + np.log(counts.data)
        counts = counts @ sp.diags(self.idf_)
        return normalize(counts).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# Codebook keyword features
# ---------------------------------------------------------------------------------------------------------


class KeywordMatcher:
    """Count codebook keyword hits per code in a text: fast, token-based, with traps and compound parts.

    - ``keywords``: lemma patterns; ``bolig*`` matches any word that starts with ``bolig``; a plain word
      matches the word and its inflections (same stem); several words match as a phrase.
    - ``parts``: compound parts that count at the end of a compound (``utleiebolig`` counts for ``bolig``).
    - ``not_keywords``: trap words that never count (``midlertidig`` is not ``midler``).

    Sub-codes' patterns count for their top-level code (:func:`qualkit.code.code_patterns`).
    """

    def __init__(self, codebook: Any):
        self.code_names = list(codebook.code_names)
        self._rules = [self._compile(code) for code in codebook.codes]
        self._phrases = _phrase_regex([rule["phrases"] for rule in self._rules])
        self._token_hits: dict[str, np.ndarray] = {}

    @staticmethod
    def _compile(code: Any) -> dict[str, Any]:
        keywords, parts, not_keywords = code_patterns(code)
        prefixes, words, phrases = [], set(), []
        for pattern in keywords:
            pattern = normalise_text(pattern).strip()
            if " " in pattern:
                phrases.append(tuple(pattern.split()))
            elif pattern.endswith("*"):
                prefixes.append(pattern.rstrip("*"))
            else:
                words.add(stem(pattern))
        traps_prefix = [p.rstrip("*") for p in not_keywords if p.endswith("*")]
        traps = {normalise_text(p) for p in not_keywords if not p.endswith("*")}
        return {
            "prefixes": tuple(prefixes),
            "stems": words,
            "phrases": phrases,
            "parts": tuple(normalise_text(p) for p in parts),
            "traps": traps | {stem(t) for t in traps},
            "trap_prefixes": tuple(traps_prefix),
        }

    def hits(self, texts: Iterable[str]) -> np.ndarray:
        """Keyword hits per text and code, shape (n_texts, n_codes)."""
        texts = list(texts)
        out = np.zeros((len(texts), len(self._rules)), dtype=np.float64)
        for i, text in enumerate(texts):
            tokens = _tokens(text)
            for token in tokens:
                row = self._token_hits.get(token)
                if row is None:
                    row = self._token_hits[token] = self._match_token(token)
                if row is not _NO_HITS:
                    out[i] += row
            if self._phrases is not None:
                for match in self._phrases.finditer(" " + " ".join(tokens) + " "):
                    out[i, int(match.lastgroup[1:])] += 1
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_token_hits"] = {}
        return state

    def _match_token(self, token: str) -> np.ndarray:
        row = np.array([self._token_counts(token, rule) for rule in self._rules], dtype=np.float64)
        return row if row.any() else _NO_HITS

    @staticmethod
    def _token_counts(token: str, rule: dict[str, Any]) -> int:
        if token in rule["traps"] or (rule["trap_prefixes"] and token.startswith(rule["trap_prefixes"])):
            return 0
        if (rule["prefixes"] and token.startswith(rule["prefixes"])) or stem(token) in rule["stems"]:
            return 1
        return int(bool(rule["parts"]) and _has_part(token, rule["parts"]))


_NO_HITS = np.zeros(0)



def _has_part(token: str, parts: tuple[str, ...]) -> bool:
    """True when a compound ends in one of ``parts`` (with an optional inflectional ending)."""
    if len(token) < 5:
        return False
    base = stem(token)
    return any(base.endswith(part) or token.endswith(part) for part in parts if len(token) > len(part))


def _phrase_regex(phrases_per_code: list[list[tuple[str, ...]]]) -> re.Pattern | None:
    """One regex for all phrases, a named group per code (``c0``, ``c1``, ...); words may be inflected."""
    groups = []
    for j, phrases in enumerate(phrases_per_code):
        if phrases:
            bodies = [r"\s".join(re.escape(word.rstrip("*")) + r"\w*" for word in phrase) for phrase in phrases]
            groups.append(f"(?P<c{j}>{'|'.join(bodies)})")
    return re.compile(r"(?<=\s)(?:" + "|".join(groups) + r")(?=\s)") if groups else None


# ---------------------------------------------------------------------------------------------------------
# The codebook as training material
# ---------------------------------------------------------------------------------------------------------


def codebook_examples(codebook: Any) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels made from the codebook: definition, inclusion rules, (counter-)examples.

    Each positive text is labelled with its own code only; near misses (``gjelder: false``) are negatives
    for their code. Keyword lists are joined into one text per code so that the learned model, too, has
    seen every keyword. A sub-code's definition, inclusion rules and examples are positives for its top-level
    code and its keywords join that code's keyword text (coding stays at the level of the top-level codes); a
    sub-code's near misses are not used, since they may belong to a sibling sub-code. For a codebook of fewer
    than ``NEUTRAL_BELOW_CODES`` (3) codes, where the other codes' texts are too few negatives (with two codes,
    "not bolig" would mean "økonomi"), short turns and notes that fit no theme (:func:`neutral_texts`) are
    added with no code, so that the model can learn "none".
    """
    names = list(codebook.code_names)
    texts: list[str] = []
    rows: list[np.ndarray] = []

    def add(text: str, code_index: int | None, value: int) -> None:
        if text and text.strip():
            label = np.zeros(len(names), dtype=int)
            if code_index is not None:
                label[code_index] = value
            texts.append(text.strip())
            rows.append(label)

    for j, code in enumerate(codebook.codes):
        add(f"{code.label}. {code.definition}", j, 1)
        for rule in code.include:
            add(rule, j, 1)
        for example in code.examples:
            add(getattr(example, "tekst", str(example)), j, int(getattr(example, "gjelder", True)))
        for sub in descendants(code):
            add(f"{sub.label}. {sub.definition}", j, 1)
            for rule in sub.include:
                add(rule, j, 1)
            for example in sub.examples:
                if getattr(example, "gjelder", True):
                    add(getattr(example, "tekst", str(example)), j, 1)
        own_keywords, own_parts, _ = code_patterns(code)
        keywords = [k.rstrip("*") for k in own_keywords] + list(own_parts)
        if keywords:
            add(" ".join(keywords), j, 1)
    for text in neutral_texts(codebook):
        add(text, None, 0)
    labels = np.array(rows, dtype=int).reshape(len(rows), len(names))
    return texts, labels


NEUTRAL_BELOW_CODES = 3
"""Codebooks with fewer codes get :func:`neutral_texts` as training texts with no code. With more, the other
codes' texts are the negatives; the neutral texts were then measured on the default codebook (dev gold,
leave-one-report-out): +0.006 α with thresholds set for the report, but -0.010 α with cross-validated ones."""


def neutral_texts(codebook: Any) -> list[str]:
    """The texts of :data:`~qualkit.classify.neutral.NEUTRAL_TEXTS` that match no keyword of ``codebook``, when it
    has fewer than ``NEUTRAL_BELOW_CODES`` codes (else none)."""
    from qualkit.classify.neutral import NEUTRAL_TEXTS

    if len(codebook.codes) >= NEUTRAL_BELOW_CODES or not NEUTRAL_TEXTS:
        return []
    hits = KeywordMatcher(codebook).hits(NEUTRAL_TEXTS)
    return [text for text, row in zip(NEUTRAL_TEXTS, hits, strict=True) if not row.any()]


def _keyword_vocabulary(codebook: Any) -> set[str]:
    vocabulary: set[str] = set()
    if codebook is None:
        return vocabulary
    for code in codebook.codes:
        keywords, parts, _ = code_patterns(code)
        for pattern in [*keywords, *parts]:
            for word in normalise_text(pattern).replace("*", "").split():
                if len(word) >= 3:
                    vocabulary.add(stem(word))
                    vocabulary.add(word)
    return vocabulary


# ---------------------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------------------


def _indicator_matrix(rows: Iterable[Iterable[str]], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
    """Sparse counts of the items of each row over ``vocabulary``; with ``grow`` new items are added to it."""
    indptr, indices = [0], []
    for items in rows:
        for item in items:
            index = vocabulary.get(item)
            if index is None:
                if not grow:
                    continue
                index = vocabulary[item] = len(vocabulary)
            indices.append(index)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(vocabulary)))
