"""Bokmål/Nynorsk detection and lemma harmonisation for the joint pipeline.

One model lemmatises both written standards, so a frequent word shared by both can get the other
standard's lemma ("er" → "vere" in a Bokmål text, "er" → "være" in a Nynorsk one; this was the
largest single lemma error class on UD dev).  ``qualkit_variety`` runs after the lemmatizer: it
decides per doc whether the text is Bokmål or Nynorsk from high-frequency marker words (stored in
``doc._.variety``: ``"nob"``, ``"nno"`` or ``None`` when unclear) and, when the decision is clear,
maps lemmas of the other standard to this one ("vere" → "være" in Bokmål).

It also lower-cases the lemma of a capitalised sentence-initial word that the tagger says is not a
proper noun ("Bustadene" → "bustad", not "Bustad"): the edit-tree lemmatizer keeps the case of the
form, but a sentence's first capital is spelling, not part of the word. It therefore runs after the
``senter`` when the pipeline has one.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

# (Bokmål lemma, Nynorsk lemma) for frequent words whose lemmas differ between the standards.
LEMMA_PAIRS = [
    ("være", "vere"),
    ("ville", "vilje"),
    ("si", "seie"),
    ("komme", "kome"),
    ("gjøre", "gjere"),
    ("se", "sjå"),
    ("jeg", "eg"),
    ("en", "ein"),
    ("annen", "annan"),
    ("mye", "mykje"),
    ("noen", "nokon"),
    ("noe", "noko"),
    ("hver", "kvar"),
    ("hvem", "kven"),
    ("hva", "kva"),
    ("selv", "sjølv"),
    ("hun", "ho"),
    ("legge", "leggje"),
    ("ligge", "liggje"),
    ("sette", "setje"),
    ("følge", "følgje"),
    ("bygge", "byggje"),
    ("selge", "selje"),
    ("spørre", "spørje"),
    ("tenke", "tenkje"),
    ("bare", "berre"),
    ("fra", "frå"),
]
TO_NOB = {nno: nob for nob, nno in LEMMA_PAIRS}
TO_NNO = {nob: nno for nob, nno in LEMMA_PAIRS}

# Lower-cased word forms that occur (almost) only in one standard.
NOB_MARKERS = frozenset(
    "ikke jeg en et hva hvordan hvorfor hvem hvis hvor bare fra hele være vært mer mye noe noen disse "
    "selv hun ble gjøre komme".split()
)
NNO_MARKERS = frozenset(
    "ikkje eg ein eit dei kva korleis kvifor kven viss kvar berre frå heile vere vore meir mykje noko "
    "nokon desse sjølv ho vart gjere kome òg me".split()
)

if not Doc.has_extension("variety"):
    Doc.set_extension("variety", default=None)


def detect_variety(doc: Doc, min_markers: int = 1, ratio: float = 2.0) -> str | None:
    """``"nob"``/``"nno"`` when one standard's markers outnumber the other's ``ratio`` times (and at
    least ``min_markers`` were seen), else ``None``."""
    nob = nno = 0
    for token in doc:
        lower = token.lower_
        nob += lower in NOB_MARKERS
        nno += lower in NNO_MARKERS
    if nob >= min_markers and nob >= ratio * nno:
        return "nob"
    if nno >= min_markers and nno >= ratio * nob:
        return "nno"
    return None


@Language.component("qualkit_variety", assigns=["doc._.variety", "token.lemma"], requires=["token.lemma"])
def harmonise_lemmas(doc: Doc) -> Doc:
    _lower_sentence_initial_lemmas(doc)
    variety = detect_variety(doc)
    doc._.variety = variety
    if variety is not None:
        mapping = TO_NOB if variety == "nob" else TO_NNO
        for token in doc:
            lemma = mapping.get(token.lemma_)
            if lemma is not None:
                token.lemma_ = lemma
    return doc


# Tags of words whose capital at the start of a sentence is not part of the word (no PROPN; no tag = unknown).
_COMMON_TAGS = frozenset({"NOUN", "ADJ", "VERB", "AUX", "ADV", "ADP", "PRON", "DET", "CCONJ", "SCONJ", "PART", "NUM"})


def _lower_sentence_initial_lemmas(doc: Doc) -> None:
    for token in doc:
        if not token.is_sent_start or token.pos_ not in _COMMON_TAGS:
            continue
        lemma, text = token.lemma_, token.text
        if text[:1].isupper() and text[1:].islower() and lemma[:1].isupper():
            token.lemma_ = lemma[:1].lower() + lemma[1:]


def add_to(nlp: Language) -> Language:
    """Add ``qualkit_variety`` after the trainable lemmatizer and the senter, if there is one (joint
    Bokmål/Nynorsk pipelines only)."""
    if "trainable_lemmatizer" in nlp.component_names and "qualkit_variety" not in nlp.component_names:
        after = "senter" if "senter" in nlp.component_names else "trainable_lemmatizer"
        nlp.add_pipe("qualkit_variety", after=after)
    return nlp
