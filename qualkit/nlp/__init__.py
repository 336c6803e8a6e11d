"""The Norwegian spaCy pipeline: load the best one available.

Resolution order of ``load()``:

1. an installed spaCy package ``nb_core_news_lg``, ``nb_core_news_md`` or ``nb_core_news_sm``;
2. the pipeline bundled with qualkit at ``qualkit/data/pipeline/nb_qualkit_core/`` (trained on
   NDT/NorNE, Bokmål + Nynorsk; see ``qualkit/data/pipeline/README.md``);
3. a rule-based blank ``nb`` pipeline (sentencizer + lookup lemmas), with a warning that says what is
   lost.

The environment variable ``QUALKIT_PIPELINE`` overrides step 2: set it to another pipeline
directory, or to ``blank`` to force step 3 (tests use this to hide the bundled model).
``load(name=...)`` loads exactly one pipeline: a package name, a directory or ``"blank"``.

``load(fast=True)`` / ``load_fast()`` is the batch-segmentation configuration: tokenizer, sentence
boundaries and lemmas only (entities and morphology switched off), roughly twice as fast.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import warnings
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from qualkit.nlp import variety

INSTALLED_PACKAGES = ("nb_core_news_lg", "nb_core_news_md", "nb_core_news_sm")
BUNDLED_PIPELINE = Path(__file__).resolve().parent.parent / "data" / "pipeline" / "nb_qualkit_core"
ENV_VAR = "QUALKIT_PIPELINE"
BLANK = "blank"

BLANK_WARNING = (
    "Using the rule-based blank 'nb' pipeline ({reason}). What is lost: no POS tags or morphology, no "
    "named entities (so no kommune-mention detection), punctuation-based sentence splitting, and "
    "lookup lemmas only (Norsk Ordbank word lists, no disambiguation). Rebuild the bundled pipeline "
    "with `qualkit nlp train --data ../shared/data/norne`."
)

# Components the fast configuration switches off.  What stays on: tokenizer, tok2vec, senter and
# the lemmatizer -- plus, for nb_core_news_* (rule lemmatizer, which needs POS), the morphologizer
# and attribute_ruler.  nb_core_news_* ship their senter disabled; the fast configuration enables it
# instead of the parser.
_FAST_DISABLE = ("ner", "parser")
_FAST_DISABLE_IF_TRAINABLE_LEMMATIZER = ("morphologizer", "tagger", "attribute_ruler")


def load(name: str | os.PathLike | None = None, *, disable: Iterable[str] = (), fast: bool = False) -> Language:
    """Return the best Norwegian pipeline available (cached per configuration).

    name: ``None`` for the resolution order above, else a package name, a pipeline directory or
    ``"blank"``.  disable: component names to disable.  fast: the batch-segmentation configuration.
    """
    spec = _resolve(name)
    return _load_cached(spec, tuple(sorted(disable)), fast)


def load_fast(name: str | os.PathLike | None = None) -> Language:
    """The fast batch-segmentation configuration: tokenizer + sentences + lemmas."""
    return load(name, fast=True)


def clear_cache() -> None:
    """Forget loaded pipelines (tests that change ``QUALKIT_PIPELINE`` call this)."""
    _load_cached.cache_clear()


def _resolve(name: str | os.PathLike | None) -> tuple[str, str]:
    """(source, spec): source is ``installed``, ``bundled``, ``path`` (explicit directory),
    ``blank`` (requested) or ``fallback`` (nothing trained found)."""
    if name is not None:
        name = str(name)
        if name == BLANK:
            return BLANK, BLANK
        if Path(name).is_dir():
            return "path", str(Path(name).resolve())
        if importlib.util.find_spec(name) is not None:
            return "installed", name
        raise OSError(f"Norwegian pipeline {name!r} is neither an installed package nor a directory")
    override = os.environ.get(ENV_VAR, "").strip()
    if override == BLANK:
        return BLANK, BLANK
    for package in INSTALLED_PACKAGES:
        if importlib.util.find_spec(package) is not None:
            return "installed", package
    bundled = Path(override) if override else BUNDLED_PIPELINE
    if (bundled / "meta.json").is_file():
        return "bundled", str(bundled.resolve())
    return "fallback", str(bundled)


@lru_cache(maxsize=8)
def _load_cached(spec: tuple[str, str], disable: tuple[str, ...], fast: bool) -> Language:
    source, target = spec
    if source in (BLANK, "fallback"):
        reason = (
            f"{ENV_VAR}=blank or name='blank' requested"
            if source == BLANK
            else f"none of {', '.join(INSTALLED_PACKAGES)} installed, no bundled pipeline at {target}"
        )
        warnings.warn(BLANK_WARNING.format(reason=reason), stacklevel=3)
        nlp = blank_pipeline()
    else:
        nlp = spacy.load(target)
        variety.add_to(nlp)  # joint Bokmål/Nynorsk pipelines: doc._.variety + lemma harmonisation
        if fast:
            disable = (*disable, *_fast_disable(nlp))
            if "senter" in nlp.disabled:
                nlp.enable_pipe("senter")
        for component in disable:
            if component in nlp.pipe_names:
                nlp.disable_pipe(component)
    if source == "path" and Path(target) == BUNDLED_PIPELINE:
        source = "bundled"
    nlp.meta.setdefault("qualkit", {})["source"] = BLANK if source == "fallback" else source
    nlp.meta["qualkit"]["fast"] = fast
    return nlp


def _fast_disable(nlp: Language) -> list[str]:
    names = list(_FAST_DISABLE)
    if "trainable_lemmatizer" in nlp.pipe_names:
        names += _FAST_DISABLE_IF_TRAINABLE_LEMMATIZER
    return [name for name in names if name in nlp.pipe_names]


# --------------------------------------------------------------------------------------------------
# Blank fallback


def blank_pipeline() -> Language:
    """Blank ``nb`` pipeline: rule-based sentencizer + POS-less lookup lemmatizer."""
    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("qualkit_lookup_lemmatizer")
    return nlp


_AUX_FORMS = {
    form: lemma
    for lemma, forms in {
        "være": "er var vært vere",
        "ha": "har hadde hatt",
        "bli": "blir ble blei blitt",
    }.items()
    for form in forms.split()
}


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    """form → lemma from spacy-lookups-data's Norwegian Bokmål tables (Norsk Ordbank).

    The ``nb`` ``lemma_lookup`` table only holds ~1,600 abbreviations; the full word lists are the
    POS-keyed ``lemma_exc`` tables of the rule lemmatizer.  Without POS we merge them: a form that is
    itself a lemma of some part of speech stays as it is ("nei", "var"), otherwise the noun, verb,
    adjective, adverb lemma is used, in that order; the forms of "være", "ha" and "bli" are fixed.
    Returns an empty table when spacy-lookups-data is not installed.
    """
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None or not spec.submodule_search_locations:
        return {}
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    table: dict[str, str] = {}
    with gzip.open(data / "nb_lemma_exc.json.gz", "rt", encoding="utf-8") as fh:
        exc = json.load(fh)
    for pos in ("noun", "verb", "adj", "adv"):
        for form, lemmas in exc.get(pos, {}).items():
            if lemmas and (form not in table or form in lemmas):
                table[form] = form if form in lemmas else lemmas[0]
    table.update(_AUX_FORMS)
    with gzip.open(data / "nb_lemma_lookup.json.gz", "rt", encoding="utf-8") as fh:
        for form, lemma in json.load(fh).items():
            table.setdefault(form, lemma)
    return table


@Language.factory("qualkit_lookup_lemmatizer")
def make_lookup_lemmatizer(nlp: Language, name: str) -> LookupLemmatizer:
    return LookupLemmatizer()


class LookupLemmatizer:
    """Lemmas by table lookup without POS.

    The table is keyed by lower-case forms, so a sentence-initial or all-caps token ("Boligene",
    "KOMMUNEN") is looked up lower-cased.  A capitalised token inside a sentence is probably a name
    ("Bergen") and keeps its form, as does any unknown word.
    """

    def __call__(self, doc: Doc) -> Doc:
        table = _lemma_table()
        for token in doc:
            text = token.text
            lemma = table.get(text)
            if lemma is None and (token.is_sent_start or token.is_upper) and text.lower() != text:
                lemma = table.get(text.lower())
            token.lemma_ = lemma if lemma is not None else text
        return doc


# --------------------------------------------------------------------------------------------------
# Introspection


def pipeline_info(nlp: Language) -> dict:
    """Name, version, source (installed/bundled/blank), active components and accuracy figures.

    ``accuracy`` is meta.json's ``performance`` (fractions, UD Bokmål test for both the nb_core_news
    packages and the bundled pipeline); ``ud_test_scores`` has the bundled pipeline's per-language
    figures in percent (``nob``, ``nno``).
    """
    meta = nlp.meta
    source = meta.get("qualkit", {}).get("source")
    if source is None:
        source = (
            BLANK
            if meta.get("name") in (None, "pipeline") and not meta.get("performance")
            else ("installed" if meta.get("name", "").startswith("core_news") else "bundled")
        )
    accuracy = {k: round(v, 4) for k, v in (meta.get("performance") or {}).items() if isinstance(v, int | float)}
    test_scores = meta.get("qualkit_benchmark", {}).get("scores", {}).get("test", {})
    per_lang = {lang: {k: v for k, v in scores.items() if k != "ents_per_type"} for lang, scores in test_scores.items()}
    return {
        "name": f"{meta.get('lang', 'nb')}_{meta.get('name', 'blank')}" if source != BLANK else "nb_blank",
        "version": meta.get("version", "0.0.0"),
        "spacy_version": meta.get("spacy_version", f">={spacy.__version__}"),
        "source": source,
        "fast": meta.get("qualkit", {}).get("fast", False),
        "components": list(nlp.pipe_names),
        "disabled": list(nlp.disabled),
        "accuracy": accuracy,
        "ud_test_scores": per_lang,
    }


__all__ = [
    "load",
    "load_fast",
    "clear_cache",
    "pipeline_info",
    "blank_pipeline",
    "BUNDLED_PIPELINE",
    "ENV_VAR",
    "INSTALLED_PACKAGES",
]
