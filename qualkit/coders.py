"""Choosing a coder for the main job: the keyword coder, the default model, a saved model, or a model trained
on a labels file. The CLI and :mod:`qualkit.pipeline` call :func:`make_coder` once the segments exist, because
labels given by ``segment_id`` are matched against them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from qualkit.classify.context import CONTEXT_COLUMNS, add_context, has_context
from qualkit.classify.estimator import ADAPT_BELOW_CODED, MIN_ADAPT_SEGMENTS
from qualkit.code import Coder, KeywordCoder
from qualkit.codebook import Codebook

CODERS = ("model", "keywords")


def make_coder(
    codebook: Codebook,
    segments: pd.DataFrame,
    kind: str = "model",
    train: str | Path | None = None,
    model: str | Path | None = None,
    nlp=None,
) -> tuple[Coder, list[str]]:
    """The coder to use and messages for the user (weak evidence, unmatched label rows).

    - ``train``: a labels CSV (``text``/``segment_id`` and ``codes``); a classifier is trained on it plus the
      codebook (and, for the default codebook, the coded demo corpus, blended with the shipped model).
    - ``model``: a model saved with ``qualkit train``; refused when it was trained on another codebook.
    - otherwise ``kind``: ``model`` (the default model for the codebook) or ``keywords``.
    """
    from qualkit import classify

    messages: list[str] = []
    if kind not in CODERS:
        raise ValueError(f"coder must be one of {', '.join(CODERS)}, not {kind!r}")
    if train is not None:
        trained, messages = train_from_labels(codebook, segments, train)
        estimator = trained
    elif model is not None:
        estimator = classify.load_model(model, codebook)
        if getattr(estimator, "prior_", None) is not None and set_thresholds_for(estimator, segments):
            messages.append(f"{model}: blended with the shipped default model; thresholds set for these "
                            f"{len(segments)} segments from their scores")
    elif kind == "keywords":
        return KeywordCoder(codebook, nlp=nlp), messages
    else:
        estimator = classify.default_classifier(codebook)
        if set_thresholds_for(estimator, segments):
            messages.append(f"default model: thresholds set for these {len(segments)} segments from their scores "
                            "(no coded segments of yours yet)")
    weak = classify.weak_evidence_message(estimator)
    if weak:
        messages.append(weak)
    return classify.ClassifierCoder(estimator), messages


def train_from_labels(codebook: Codebook, segments: pd.DataFrame, labels_path: str | Path):
    """Train a classifier on a labels file matched to ``segments`` (plus the codebook and shipped gold).

    For the default codebook the model is then blended with the shipped default model
    (:meth:`~qualkit.classify.SegmentClassifier.blend_prior`, share :func:`~qualkit.classify.prior_share`): that
    model has learnt from reference codings that retraining cannot include. With fewer than
    ``ADAPT_BELOW_CODED`` (300) labelled segments, or a blended model, the thresholds are then set for coding
    ``segments`` from the calibrated scores of its uncoded segments
    (:meth:`~qualkit.classify.SegmentClassifier.adapt_thresholds`): so few labels, often chosen by
    ``qualkit suggest`` for being uncertain, make cross-validated thresholds noise, and cross-validated
    thresholds do not fit a blend.
    """
    from qualkit import classify

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = classify.read_labels(labels_path, segments, codebook)
    messages = [str(w.message) for w in caught]
    usable = labels[labels["text"].fillna("").str.strip() != ""]
    if usable.empty:
        raise classify.LabelsError(f"{labels_path}: no label row with a text or a matching segment_id")
    extra = _shipped_gold(codebook)
    columns = ["document", "text", *CONTEXT_COLUMNS]
    texts = pd.concat([usable[columns].fillna({"document": "labels"}), extra[columns]], ignore_index=True)
    Y = pd.concat([usable[codebook.code_names], extra[codebook.code_names]], ignore_index=True)
    model = classify.train_classifier(texts, Y, codebook)
    messages.append(f"trained on {len(usable)} labelled segments from {labels_path}"
                    + (f" and {len(extra)} coded demo segments" if len(extra) else ""))
    prior = classify.shipped_model(codebook)
    coded = set(labels["segment_id"].dropna().astype(str)) - {""} if "segment_id" in labels else set()
    fit_to_corpus(model, segments, len(usable), coded, prior=prior)
    if prior is not None:
        messages.append(f"blended with the shipped default model (its share {model.prior_share_:.2f}; it shrinks "
                        "as you code more)")
    return model, messages


def fit_to_corpus(model, segments: pd.DataFrame, n_coded: int, coded: set[str] | frozenset[str] = frozenset(),
                  prior=None, adapt: bool = True) -> None:
    """Make a model just trained on ``n_coded`` of a user's segments ready to code ``segments``.

    With a ``prior`` (the shipped model of the default codebook) it is blended in with share
    :func:`~qualkit.classify.prior_share` (``n_coded``). Then, when ``adapt`` and fewer than ``ADAPT_BELOW_CODED``
    segments are coded or a prior is blended in, the thresholds are set for the segments not in ``coded``
    (:func:`set_thresholds_for`). Used by :func:`train_from_labels` and ``ActiveLearner.retrain``.
    """
    from qualkit.classify import prior_share

    if prior is not None:
        model.blend_prior(prior, prior_share(n_coded))
    if adapt and (n_coded < ADAPT_BELOW_CODED or prior is not None):
        set_thresholds_for(model, segments, coded)


def set_thresholds_for(model, segments: pd.DataFrame, coded: set[str] | frozenset[str] = frozenset()) -> bool:
    """Set ``model``'s thresholds for coding ``segments`` from the scores of those not in ``coded`` (segment ids,
    or index labels as strings when the table has no ``segment_id``).

    Used for models that rest on fewer than ``ADAPT_BELOW_CODED`` of the user's coded segments or on none at all
    (the default model), and for models blended with the shipped model: their cross-validated thresholds were
    tuned on material that may read quite differently (short focus-group turns against long report
    paragraphs), or do not fit the blend; see :meth:`~qualkit.classify.SegmentClassifier.adapt_thresholds`.
    The segments are scored with their neighbours, as when they are coded. Returns whether there were enough
    segments to set them.
    """
    table = segments if has_context(segments) else add_context(segments)
    ids = table["segment_id"].astype(str) if "segment_id" in table else pd.Series(table.index.astype(str))
    uncoded = table[~ids.isin(set(coded)).to_numpy()]
    model.adapt_thresholds(uncoded)
    return len(uncoded) >= MIN_ADAPT_SEGMENTS


def _shipped_gold(codebook: Codebook) -> pd.DataFrame:
    """The coded demo corpus, when the codebook is qualkit's default (it was coded with that codebook)."""
    from qualkit import classify
    from qualkit.codebook import DEFAULT_CODEBOOK, load_codebook

    empty = pd.DataFrame(columns=["document", "text", *CONTEXT_COLUMNS, *codebook.code_names])
    try:
        if load_codebook(DEFAULT_CODEBOOK).fingerprint != codebook.fingerprint:
            return empty
    except Exception:  # no default codebook beside the package: nothing shipped to add
        return empty
    paths = classify.demo_gold_paths()
    return add_context(classify.read_gold_jsonl(paths, codebook)) if paths else empty
