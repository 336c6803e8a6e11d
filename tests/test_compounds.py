"""Tests for qualkit.compounds: the key examples, every trap, and precision/recall on the gold list."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from qualkit.compounds import (
    compound_parts,
    is_compound,
    load_lexicon,
    register_token_extension,
    score_splits,
    split_compound,
)

GOLD = Path(__file__).parent / "data" / "compounds.tsv"

# Thresholds sit a little below what the splitter reaches on the gold list (precision 1.00, recall
# 1.00 when these tests were written), so that a lexicon edit that breaks a few words fails loudly
# without making every small change a test failure.
MIN_PRECISION = 0.97
MIN_RECALL = 0.95


def _gold_rows() -> list[dict[str, str]]:
    with GOLD.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _gold(rows: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    return [(row["word"], row["expected"].split("+")) for row in rows]


# --- the gold list itself --------------------------------------------------------------------


def test_gold_list_has_the_promised_coverage() -> None:
    rows = _gold_rows()
    kinds = [row["kind"] for row in rows]
    assert len(rows) >= 150
    assert kinds.count("compound") >= 90
    assert kinds.count("noncompound") >= 30
    assert kinds.count("trap") >= 20
    assert sum(row["målform"] == "nn" for row in rows) >= 25
    assert set(kinds) <= {"compound", "noncompound", "trap"}


def test_precision_and_recall_on_gold_list() -> None:
    scores = score_splits(_gold(_gold_rows()))
    assert scores.precision >= MIN_PRECISION, scores
    assert scores.recall >= MIN_RECALL, scores


@pytest.mark.parametrize("målform", ["nb", "nn"])
def test_precision_and_recall_per_målform(målform: str) -> None:
    rows = [row for row in _gold_rows() if row["målform"] == målform]
    scores = score_splits(_gold(rows))
    assert scores.precision >= MIN_PRECISION, scores
    assert scores.recall >= MIN_RECALL, scores


def test_no_trap_in_gold_list_is_split_wrongly() -> None:
    wrong = [
        (word, split_compound(word), parts)
        for word, parts in _gold([row for row in _gold_rows() if row["kind"] == "trap"])
        if split_compound(word) != parts
    ]
    assert wrong == []


# --- key examples from the issue ---------------------------------------------------------------

KEY_EXAMPLES = {
    "utleieboliger": ["utleie", "bolig"],
    "boligsosialt": ["bolig", "sosial"],
    "tjenestetilbudet": ["tjeneste", "tilbud"],
    "rusmisbrukere": ["rus", "misbruker"],
    "døgnbemanning": ["døgn", "bemanning"],
    "startlån": ["start", "lån"],
    "bustadsosialt": ["bustad", "sosial"],
    "kommunebudsjettet": ["kommune", "budsjett"],
    "arbeidsgruppe": ["arbeid", "gruppe"],
    "barnevernstjeneste": ["barnevern", "tjeneste"],
    "boligsosialhandlingsplan": ["bolig", "sosial", "handlingsplan"],
    "rusbehandlingstilbud": ["rus", "behandling", "tilbud"],
    "tenestene": ["teneste"],
    "bustadene": ["bustad"],
}


@pytest.mark.parametrize(("word", "parts"), KEY_EXAMPLES.items())
def test_key_example(word: str, parts: list[str]) -> None:
    assert split_compound(word) == parts


def test_rusmisbrukere_never_yields_bruker() -> None:
    assert "bruker" not in split_compound("rusmisbrukere")
    assert "brukar" not in split_compound("rusmisbrukarar")


# --- traps: never split ---------------------------------------------------------------------

TRAPS = {
    "Husbanken": "husbanken",
    "husbankens": "husbanken",
    "midlertidig": "midlertidig",
    "midlertidige": "midlertidig",
    "imidlertid": "imidlertid",
    "gjelder": "gjelde",
    "bortsett": "bortsett",
    "borte": "borte",
    "bordvert": "bordvert",
    "plan": "plan",
    "lang": "lang",
    "Melhus": "melhus",
    "Bergenhus": "bergenhus",
    "Kalfarhuset": "kalfarhuset",
    "behandling": "behandling",
    "bemanning": "bemanning",
    "hjemlet": "hjemle",
    "misbruker": "misbruker",
    "mellombels": "mellombels",
    "e-post": "e-post",
}


@pytest.mark.parametrize(("word", "lemma"), TRAPS.items())
def test_trap_is_not_split(word: str, lemma: str) -> None:
    assert split_compound(word) == [lemma]
    assert not is_compound(word)


@pytest.mark.parametrize(
    ("word", "forbidden"),
    [
        ("Husbanken", "hus"),
        ("midlertidig", "midler"),
        ("imidlertid", "midler"),
        ("gjelder", "gjeld"),
        ("bortsett", "bo"),
        ("Melhus", "hus"),
        ("rusmidler", "midler"),
        ("legemidler", "midler"),
        ("firmanavn", "nav"),
    ],
)
def test_trap_never_yields_the_misleading_part(word: str, forbidden: str) -> None:
    assert forbidden not in split_compound(word)


def test_every_protected_word_stays_as_listed() -> None:
    for word, analysis in load_lexicon().protected.items():
        assert split_compound(word) == list(analysis), word


# --- hyphens, linking elements, inflection -----------------------------------------------------


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("bo-oppfølging", ["bo", "oppfølging"]),
        ("Housing First-bolig", ["housing first", "bolig"]),
        ("NAV-veileder", ["nav", "veileder"]),
        ("rus-", ["rus"]),
        ("samarbeids-prosjektet", ["samarbeid", "prosjekt"]),
        ("start-boligene", ["start", "bolig"]),
    ],
)
def test_hyphenated(word: str, parts: list[str]) -> None:
    assert split_compound(word) == parts


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("arbeidsgruppa", ["arbeid", "gruppe"]),
        ("oppfølgingstjenestene", ["oppfølging", "tjeneste"]),
        ("barnehage", ["barn", "hage"]),
        ("spesialisthelsetjenesten", ["spesialist", "helse", "tjeneste"]),
        ("hjemmetjenesten", ["hjem", "tjeneste"]),
        ("utleigebustadene", ["utleige", "bustad"]),
        ("rusmisbrukarane", ["rus", "misbrukar"]),
    ],
)
def test_linking_elements_and_inflected_last_part(word: str, parts: list[str]) -> None:
    assert split_compound(word) == parts


def test_non_compounds_return_one_lemma() -> None:
    assert split_compound("boligene") == ["bolig"]
    assert split_compound("brukere") == ["bruker"]
    assert split_compound("tilbudet") == ["tilbud"]
    assert split_compound("og") == ["og"]
    assert split_compound("2021") == ["2021"]
    assert split_compound("uforståeligord") == ["uforståeligord"]


def test_alias_and_result_is_a_fresh_list() -> None:
    assert compound_parts("startlån") == ["start", "lån"]
    split_compound("startlån").append("x")
    assert split_compound("startlån") == ["start", "lån"]


# --- spaCy ------------------------------------------------------------------------------------


def test_token_extension() -> None:
    spacy = pytest.importorskip("spacy")
    register_token_extension()
    nlp = spacy.blank("nb")
    doc = nlp("Husbanken gir startlån til utleieboliger for rusmisbrukere .")
    parts = {token.text: token._.compound_parts for token in doc}
    assert parts["Husbanken"] == ["husbanken"]
    assert parts["startlån"] == ["start", "lån"]
    assert parts["utleieboliger"] == ["utleie", "bolig"]
    assert parts["rusmisbrukere"] == ["rus", "misbruker"]


def test_token_extension_keeps_named_entities_whole() -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Span

    register_token_extension()
    doc = spacy.blank("nb")("Robin Hood-huset ligger i Bergen")
    doc.ents = [Span(doc, 0, 2, label="ORG")]
    assert doc[1]._.compound_parts == ["hood-huset"]
