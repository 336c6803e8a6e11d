"""The multi-label segment classifier with the scikit-learn estimator API."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from qualkit.classify.context import context_texts
from qualkit.classify.features import (
    CharNgramVectorizer,
    KeywordMatcher,
    WordAnalyzer,
    _keyword_vocabulary,
    codebook_examples,
    tokenize,
)

MIN_CV_SCORE = 0.2
"""Below this out-of-fold score (kappa or F1) a code's stacking and tuned threshold are not trusted."""
MIN_ADAPT_SEGMENTS = 20
"""Fewest segments :meth:`SegmentClassifier.adapt_thresholds` sets thresholds from."""
ADAPT_BELOW_CODED = 300
"""With fewer human-coded segments than this, thresholds are set for the corpus (``adapt_thresholds``);
with more, cross-validation on them is trusted. On the dev gold, adapting helped with 25–200 coded segments
(chosen by active learning or at random), was neutral at 400, and cost 0.015 macro-F1 with ~460 segments of
three whole reports and no demo gold (measured before ``nb_view``; with it, adapting at ~460 segments gained
0.005 macro-F1 without the demo gold and 0.019 α with it; the limit has not been re-tuned)."""


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
    context:
        Let the second stage weigh the first-stage scores of a segment's neighbours in its document (themes
        run in stretches). Used when ``X`` is a table with ``previous_text`` and ``next_text`` (see
        :func:`~qualkit.classify.context.add_context`); a model fitted with context that is given plain
        texts treats every segment as having no neighbours.
    stack_codes:
        Let the second stage of each code see the text scores of the other codes (codes depend on each
        other: a paragraph scored high on no theme at all is rarely about organisering either).
    nb_view:
        The first-stage text score of a code is the mean of two logistic regressions: one on the features,
        one on the features scaled by their naive-Bayes log-count ratios for that code (NBSVM, Wang & Manning
        2012: words that separate the code get a head start, which helps with few examples). On the dev gold
        (leave-one-report-out) the pair ranks better than the plain regression (mean AUC 0.910 against 0.903)
        and, unlike the scaled one alone (0.911), keeps organisering (AUC 0.858 against 0.845; α 0.404 against
        0.248 with cross-validated thresholds). Fitting takes about 60 % longer. ``False``: the plain one only.
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
        context: bool = True,
        stack_codes: bool = True,
        nb_view: bool = True,
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
        self.context = context
        self.stack_codes = stack_codes
        self.nb_view = nb_view
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
        context = context_texts(X) if self.context else None
        self.context_ = context is not None
        neighbours = self._neighbours(features[: len(texts)], texts, context) if context else None
        oof, oof_context = self._out_of_fold(features, all_Y, all_w, len(texts), groups, neighbours)
        self._fit_second_stage(oof, hits[: len(texts)], Y, weights, oof_context)
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

    def _neighbours(self, features: sp.csr_matrix, texts: list[str],
                    context: tuple[list[str | None], list[str | None]]) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Features of every row and of neighbour texts not among the rows, with the row of each segment's
        previous and next text in that matrix (its own row where it has no neighbour)."""
        row_of: dict[str, int] = {}
        for i, text in enumerate(texts):
            row_of.setdefault(text, i)
        new: list[str] = []

        def locate(text: str | None, own: int) -> int:
            if text is None:
                return own
            if text not in row_of:
                row_of[text] = len(texts) + len(new)
                new.append(text)
            return row_of[text]

        previous = np.array([locate(t, i) for i, t in enumerate(context[0])], dtype=int)
        following = np.array([locate(t, i) for i, t in enumerate(context[1])], dtype=int)
        if new:
            features = sp.vstack([features, self._featurise(new)[0]], format="csr")
        return features, previous, following

    def _keyword_block(self, hits: np.ndarray) -> sp.csr_matrix:
        dense = np.hstack([np.log1p(hits), (hits > 0).astype(float)]) * float(self.keyword_weight)
        return sp.csr_matrix(dense)

    def _fit_one(self, features: sp.csr_matrix, y: np.ndarray, weights: np.ndarray):
        if y.min() == y.max():  # a code never (or always) seen: a constant score
            return float(y[0])
        plain = _fit_linear(self.C, features, y, weights)
        if not self.nb_view:
            return plain
        ratios = _log_count_ratios(features, y, weights)
        return _MeanScore([plain, _ScaledModel(ratios, _fit_linear(self.C, _scale(features, ratios), y, weights))])

    def _out_of_fold(self, features, Y, weights, n_real: int, groups, neighbours=None):
        """Out-of-fold first-stage scores of the real rows (codebook texts are in every training fold), and of
        their neighbours (by the same fold's model: a document's segments share a fold) when given."""
        self.splits_ = _splits(n_real, groups, self.cv, self.random_state)
        if self.splits_ is None:
            return None, None
        extra = np.arange(n_real, features.shape[0])
        k = len(self.classes_)
        oof = np.zeros((n_real, k))
        context = (np.zeros((n_real, k)), np.zeros((n_real, k))) if neighbours is not None else None
        for train, test in self.splits_:
            rows = np.concatenate([train, extra])
            for j in range(k):
                model = self._fit_one(features[rows], Y[rows, j], weights[rows])
                oof[test, j] = _decision(model, features[test])
                if neighbours is not None:
                    matrix, previous, following = neighbours
                    context[0][test, j] = _decision(model, matrix[previous[test]])
                    context[1][test, j] = _decision(model, matrix[following[test]])
        return oof, context

    def _fit_second_stage(self, oof, hits, Y, weights, context=None) -> None:
        """Per code: combine the text score with keyword evidence (stacking), calibrate, tune a threshold.

        The second stage is a small logistic regression on the out-of-fold text score, the keyword hits and
        their density, so that it learns how much to trust each kind of evidence across documents; its own
        out-of-fold probabilities give the threshold. Codes with too few examples, or whose out-of-fold
        score stays below ``MIN_CV_SCORE``, keep the first stage and the threshold 0.5 (weak evidence). With
        ``context`` (the neighbours' out-of-fold scores), their scores are second-stage features too.
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
            meta = self._meta(oof, hits, j, context)
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

    def _meta(self, scores: np.ndarray, hits: np.ndarray, j: int, context=None) -> np.ndarray:
        """Second-stage features for code ``j``: text score, log hits, any hit, hits per 100 words, the other
        codes' text scores (``stack_codes``), and the previous and next segments' text scores when the model
        uses context."""
        columns = [scores[:, j]]
        if self.stack_codes and scores.shape[1] > 1:
            columns.append(np.delete(scores, j, axis=1))
        if self.stack_keywords and "keywords" in self.vectorizers_:
            density = 100 * hits[:, j] / np.maximum(hits[:, -1], 20)
            columns += [np.log1p(hits[:, j]), hits[:, j] > 0, np.log1p(density)]
        if getattr(self, "context_", False):
            previous, following = context if context is not None else (scores, scores)
            columns += [previous[:, j], following[:, j]]
        return np.column_stack(columns)

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
        return self._scores(self._featurise(texts)[0])

    def _scores(self, features) -> np.ndarray:
        return np.column_stack([_decision(model, features) for model in self.estimators_])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probability per code, shape (n, n_codes), columns in the order of ``classes_``."""
        check_is_fitted(self, "estimators_")
        with threadpool_limits(1):
            return self._predict_parts(X)[1]

    def _predict_parts(self, X: Any) -> tuple[sp.csr_matrix, np.ndarray]:
        """The feature matrix and the calibrated probabilities of ``X`` (used by active learning too)."""
        texts, _ = _texts_and_groups(X)
        features, hits = self._featurise(texts)
        scores = self._scores(features)
        context = None
        neighbour_texts = context_texts(X) if getattr(self, "context_", False) else None
        if neighbour_texts is not None:
            matrix, previous, following = self._neighbours(features, texts, neighbour_texts)
            extra = self._scores(matrix[len(texts):]) if matrix.shape[0] > len(texts) else scores[:0]
            every = np.vstack([scores, extra])
            context = (every[previous], every[following])
        probs = self._probabilities(scores, hits, context)
        prior = getattr(self, "prior_", None)
        if prior is not None:
            probs = self.prior_share_ * prior.predict_proba(X) + (1 - self.prior_share_) * probs
        return features, probs

    def _probabilities(self, scores: np.ndarray, hits: np.ndarray, context=None) -> np.ndarray:
        """Second stage where it is trusted, else the sigmoid of the first-stage score."""
        probs = _sigmoid(scores)
        for j, stacker in enumerate(self.stackers_):
            if stacker is not None:
                probs[:, j] = stacker.predict_proba(self._meta(scores, hits, j, context))[:, 1]
        return probs

    def adapt_thresholds(self, X: Any, min_segments: int = MIN_ADAPT_SEGMENTS) -> SegmentClassifier:
        """Set each calibrated code's threshold for coding the segments ``X`` (plug-in rule).

        Thresholds tuned on out-of-fold scores need many coded segments that look like the corpus; with a
        few dozen segments chosen by active learning (the uncertain ones, not a random sample) they are
        noise. The calibrated probabilities of the *uncoded* corpus say more: taking them as soft labels, the
        expected kappa (or F1, see ``threshold_metric``) of every cut-off can be computed, and the best one
        is used. Codes on weak evidence (no calibrated second stage, here or in a blended prior) keep their
        threshold, and so does everything when ``X`` has fewer than ``min_segments`` segments. Returns ``self``.
        """
        check_is_fitted(self, "estimators_")
        if _n_rows(X) < min_segments:
            return self
        probs = self.predict_proba(X)
        prior = getattr(self, "prior_", None)
        for j, stacker in enumerate(self.stackers_):
            if stacker is None and (prior is None or prior.stackers_[j] is None):
                continue
            threshold = _expected_best_threshold(probs[:, j], self.threshold_metric)
            if threshold is not None:
                self.thresholds_[j] = threshold
        self.evidence_["threshold"] = self.thresholds_
        self.thresholds_adapted_to_ = _n_rows(X)
        self.__dict__.pop("version_", None)  # the thresholds are part of the model's version (coder name)
        return self

    def blend_prior(self, prior: SegmentClassifier, share: float) -> SegmentClassifier:
        """Mix a fitted ``prior`` model's probabilities into this model's: ``share * prior + (1 - share) * own``.

        For a model trained on a user's codings when a stronger model exists that was trained on material the
        user does not have (the default codebook's shipped model, trained on reference codings of report
        paragraphs): retraining cannot include that material, so its model is kept as a prior whose share
        shrinks as the user's codings grow (see :func:`qualkit.classify.prior_share`). The thresholds become the
        same mix of the two models' thresholds, a starting point: set them for the corpus being coded
        (:meth:`adapt_thresholds`). Returns ``self``.
        """
        check_is_fitted(self, "estimators_")
        check_is_fitted(prior, "estimators_")
        if list(prior.classes_) != list(self.classes_):
            raise ValueError(f"the prior model codes {list(prior.classes_)}, this model {list(self.classes_)}")
        if not 0 <= share <= 1:
            raise ValueError(f"share must be between 0 and 1, not {share}")
        self.prior_ = prior
        self.prior_share_ = float(share)
        self.thresholds_ = share * np.asarray(prior.thresholds_) + (1 - share) * np.asarray(self.thresholds_)
        self.evidence_ = self.evidence_.copy()
        self.evidence_["threshold"] = self.thresholds_
        self.evidence_["weak_evidence"] &= prior.evidence_["weak_evidence"].to_numpy()  # weak only if both are
        self.__dict__.pop("version_", None)
        return self

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
        # liblinear shuffles the coordinates it updates: a fixed seed makes a rebuilt model the same model
        return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=300,
                                  random_state=0)
    epochs = int(np.clip(40_000 / max(n, 1), 5, 15))
    return SGDClassifier(loss="log_loss", alpha=1.0 / (C * max(n, 1)), class_weight="balanced", max_iter=epochs,
                         tol=None, average=True, random_state=0)


def _fit_linear(C: float, features, y: np.ndarray, weights: np.ndarray) -> LogisticRegression | SGDClassifier:
    model = _linear_model(C, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, y, sample_weight=weights)
    return model


def _log_count_ratios(features: sp.csr_matrix, y: np.ndarray, weights: np.ndarray, smoothing: float = 1.0):
    """Naive-Bayes log-count ratio of each feature for a 0/1 label: log of (share of the positives' feature
    occurrences) / (share of the negatives'), counting presence, with add-``smoothing``."""
    present = (features != 0).astype(np.float64)
    positive = np.asarray(present.T @ (weights * (y == 1))).ravel() + smoothing
    negative = np.asarray(present.T @ (weights * (y == 0))).ravel() + smoothing
    return np.log((positive / positive.sum()) / (negative / negative.sum()))


def _scale(features, ratios: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix(features) @ sp.diags(ratios)


class _ScaledModel:
    """A linear model fitted on features scaled column-wise by ``ratios``."""

    def __init__(self, ratios: np.ndarray, model: LogisticRegression | SGDClassifier):
        self.ratios = ratios
        self.model = model

    @property
    def coef_(self) -> np.ndarray:
        return self.model.coef_ * self.ratios  # the weights on the unscaled features

    def decision_function(self, features) -> np.ndarray:
        return self.model.decision_function(_scale(features, self.ratios))


class _MeanScore:
    """The mean decision score of several linear models of one code."""

    def __init__(self, models: list):
        self.models = models

    @property
    def coef_(self) -> np.ndarray:
        return np.mean([m.coef_ for m in self.models], axis=0)

    def decision_function(self, features) -> np.ndarray:
        return np.mean([m.decision_function(features) for m in self.models], axis=0)


def _fit_stacker(meta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> LogisticRegression:
    # the log keyword counts are unscaled: lbfgs can need more than its default 100 iterations
    return LogisticRegression(C=1.0, max_iter=1000).fit(meta, y, sample_weight=weights)


def _best_threshold(probs: np.ndarray, y: np.ndarray, metric: str) -> tuple[float, float]:
    """The threshold that maximises F1 (or kappa), smoothed over neighbouring thresholds."""
    grid = np.linspace(0.05, 0.95, 91)
    values = np.array([_metric(y, probs >= t, metric) for t in grid])
    smooth = np.convolve(values, np.ones(5) / 5, mode="same")
    best = int(np.argmax(smooth))
    return float(grid[best]), float(values[best])


def _expected_best_threshold(probs: np.ndarray, metric: str) -> float | None:
    """The cut-off that maximises the expected kappa (or F1) when ``probs`` are taken as soft labels.

    Cutting after the k highest probabilities, the expected true positives are the sum of those k
    probabilities and the expected positives the sum of all; ``None`` when no cut-off beats coding nothing.
    """
    ranked = np.sort(np.asarray(probs, dtype=float))[::-1]
    n, positives = len(ranked), ranked.sum()
    if n == 0 or positives <= 0:
        return None
    k = np.arange(1, n + 1)
    tp = np.cumsum(ranked)
    if metric == "kappa":
        true_negatives = (n - k) - (positives - tp)
        observed = (tp + true_negatives) / n
        expected = (k * positives + (n - k) * (n - positives)) / n**2
        values = np.where(expected < 1, (observed - expected) / np.maximum(1 - expected, 1e-12), 0.0)
    else:
        values = 2 * tp / (k + positives)
    best = int(np.argmax(values))
    return float(ranked[best]) if values[best] > 0 else None


def _n_rows(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


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
