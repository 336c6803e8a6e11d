"""Training, the cold-start default model, persistence with version checks, and the classifier as a coder."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import qualkit
from qualkit.classify.context import CONTEXT_COLUMNS, add_context, has_context
from qualkit.classify.estimator import SegmentClassifier
from qualkit.classify.labels import LabelsError, demo_gold_paths, read_gold_jsonl
from qualkit.errors import ModelError

MODEL_FORMAT = 3
"""Bumped whenever a fitted model's attributes change (2: neighbour context and stacked code scores; 3: the
naive-Bayes-scaled second view of each code's text score)."""
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "data" / "models" / "boligsosialt-default.joblib"
"""The default codebook's pre-trained default model (built by ``qualkit build-default-model``)."""
PRIOR_SEGMENTS = 200
"""How many coded segments the shipped model counts for when it is blended with a model trained on a user's
codings (:func:`prior_share`)."""

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

def default_classifier(codebook: Any = None, cache: bool = True, shipped: bool = True,
                       **params: Any) -> SegmentClassifier:
    """The cold-start model for a codebook: trained on the codebook itself plus any shipped coded material.

    Before any human coding exists, the codebook's definitions, inclusion rules, examples and keywords
    seed the model. For the default codebook qualkit ships a pre-trained model (:func:`shipped_model`) that
    has also learnt from the coded demo corpus and from reference codings of report paragraphs; that is what
    this returns (``shipped=False`` or estimator ``params`` skip it). Otherwise the model is built on first
    use (a few seconds) from the codebook plus, for the default codebook, the coded demo corpus
    (``corpora/demo/gold*.jsonl``), and cached under ``QUALKIT_CACHE`` (default ``~/.cache/qualkit/models``),
    keyed by codebook fingerprint, qualkit version and the demo gold's content. ``model.evidence_`` /
    ``model.weak_codes_`` say which codes rest on weak evidence.
    """
    from qualkit.codebook import DEFAULT_CODEBOOK, load_codebook

    codebook = codebook if codebook is not None else load_codebook()
    is_default = _is_default_codebook(codebook, DEFAULT_CODEBOOK)
    if shipped and is_default and not params:
        model = shipped_model(codebook)
        if model is not None:
            return model
    paths = demo_gold_paths() if is_default else []
    key = _cache_key(codebook, paths, params)
    cache_path = _cache_dir() / f"{codebook.name}-{key}.joblib"
    if cache and cache_path.exists():
        try:
            return load_model(cache_path, codebook)
        except (ModelError, Exception):  # a stale or broken cache entry: rebuild it
            pass
    gold = add_context(read_gold_jsonl(paths, codebook)) if paths else pd.DataFrame(columns=["document", "text"])
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


def shipped_model(codebook: Any = None, path: str | Path | None = None) -> SegmentClassifier | None:
    """The default codebook's pre-trained model, or None when ``codebook`` is another codebook.

    It is trained on the codebook, the coded demo corpus and reference codings of report paragraphs (two
    independent coders plus adjudication) that qualkit may not redistribute as text, so it cannot be rebuilt
    on a user's machine; see ``qualkit/data/models/README.md``. When the file was made by another qualkit or
    scikit-learn version, or is missing, a warning says so and None is returned (callers then build a model
    from the codebook and the demo corpus, which codes report text less well). ``path``: another model file
    (default :data:`SHIPPED_MODEL`).
    """
    from qualkit.codebook import DEFAULT_CODEBOOK, load_codebook

    codebook = codebook if codebook is not None else load_codebook()
    if not _is_default_codebook(codebook, DEFAULT_CODEBOOK):
        return None
    path = Path(path) if path is not None else SHIPPED_MODEL
    reason = None
    if not path.exists():
        reason = "it is not installed"
    else:
        try:
            payload = _load_payload(path, codebook)
        except ModelError as error:
            reason = str(error)
        else:
            built_with = payload.get("sklearn_version", "?")
            if _minor(built_with) != _minor(sklearn.__version__):
                reason = f"it was built with scikit-learn {built_with}, this is {sklearn.__version__}"
            else:
                return payload["model"]
    warnings.warn(f"{path}: the shipped default model cannot be used ({reason}); using a model built from the "
                  "codebook and the demo corpus, which codes report text less well", stacklevel=3)
    return None


def prior_share(n_coded: int) -> float:
    """The shipped model's share when blended with a model trained on ``n_coded`` of a user's segments.

    The shipped model counts as ``PRIOR_SEGMENTS`` (200) coded segments: 0.89 after 25 coded segments, 0.67
    after 100, 0.4 after 300. Measured on the dev gold (see ``docs/classify.md``).
    """
    return PRIOR_SEGMENTS / (PRIOR_SEGMENTS + max(int(n_coded), 0))


def reference_recipe(codebook: Any, reference_paths: Sequence[str | Path]) -> str:
    """A fingerprint of what the shipped model is made from: the classifier's code, qualkit's version, the
    codebook, the demo gold and the reference gold files. A shipped model whose recipe differs is stale."""
    digest = hashlib.sha256()
    digest.update(f"{codebook.fingerprint}|{qualkit.__version__}|{MODEL_FORMAT}".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for path in [*demo_gold_paths(), *reference_paths]:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def build_shipped_model(reference_paths: Sequence[str | Path], out: str | Path = SHIPPED_MODEL,
                        codebook: Any = None) -> SegmentClassifier:
    """Train the default codebook's shipped model and save it to ``out``.

    Training material: the codebook, the coded demo corpus and the reference gold files (JSON lines with
    ``text``, ``codes`` and ``report`` or ``document``; paragraphs in document order). Attributes that would
    hold more of the training texts than a vocabulary (scikit-learn's ``stop_words_``) are removed.
    """
    from qualkit.codebook import load_codebook

    codebook = codebook if codebook is not None else load_codebook()
    reference_paths = [Path(p) for p in reference_paths]
    reference = read_gold_jsonl(reference_paths, codebook)
    if reference.empty:
        raise LabelsError(f"{', '.join(map(str, reference_paths))}: no coded units to train the shipped model on")
    demo = read_gold_jsonl(demo_gold_paths(), codebook)
    table = pd.concat([add_context(demo), add_context(reference)], ignore_index=True)
    model = train_classifier(table, table[codebook.code_names], codebook)
    for vectorizer in model.vectorizers_.values():
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    model.training_sources_ = {
        "codebook": codebook.name,
        "demo_gold": [p.name for p in demo_gold_paths()],
        "demo_segments": len(demo),
        "reference_gold": [p.name for p in reference_paths],
        "reference_segments": len(reference),
        # one-way hashes of the paragraphs, so that a benchmark can tell whether it would test on training material
        "reference_text_sha256": sorted({text_digest(text) for text in reference["text"]}),
    }
    save_model(model, out, recipe=reference_recipe(codebook, reference_paths))
    return model


def text_digest(text: str) -> str:
    """SHA-256 of a text with its whitespace normalised (how training paragraphs are recorded in the shipped model)."""
    return hashlib.sha256(" ".join(str(text).split()).encode("utf-8")).hexdigest()


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
    for source in sorted(Path(__file__).parent.glob("*.py")):  # a changed classifier invalidates the cache
        digest.update(source.read_bytes())
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
        """Calibrated score per code, shape (n, n_codes); ``texts`` may be a segment table (with context)."""
        with threadpool_limits(1):
            return self.model.predict_proba(texts)

    def code(self, segments: pd.DataFrame) -> pd.DataFrame:
        """Code a segment table: same index, ``<code>`` (0/1) and ``<code>_score`` for each code.

        Each segment is scored with its neighbours in its document as context (see :func:`add_context`).
        """
        if "text" not in segments.columns:
            raise ValueError("the segment table needs a 'text' column")
        table = segments if has_context(segments) else add_context(segments)
        probs = self.predict_proba(table[["text", *CONTEXT_COLUMNS]].fillna(""))
        columns: dict[str, np.ndarray] = {}
        for j, code in enumerate(self.code_names):
            columns[code] = (probs[:, j] >= self.model.thresholds_[j]).astype(int)
            columns[f"{code}_score"] = probs[:, j].astype(float)
        return pd.DataFrame(columns, index=segments.index)  # at once: a column at a time fragments the frame


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
    prior = getattr(model, "prior_", None)
    if prior is not None:
        digest.update(f"{model_version(prior)}|{model.prior_share_:.6f}".encode())
    model.version_ = f"{qualkit.__version__}-{digest.hexdigest()[:8]}"
    return model.version_


def save_model(model: SegmentClassifier, path: str | Path, recipe: str | None = None) -> Path:
    """Save a trained model with what :func:`load_model` checks: format, qualkit version, codebook.

    Written to a temporary file and renamed, so an existing model file is never left half-written.
    """
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
        "sklearn_version": sklearn.__version__,
        "recipe": recipe,
        "model": model,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        joblib.dump(payload, partial, compress=3)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def load_model(path: str | Path, codebook: Any = None) -> SegmentClassifier:
    """Load a model saved by :func:`save_model`; refuse another codebook or qualkit version.

    Raises :class:`~qualkit.errors.ModelError` with the reason and the fix. Only load files you trust.
    """
    return _load_payload(Path(path), codebook)["model"]


def _load_payload(path: Path, codebook: Any = None) -> dict[str, Any]:
    """The checked payload of a model file (see :func:`load_model`)."""
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
    return payload


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])
