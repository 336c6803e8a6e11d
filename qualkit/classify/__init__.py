"""Classifier-assisted coding: a multi-label segment classifier with the scikit-learn estimator API.

:class:`SegmentClassifier` gives one calibrated score per code of a codebook. It is built for speed (train and
predict on 10,000 segments in seconds, no spaCy in the hot path) and for generalising across documents:

- features: TF-IDF over cheaply normalised words (a light Norwegian suffix stemmer), compound parts and
  character n-grams, plus codebook keyword features (lemma patterns with ``*`` prefix wildcards, compound
  ``parts`` and ``not_keywords`` traps) that act as a strong prior for rare codes;
- models: one class-balanced logistic regression per code (liblinear, or averaged SGD on large data),
  combined by a small calibrated second-stage logistic regression (stacking) with the keyword evidence, the
  other codes' scores and the scores of the segment's neighbours in its document (:func:`add_context`);
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

from qualkit.classify.context import CONTEXT_COLUMNS, add_context
from qualkit.classify.estimator import MIN_CV_SCORE, SegmentClassifier
from qualkit.classify.features import (
    CharNgramVectorizer,
    KeywordMatcher,
    WordAnalyzer,
    codebook_examples,
    fold_text,
    normalise_text,
    stem,
    tokenize,
)
from qualkit.classify.labels import (
    LabelsError,
    code_lookup,
    demo_gold_paths,
    read_gold_jsonl,
    read_labels,
    resolve_code,
)
from qualkit.classify.models import (
    MODEL_FORMAT,
    PRIOR_SEGMENTS,
    SHIPPED_MODEL,
    ClassifierCoder,
    build_shipped_model,
    default_classifier,
    load_model,
    model_version,
    prior_share,
    save_model,
    shipped_model,
    train_classifier,
    weak_evidence_message,
)

__all__ = [
    "CONTEXT_COLUMNS",
    "MIN_CV_SCORE",
    "MODEL_FORMAT",
    "PRIOR_SEGMENTS",
    "SHIPPED_MODEL",
    "CharNgramVectorizer",
    "ClassifierCoder",
    "KeywordMatcher",
    "LabelsError",
    "SegmentClassifier",
    "WordAnalyzer",
    "add_context",
    "build_shipped_model",
    "code_lookup",
    "codebook_examples",
    "default_classifier",
    "demo_gold_paths",
    "fold_text",
    "load_model",
    "model_version",
    "normalise_text",
    "prior_share",
    "read_gold_jsonl",
    "read_labels",
    "resolve_code",
    "save_model",
    "shipped_model",
    "stem",
    "tokenize",
    "train_classifier",
    "weak_evidence_message",
]
