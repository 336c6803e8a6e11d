"""Classifier-assisted coding: a multi-label segment classifier with the scikit-learn estimator API.

:class:`SegmentClassifier` gives one calibrated score per code of a codebook. It is built for speed (train and
predict on 10,000 segments in seconds, no spaCy in the hot path) and for generalising across documents:

- features: TF-IDF over cheaply normalised words (a light Norwegian suffix stemmer), compound parts and
  character n-grams, plus codebook keyword features (lemma patterns with ``*`` prefix wildcards, compound
  ``parts`` and ``not_keywords`` traps) that act as a strong prior for rare codes;
- models: one class-balanced logistic regression per code (liblinear, or averaged SGD on large data),
  combined with the keyword evidence by a small calibrated second-stage logistic regression (stacking);
- thresholds: one per code, tuned on the same out-of-fold scores, with folds grouped by document;
- the codebook itself (definitions, inclusion rules, examples and near misses) is training material too,
  which is what makes a cold start (:func:`default_classifier`) possible.

Example::

    from qualkit.codebook import load_codebook
    from qualkit.classify import train_classifier, ClassifierCoder

    codebook = load_codebook()
    model = train_classifier(texts, Y, codebook)        # Y: (n, n_codes) 0/1
    scores = model.predict_proba(["Kommunen mangler midler til bostøtte."])
    coded = ClassifierCoder(model).code(segments)     # <code> and <code>_score columns

Models are saved with :func:`save_model` (joblib, with the codebook fingerprint and qualkit version) and
reloaded with :func:`load_model`, which refuses a mismatched codebook or qualkit version. Only load model
files you trust: joblib files can run code when loaded.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GroupKFold, KFold
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import qualkit
from qualkit.errors import ModelError, QualkitError

MODEL_FORMAT = 1

_CODE_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def resolve_code(name: str, code_names: Sequence[str]) -> str | None:
    """The codebook's name for ``name``: exact, case-insensitive, or with æ/ø/å spelt ae/o/a (økonomi)."""
    if name in code_names:
        return name
    wanted = str(name).strip().lower().translate(_CODE_FOLD)
    for code in code_names:
        if code.lower().translate(_CODE_FOLD) == wanted:
            return code
    return None

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
        indptr, indices = [0], []
        for text in texts:
            for word in _tokens(text):
                index = words.get(word)
                if index is None:
                    if not grow:
                        continue
                    index = words[word] = len(words)
                indices.append(index)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(words)))

    def _word_ngram_matrix(self, words: list[str], grams: dict[str, int], grow: bool) -> sp.csr_matrix:
        indptr, indices = [0], []
        for word in words:
            for gram in self._ngrams(word):
                index = grams.get(gram)
                if index is None:
                    if not grow:
                        continue
                    index = grams[gram] = len(grams)
                indices.append(index)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(words), len(grams)))

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
    """

    def __init__(self, codebook: Any):
        self.code_names = list(codebook.code_names)
        self._rules = [self._compile(code) for code in codebook.codes]
        self._phrases = _phrase_regex([rule["phrases"] for rule in self._rules])
        self._token_hits: dict[str, np.ndarray] = {}

    @staticmethod
    def _compile(code: Any) -> dict[str, Any]:
        prefixes, words, phrases = [], set(), []
        for pattern in code.keywords:
            pattern = normalise_text(pattern).strip()
            if " " in pattern:
                phrases.append(tuple(pattern.split()))
            elif pattern.endswith("*"):
                prefixes.append(pattern.rstrip("*"))
            else:
                words.add(stem(pattern))
        traps_prefix = [p.rstrip("*") for p in code.not_keywords if p.endswith("*")]
        traps = {normalise_text(p) for p in code.not_keywords if not p.endswith("*")}
        return {
            "prefixes": tuple(prefixes),
            "stems": words,
            "phrases": phrases,
            "parts": tuple(normalise_text(p) for p in code.parts),
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

MIN_CV_SCORE = 0.2
"""Below this out-of-fold score (kappa or F1) a code's stacking and tuned threshold are not trusted."""


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
    seen every keyword.
    """
    names = list(codebook.code_names)
    texts: list[str] = []
    rows: list[np.ndarray] = []

    def add(text: str, code_index: int, value: int) -> None:
        if text and text.strip():
            label = np.zeros(len(names), dtype=int)
            label[code_index] = value
            texts.append(text.strip())
            rows.append(label)

    for j, code in enumerate(codebook.codes):
        add(f"{code.label}. {code.definition}", j, 1)
        for rule in code.include:
            add(rule, j, 1)
        for example in code.examples:
            add(getattr(example, "tekst", str(example)), j, int(getattr(example, "gjelder", True)))
        keywords = [k.rstrip("*") for k in code.keywords] + list(code.parts)
        if keywords:
            add(" ".join(keywords), j, 1)
    labels = np.array(rows, dtype=int).reshape(len(rows), len(names))
    return texts, labels


def _keyword_vocabulary(codebook: Any) -> set[str]:
    vocabulary: set[str] = set()
    if codebook is None:
        return vocabulary
    for code in codebook.codes:
        for pattern in [*code.keywords, *code.parts]:
            for word in normalise_text(pattern).replace("*", "").split():
                if len(word) >= 3:
                    vocabulary.add(stem(word))
                    vocabulary.add(word)
    return vocabulary


# ---------------------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------------------


class SegmentClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label segment classifier: one calibrated score and one tuned threshold per code.

    Parameters
    ----------
    codebook:
        The :class:`~qualkit.codebook.Codebook`. It names the codes (columns of ``y``), gives the keyword
        features and, with ``codebook_weight > 0``, adds its definitions and examples to the training data.
        ``None`` trains on ``y`` alone (codes ``0..k-1`` or the columns of a DataFrame ``y``).
    C:
        Inverse regularisation strength of the per-code logistic regressions.
    char_ngrams:
        Range of character n-grams (within word boundaries); ``None`` leaves them out.
    word_bigrams:
        Add bigrams of word stems to the word features.
    keyword_weight:
        Scale of the codebook keyword features (0 leaves them out). Larger means a stronger prior.
    codebook_weight:
        Sample weight of the texts made from the codebook (0 leaves them out).
    cv:
        Folds for the out-of-fold scores that calibrate and set thresholds (grouped by document when
        ``groups`` or a ``document`` column is given). Codes with fewer than ``min_positives`` positives
        keep the threshold 0.5 on uncalibrated scores.
    threshold_metric:
        ``"kappa"`` (default: agreement with the human coders, which is what alpha measures) or ``"f1"``:
        what the per-code threshold maximises on out-of-fold scores.
    min_positives:
        Positive examples a code needs before its threshold is tuned; fewer marks it as weak evidence.
    max_features:
        Cap on the character n-gram vocabulary (keeps the model small and fast).
    """

    def __init__(
        self,
        codebook: Any = None,
        C: float = 4.0,
        char_ngrams: tuple[int, int] | None = (3, 5),
        word_bigrams: bool = True,
        keyword_weight: float = 1.0,
        codebook_weight: float = 1.0,
        cv: int = 4,
        threshold_metric: str = "kappa",
        min_positives: int = 8,
        max_features: int | None = 150_000,
        fold: bool = True,
        stack_keywords: bool = True,
        min_group_df: int = 2,
        random_state: int | None = 0,
    ):
        self.codebook = codebook
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_bigrams = word_bigrams
        self.keyword_weight = keyword_weight
        self.codebook_weight = codebook_weight
        self.cv = cv
        self.threshold_metric = threshold_metric
        self.min_positives = min_positives
        self.max_features = max_features
        self.fold = fold
        self.stack_keywords = stack_keywords
        self.min_group_df = min_group_df
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, groups: Sequence | None = None, sample_weight: Sequence | None = None):
        """Fit on texts ``X`` (sequence of str, or DataFrame with ``text``) and 0/1 labels ``y``.

        ``y`` is an (n, n_codes) 0/1 array or a DataFrame with one column per code. ``groups`` (e.g. the
        document of each segment) keeps a document's segments in one fold when tuning thresholds; when ``X``
        is a DataFrame with a ``document`` column and ``groups`` is None, that column is used.
        """
        with threadpool_limits(1):  # tiny BLAS calls: threads only oversubscribe the cores
            return self._fit(X, y, groups, sample_weight)

    def _fit(self, X: Any, y: Any, groups: Sequence | None, sample_weight: Sequence | None):
        texts, frame_groups = _texts_and_groups(X)
        groups = frame_groups if groups is None else np.asarray(groups)
        if groups is not None and len(groups) != len(texts):
            raise ValueError(f"groups has {len(groups)} entries but X has {len(texts)} texts")
        self.classes_ = self._code_names(y)
        Y = _indicator(y, self.classes_, n_rows=len(texts))
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        extra_texts, extra_Y = self._codebook_material()
        all_texts = texts + extra_texts
        all_Y = np.vstack([Y, extra_Y]) if len(extra_texts) else Y
        all_w = np.concatenate([weights, np.full(len(extra_texts), float(self.codebook_weight))])
        self.vectorizers_ = self._make_vectorizers()
        features, hits = self._featurise(all_texts, fit=True)
        self.feature_mask_ = self._shared_features(features, groups, len(texts))
        if self.feature_mask_ is not None:
            features = features[:, self.feature_mask_]
        self.estimators_ = [self._fit_one(features, all_Y[:, j], all_w) for j in range(len(self.classes_))]
        oof = self._out_of_fold(features, all_Y, all_w, len(texts), groups)
        self._fit_second_stage(oof, hits[: len(texts)], Y, weights, groups)
        self.evidence_ = self._evidence(Y, len(extra_texts))
        return self

    def _code_names(self, y: Any) -> list[str]:
        if self.codebook is not None:
            return list(self.codebook.code_names)
        if isinstance(y, pd.DataFrame):
            return [str(c) for c in y.columns]
        return [str(j) for j in range(np.asarray(y).shape[1])]

    def _codebook_material(self) -> tuple[list[str], np.ndarray]:
        if self.codebook is None or not self.codebook_weight:
            return [], np.zeros((0, len(self.classes_)), dtype=int)
        return codebook_examples(self.codebook)

    def _make_vectorizers(self) -> dict[str, Any]:
        vectorizers: dict[str, Any] = {
            "word": TfidfVectorizer(
                analyzer=WordAnalyzer(_keyword_vocabulary(self.codebook), bigrams=self.word_bigrams),
                sublinear_tf=True,
                min_df=1,
                dtype=np.float32,
            )
        }
        if self.char_ngrams:
            vectorizers["char"] = CharNgramVectorizer(
                ngram_range=tuple(self.char_ngrams), min_df=2, max_features=self.max_features, fold=self.fold
            )
        if self.codebook is not None and self.keyword_weight:
            vectorizers["keywords"] = KeywordMatcher(self.codebook)
        return vectorizers

    def _featurise(self, texts: list[str], fit: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
        """The feature matrix and the keyword evidence (hits per code, then the token count)."""
        blocks = []
        texts = [tokenize(text) for text in texts]
        hits = np.zeros((len(texts), len(self.classes_) + 1))
        for name, vectorizer in self.vectorizers_.items():
            if name == "keywords":
                hits[:, :-1] = vectorizer.hits(texts)
                blocks.append(self._keyword_block(hits[:, :-1]))
            else:
                blocks.append(vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts))
        hits[:, -1] = [len(tokens) for tokens in texts]
        features = sp.hstack(blocks, format="csr", dtype=np.float64)
        if not fit and getattr(self, "feature_mask_", None) is not None:
            features = features[:, self.feature_mask_]
        return features, hits

    def _shared_features(self, features: sp.csr_matrix, groups, n_real: int) -> np.ndarray | None:
        """Columns that occur in at least ``min_group_df`` groups (documents); the codebook counts as one.

        Words that only one document uses (its project names, places, OCR errors) cannot generalise to
        other documents, so they are dropped; this is what makes the model travel across reports.
        """
        if groups is None or self.min_group_df <= 1:
            return None
        groups = np.asarray(groups)
        labels = list(dict.fromkeys(groups))
        if len(labels) < self.min_group_df + 1:
            return None
        present = np.zeros(features.shape[1])
        for label in labels:
            present += features[np.flatnonzero(groups == label)].getnnz(axis=0) > 0
        if features.shape[0] > n_real:
            present += features[n_real:].getnnz(axis=0) > 0
        mask = present >= self.min_group_df
        n_keywords = 2 * len(self.classes_) if "keywords" in self.vectorizers_ else 0
        if n_keywords:
            mask[-n_keywords:] = True
        return np.flatnonzero(mask)

    def _keyword_block(self, hits: np.ndarray) -> sp.csr_matrix:
        dense = np.hstack([np.log1p(hits), (hits > 0).astype(float)]) * float(self.keyword_weight)
        return sp.csr_matrix(dense)

    def _fit_one(self, features: sp.csr_matrix, y: np.ndarray, weights: np.ndarray):
        if y.min() == y.max():  # a code never (or always) seen: a constant score
            return float(y[0])
        model = _linear_model(self.C, len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, y, sample_weight=weights)
        return model

    def _out_of_fold(self, features, Y, weights, n_real: int, groups) -> np.ndarray | None:
        """Out-of-fold first-stage scores of the real rows (codebook texts are in every training fold)."""
        self.splits_ = _splits(n_real, groups, self.cv, self.random_state)
        if self.splits_ is None:
            return None
        extra = np.arange(n_real, features.shape[0])
        oof = np.zeros((n_real, len(self.classes_)))
        for train, test in self.splits_:
            rows = np.concatenate([train, extra])
            for j in range(len(self.classes_)):
                model = self._fit_one(features[rows], Y[rows, j], weights[rows])
                oof[test, j] = _decision(model, features[test])
        return oof

    def _fit_second_stage(self, oof, hits, Y, weights, groups) -> None:
        """Per code: combine the text score with keyword evidence (stacking), calibrate, tune a threshold.

        The second stage is a small logistic regression on the out-of-fold text score, the keyword hits and
        their density, so that it learns how much to trust each kind of evidence across documents; its own
        out-of-fold probabilities give the threshold. Codes with too few examples, or whose out-of-fold
        score stays below ``MIN_CV_SCORE``, keep the first stage and the threshold 0.5 (weak evidence).
        """
        k = len(self.classes_)
        self.stackers_: list[LogisticRegression | None] = [None] * k
        self.thresholds_ = np.full(k, 0.5)
        self.cv_scores_ = np.full(k, np.nan)
        if oof is None:
            return
        for j in range(k):
            y = Y[:, j]
            if y.sum() < self.min_positives or (len(y) - y.sum()) < self.min_positives:
                continue
            meta = self._meta(oof, hits, j)
            probs = np.zeros(len(y))
            for train, test in self.splits_:
                if y[train].min() == y[train].max():
                    probs[test] = y[train][0]
                    continue
                probs[test] = _fit_stacker(meta[train], y[train], weights[train]).predict_proba(meta[test])[:, 1]
            threshold, score = _best_threshold(probs, y, self.threshold_metric)
            self.cv_scores_[j] = score
            if score >= MIN_CV_SCORE:  # else the tuned threshold is noise: keep the first stage at 0.5
                self.stackers_[j] = _fit_stacker(meta, y, weights)
                self.thresholds_[j] = threshold

    def _meta(self, scores: np.ndarray, hits: np.ndarray, j: int) -> np.ndarray:
        """Second-stage features for code ``j``: text score, log hits, any hit, hits per 100 words."""
        if not self.stack_keywords or "keywords" not in self.vectorizers_:
            return scores[:, [j]]
        density = 100 * hits[:, j] / np.maximum(hits[:, -1], 20)
        own = [scores[:, j], np.log1p(hits[:, j]), hits[:, j] > 0, np.log1p(density)]
        return np.column_stack(own)

    def _evidence(self, Y: np.ndarray, n_codebook: int) -> pd.DataFrame:
        positives = Y.sum(axis=0).astype(int)
        frame = pd.DataFrame(
            {
                "positives": positives,
                "segments": len(Y),
                "codebook_texts": n_codebook,
                "cv_score": self.cv_scores_,
                "threshold": self.thresholds_,
            },
            index=pd.Index(self.classes_, name="code"),
        )
        weak = (frame["positives"] < self.min_positives) | (frame["cv_score"].fillna(0) < 0.5)
        frame["weak_evidence"] = weak
        return frame

    # -- prediction ----------------------------------------------------------------------------------------

    def decision_function(self, X: Any) -> np.ndarray:
        """First-stage (text model) scores, shape (n, n_codes)."""
        check_is_fitted(self, "estimators_")
        texts, _ = _texts_and_groups(X)
        return self._scores(*self._featurise(texts))[0]

    def _scores(self, features, hits) -> tuple[np.ndarray, np.ndarray]:
        scores = np.column_stack([_decision(model, features) for model in self.estimators_])
        return scores, hits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probability per code, shape (n, n_codes), columns in the order of ``classes_``."""
        check_is_fitted(self, "estimators_")
        texts, _ = _texts_and_groups(X)
        with threadpool_limits(1):
            return self._probabilities(*self._scores(*self._featurise(texts)))

    def _probabilities(self, scores: np.ndarray, hits: np.ndarray) -> np.ndarray:
        """Second stage where it is trusted, else the sigmoid of the first-stage score."""
        probs = _sigmoid(scores)
        for j, stacker in enumerate(self.stackers_):
            if stacker is not None:
                probs[:, j] = stacker.predict_proba(self._meta(scores, hits, j))[:, 1]
        return probs

    def predict(self, X: Any) -> np.ndarray:
        """0/1 per code, shape (n, n_codes), using the per-code thresholds."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Macro-F1 over codes (the figure the benchmark reports)."""
        from sklearn.metrics import f1_score

        Y = _indicator(y, self.classes_, n_rows=len(_texts_and_groups(X)[0]))
        return float(f1_score(Y, self.predict(X), average="macro", zero_division=0))

    @property
    def weak_codes_(self) -> list[str]:
        """Codes whose model rests on weak evidence (few positives or a poor cross-validated score)."""
        check_is_fitted(self, "evidence_")
        return [str(c) for c in self.evidence_.index[self.evidence_["weak_evidence"]]]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


# ---------------------------------------------------------------------------------------------------------
# helpers for the estimator
# ---------------------------------------------------------------------------------------------------------


def _texts_and_groups(X: Any) -> tuple[list[str], np.ndarray | None]:
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError("a DataFrame given to SegmentClassifier needs a 'text' column")
        groups = X["document"].to_numpy() if "document" in X.columns else None
        return [str(t) for t in X["text"].fillna("")], groups
    if isinstance(X, str):
        raise ValueError("X must be a sequence of texts, not a single string")
    if isinstance(X, pd.Series):
        return [str(t) for t in X.fillna("")], None
    texts = list(X)
    if texts and not all(isinstance(t, str) for t in texts):
        raise ValueError("X must contain texts (str)")
    return texts, None


def _indicator(y: Any, codes: list[str], n_rows: int) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        missing = [c for c in codes if c not in y.columns]
        if missing:
            raise ValueError(f"y lacks columns for the codes {missing}")
        Y = y[codes].to_numpy()
    else:
        Y = np.asarray(y)
    if Y.ndim != 2 or Y.shape[1] != len(codes):
        raise ValueError(f"y must have shape (n_samples, {len(codes)}): one 0/1 column per code {codes}")
    if Y.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} texts but y has {Y.shape[0]} rows")
    if not np.isin(Y, (0, 1)).all():
        raise ValueError("y must contain only 0 and 1")
    return Y.astype(int)


def _splits(n: int, groups, cv: int, random_state) -> list | None:
    if n < 2 * max(cv, 2) or cv < 2:
        return None
    if groups is not None:
        n_groups = len(set(groups))
        if n_groups >= 2:
            return list(GroupKFold(n_splits=min(cv, n_groups)).split(np.zeros(n), groups=groups))
    return list(KFold(n_splits=cv, shuffle=True, random_state=random_state).split(np.zeros(n)))


def _decision(model: Any, features) -> np.ndarray:
    if isinstance(model, float):
        return np.full(features.shape[0], 10.0 if model else -10.0)
    return model.decision_function(features)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


EXACT_SOLVER_MAX_ROWS = 1500
"""Up to this many training rows the per-code models are solved exactly (liblinear); above, by SGD."""


def _linear_model(C: float, n: int) -> LogisticRegression | SGDClassifier:
    """Class-balanced logistic regression for one code.

    liblinear (dual) while that is cheap; averaged SGD for large data, where liblinear's time grows fast
    on long, redundant material (5-20 times slower at 10,000 segments) while SGD's cost per epoch is fixed.
    ``alpha = 1 / (C n)`` matches the regularisation of ``LogisticRegression(C)``; the number of epochs
    shrinks from 15 to 5 as the data grows.
    """
    if n <= EXACT_SOLVER_MAX_ROWS:
        return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=300)
    epochs = int(np.clip(40_000 / max(n, 1), 5, 15))
    return SGDClassifier(loss="log_loss", alpha=1.0 / (C * max(n, 1)), class_weight="balanced", max_iter=epochs,
                         tol=None, average=True, random_state=0)


def _fit_stacker(meta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=1.0).fit(meta, y, sample_weight=weights)


def _best_threshold(probs: np.ndarray, y: np.ndarray, metric: str) -> tuple[float, float]:
    """The threshold that maximises F1 (or kappa), smoothed over neighbouring thresholds."""
    grid = np.linspace(0.05, 0.95, 91)
    values = np.array([_metric(y, probs >= t, metric) for t in grid])
    smooth = np.convolve(values, np.ones(5) / 5, mode="same")
    best = int(np.argmax(smooth))
    return float(grid[best]), float(values[best])


def _metric(y: np.ndarray, pred: np.ndarray, metric: str) -> float:
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    if metric == "kappa":
        n = len(y)
        tn = n - tp - fp - fn
        po = (tp + tn) / n
        pe = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / n**2
        return (po - pe) / (1 - pe) if pe < 1 else 0.0
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


# ---------------------------------------------------------------------------------------------------------
# Public API: train, default (cold-start) model, coder, persistence, labels
# ---------------------------------------------------------------------------------------------------------


class LabelsError(QualkitError, ValueError):
    """A labels file (``text``/``segment_id`` + ``codes``) that cannot be used for training."""


def train_classifier(texts: Any, Y: Any, codebook: Any, groups: Sequence | None = None,
                     **params: Any) -> SegmentClassifier:
    """Train a :class:`SegmentClassifier` on coded texts plus the codebook.

    ``texts``: sequence of str or a segment table (``text``, optionally ``document`` for grouped folds);
    ``Y``: (n, n_codes) 0/1 in the order of ``codebook.code_names`` or a DataFrame with those columns;
    ``params``: estimator parameters (``C``, ``keyword_weight``, ...).

    >>> model = train_classifier(["Vi mangler boliger."] * 3, [[1, 0, 0, 0, 0]] * 3, load_codebook())
    """
    with threadpool_limits(1):
        return SegmentClassifier(codebook=codebook, **params).fit(texts, Y, groups=groups)


def demo_gold_paths(root: str | Path | None = None) -> list[Path]:
    """The coded demo material shipped for the default codebook (``corpora/demo/gold*.jsonl``)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parent.parent / "corpora" / "demo"
    return sorted(root.glob("gold*.jsonl")) if root.is_dir() else []


def read_gold_jsonl(paths: Iterable[str | Path], codebook: Any) -> pd.DataFrame:
    """Coded units from JSON-lines gold files (``text``, ``codes`` and optionally ``document``).

    Returns a table with ``document``, ``text`` and one 0/1 column per code; code names are matched with
    :func:`resolve_code` (so ``okonomi`` and ``økonomi`` are the same code), unknown names raise.
    """
    import json

    names = list(codebook.code_names)
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                row = {"document": str(record.get("document", record.get("report", Path(path).stem))),
                       "text": str(record["text"])}
                row.update(dict.fromkeys(names, 0))
                for code in record.get("codes") or []:
                    resolved = resolve_code(code, names)
                    if resolved is None:
                        raise LabelsError(f"{path}, line {number}: unknown code {code!r}; "
                                          f"the codebook has {', '.join(names)}")
                    row[resolved] = 1
                rows.append(row)
    return pd.DataFrame(rows, columns=["document", "text", *names])


def default_classifier(codebook: Any = None, cache: bool = True, **params: Any) -> SegmentClassifier:
    """The cold-start model for a codebook: trained on the codebook itself plus any shipped demo gold.

    Before any human coding exists, the codebook's definitions, inclusion rules, examples and keywords
    seed the model; for the default codebook the coded demo corpus (``corpora/demo/gold*.jsonl``) is
    added. The model is built on first use (a few seconds) and cached under ``QUALKIT_CACHE`` (default
    ``~/.cache/qualkit/models``), keyed by codebook fingerprint, qualkit version and the demo gold's
    content. ``model.evidence_`` / ``model.weak_codes_`` say which codes rest on weak evidence.
    """
    from qualkit.codebook import DEFAULT_CODEBOOK, load_codebook

    codebook = codebook if codebook is not None else load_codebook()
    paths = demo_gold_paths() if _is_default_codebook(codebook, DEFAULT_CODEBOOK) else []
    key = _cache_key(codebook, paths, params)
    cache_path = _cache_dir() / f"{codebook.name}-{key}.joblib"
    if cache and cache_path.exists():
        try:
            return load_model(cache_path, codebook)
        except (ModelError, Exception):  # a stale or broken cache entry: rebuild it
            pass
    gold = read_gold_jsonl(paths, codebook) if paths else pd.DataFrame(columns=["document", "text"])
    if len(gold):
        model = train_classifier(gold, gold[codebook.code_names], codebook, **params)
    else:
        model = train_classifier([], np.zeros((0, len(codebook.code_names)), dtype=int), codebook, **params)
    model.training_sources_ = {"codebook": codebook.name, "demo_gold": [p.name for p in paths]}
    if cache:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            save_model(model, cache_path)
        except OSError:
            pass
    return model


def weak_evidence_message(model: SegmentClassifier) -> str | None:
    """One line for the user naming the codes that rest on weak evidence, or None when there are none.

    A code is weak when it had fewer than ``min_positives`` coded examples or its cross-validated score
    (kappa by default) stayed below 0.5; its codings should be checked by a person first.
    """
    check_is_fitted(model, "evidence_")
    weak = model.evidence_[model.evidence_["weak_evidence"]]
    if weak.empty:
        return None
    parts = []
    for code, row in weak.iterrows():
        score = "" if np.isnan(row["cv_score"]) else f", cv {model.threshold_metric} {row['cv_score']:.2f}"
        parts.append(f"{code} ({int(row['positives'])} coded examples{score})")
    return "weak evidence (check these codes first): " + "; ".join(parts)


def _is_default_codebook(codebook: Any, default_path: Path) -> bool:
    try:
        from qualkit.codebook import load_codebook

        return default_path.exists() and load_codebook(default_path).fingerprint == codebook.fingerprint
    except Exception:
        return False


def _cache_dir() -> Path:
    import os

    return Path(os.environ.get("QUALKIT_CACHE", Path.home() / ".cache" / "qualkit")) / "models"


def _cache_key(codebook: Any, paths: list[Path], params: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{codebook.fingerprint}|{qualkit.__version__}|{MODEL_FORMAT}|{sorted(params.items())}".encode())
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class ClassifierCoder:
    """A coder backed by a :class:`SegmentClassifier`, with the interface of the keyword coder.

    Its codings are those of a named coder, ``model:<name>@<version>``, so that they can be compared with
    human coders in :mod:`qualkit.agree` like any other coder.

    >>> coder = ClassifierCoder(default_classifier())
    >>> coded = coder.code(segments)     # columns bolig, bolig_score, tjenester, ...
    """

    def __init__(self, model: SegmentClassifier, name: str | None = None):
        check_is_fitted(model, "estimators_")
        self.model = model
        self.codebook = model.codebook
        base = name or (model.codebook.name if model.codebook is not None else "classifier")
        self.name = f"model:{base}@{model_version(model)}"

    @property
    def code_names(self) -> list[str]:
        return list(self.model.classes_)

    def predict_proba(self, texts: Any) -> np.ndarray:
        """Calibrated score per code, shape (n, n_codes)."""
        with threadpool_limits(1):
            return self.model.predict_proba(texts)

    def code(self, segments: pd.DataFrame) -> pd.DataFrame:
        """Code a segment table: same index, ``<code>`` (0/1) and ``<code>_score`` for each code."""
        if "text" not in segments.columns:
            raise ValueError("the segment table needs a 'text' column")
        probs = self.predict_proba(segments["text"].fillna("").astype(str).tolist())
        out = pd.DataFrame(index=segments.index)
        for j, code in enumerate(self.code_names):
            out[code] = (probs[:, j] >= self.model.thresholds_[j]).astype(int)
            out[f"{code}_score"] = probs[:, j].astype(float)
        return out


def model_version(model: SegmentClassifier) -> str:
    """A short, stable identifier of a trained model (qualkit version + hash of what it learned)."""
    check_is_fitted(model, "estimators_")
    cached = getattr(model, "version_", None)
    if cached:
        return cached
    digest = hashlib.sha256()
    digest.update(repr(sorted(model.get_params(deep=False).items(), key=lambda kv: kv[0])).encode())
    digest.update(np.asarray(model.thresholds_).tobytes())
    for estimator in model.estimators_:
        if not isinstance(estimator, float):
            digest.update(np.asarray(estimator.coef_, dtype=np.float32).tobytes())
    model.version_ = f"{qualkit.__version__}-{digest.hexdigest()[:8]}"
    return model.version_


def save_model(model: SegmentClassifier, path: str | Path) -> Path:
    """Save a trained model with what :func:`load_model` checks: format, qualkit version, codebook."""
    check_is_fitted(model, "estimators_")
    path = Path(path)
    codebook = model.codebook
    payload = {
        "format": MODEL_FORMAT,
        "qualkit_version": qualkit.__version__,
        "codebook_name": getattr(codebook, "name", None),
        "codebook_fingerprint": getattr(codebook, "fingerprint", None),
        "codes": list(model.classes_),
        "version": model_version(model),
        "model": model,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(payload, path, compress=3)
    return path


def load_model(path: str | Path, codebook: Any = None) -> SegmentClassifier:
    """Load a model saved by :func:`save_model`; refuse another codebook or qualkit version.

    Raises :class:`~qualkit.errors.ModelError` with the reason and the fix. Only load files you trust.
    """
    path = Path(path)
    try:
        payload = joblib.load(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: model file not found") from None
    except Exception as error:
        raise ModelError(f"{path}: not a qualkit model file ({error.__class__.__name__}: {error})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT or "model" not in payload:
        raise ModelError(f"{path}: not a qualkit model file of format {MODEL_FORMAT}; retrain and save it again")
    if payload["qualkit_version"] != qualkit.__version__:
        raise ModelError(
            f"{path}: model was saved by qualkit {payload['qualkit_version']}, this is qualkit "
            f"{qualkit.__version__}; retrain it with this version (qualkit code --train ...)"
        )
    if codebook is not None and payload["codebook_fingerprint"] != codebook.fingerprint:
        raise ModelError(
            f"{path}: model was trained on codebook {payload['codebook_name']!r} "
            f"(fingerprint {payload['codebook_fingerprint']}), not on codebook {codebook.name!r} "
            f"(fingerprint {codebook.fingerprint}); retrain it on this codebook"
        )
    return payload["model"]


def read_labels(path: str | Path, segments: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    """Read a labels CSV (``text`` or ``segment_id``, and ``codes``) and match it to the segment table.

    ``codes`` holds code names separated by ``;`` (empty for none). Rows are matched by ``segment_id``
    when that column exists, else by exact text, then by whitespace-normalised text. Returns one row per
    label row: ``line`` (in the file), ``segment_id`` and ``document`` (None if unmatched), ``text`` and one
    0/1 column per code; ``result.attrs["unmatched"]`` lists the lines that matched no segment (a warning
    says how many). Text rows that match no segment can still be trained on; segment_id rows cannot.

    Raises :class:`LabelsError` naming the file, line and code for an unknown code name.

    >>> labels = read_labels("labels.csv", segments, codebook)
    >>> model = train_classifier(labels[["document", "text"]].fillna("labels"), labels[codebook.code_names],
    ...                          codebook)
    """
    path = Path(path)
    names = list(codebook.code_names)
    records = _read_label_rows(path)
    by_id, by_text, by_norm = _segment_lookups(segments)
    rows, unmatched = [], []
    for line, record in records:
        codes = _parse_codes(record.get("codes", ""), names, path, line)
        if record.get("segment_id", "").strip():
            match = by_id.get(record["segment_id"].strip())
            text = match[1] if match else record.get("text", "")
        else:
            text = record.get("text", "")
            match = by_text.get(text) or by_norm.get(_squash(text))
        if match is None:
            unmatched.append(line)
        rows.append({"line": line, "segment_id": match[0] if match else None,
                     "document": match[2] if match else None, "text": text,
                     **{code: int(code in codes) for code in names}})
    result = pd.DataFrame(rows, columns=["line", "segment_id", "document", "text", *names])
    result.attrs["unmatched"] = unmatched
    if unmatched:
        shown = ", ".join(str(n) for n in unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
        warnings.warn(f"{path}: {len(unmatched)} of {len(rows)} label rows match no segment (lines {shown})",
                      stacklevel=2)
    return result


def _read_label_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise LabelsError(f"{path}: labels file not found") from None
    with handle:
        header = handle.readline()
        handle.seek(0)
        delimiter = _header_delimiter(header)
        reader = csv.DictReader(handle, delimiter=delimiter)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "codes" not in fields or not ({"text", "segment_id"} & set(fields)):
            raise LabelsError(f"{path}, line 1: the header needs 'codes' and 'text' or 'segment_id' "
                              f"(found: {', '.join(fields) or 'nothing'})")
        reader.fieldnames = fields
        rows, line = [], 1
        for record in reader:
            rows.append((line + 1, {k: (v or "") for k, v in record.items() if k is not None}))
            line = reader.line_num
        return rows


def _header_delimiter(header: str) -> str:
    """The delimiter that makes the header name the ``codes`` column (``,``, ``;`` or tab).

    Decided from the header alone: the ``codes`` column itself holds ``;``-separated names, which would
    mislead a sniffer looking at the data rows.
    """
    for delimiter in (",", "\t", ";"):
        if "codes" in [field.strip().strip('"') for field in header.split(delimiter)]:
            return delimiter
    return ","


def _parse_codes(value: str, names: list[str], path: Path, line: int) -> set[str]:
    codes = set()
    for raw in str(value or "").replace(",", ";").split(";"):
        if not raw.strip():
            continue
        code = resolve_code(raw.strip(), names)
        if code is None:
            raise LabelsError(f"{path}, line {line}: unknown code {raw.strip()!r}; "
                              f"the codebook has {', '.join(names)}")
        codes.add(code)
    return codes


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _segment_lookups(segments: pd.DataFrame) -> tuple[dict, dict, dict]:
    """segment_id, exact text and whitespace-normalised text → (segment_id, text, document)."""
    ids = segments["segment_id"].astype(str) if "segment_id" in segments.columns else segments.index.astype(str)
    texts = segments["text"].fillna("").astype(str) if "text" in segments.columns else pd.Series("", index=ids)
    documents = segments["document"].astype(str) if "document" in segments.columns else pd.Series(None, index=ids)
    by_id, by_text, by_norm = {}, {}, {}
    for sid, text, document in zip(ids, texts, documents, strict=True):
        entry = (sid, text, document)
        by_id.setdefault(sid, entry)
        by_text.setdefault(text, entry)
        by_norm.setdefault(_squash(text), entry)
    return by_id, by_text, by_norm
