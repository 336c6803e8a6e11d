"""The keyword coder: lemmas and compound parts count, keyword traps and mere mentions do not."""

import numpy as np
import pandas as pd
import pytest

from qualkit.code import KeywordCoder, apply_coder


@pytest.fixture(scope="module")
def coder(codebook):
    return KeywordCoder(codebook)


def codes_of(coder, text: str) -> set[str]:
    row = coder.predict([text])[0]
    return {name for name, flag in zip(coder.code_names, row, strict=True) if flag}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vi har altfor få kommunale utleieboliger.", {"bolig"}),
        ("Boligene ligger langt fra sentrum.", {"bolig"}),
        ("Kommunen har ikke midler til dette.", {"okonomi"}),
        ("Han fikk startlån og bostøtte.", {"okonomi"}),
        ("Miljøterapeuten gir tett oppfølging.", {"tjenester"}),
        ("Ansvarsfordelingen mellom etatene er uklar.", {"organisering"}),
        ("Vi har et brukerråd som gir innspill.", {"brukermedvirkning"}),
    ],
)
def test_keywords_match_lemmas_forms_and_compounds(coder, text, expected):
    assert codes_of(coder, text) == expected


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Det var imidlertid ikke mulig å møtes i mars.", "okonomi"),
        ("Dette er en midlertidig ordning fram til sommeren.", "okonomi"),
        ("Dette gjelder alle som deltar.", "okonomi"),
        ("Rusmisbrukere er ofte sårbare.", "brukermedvirkning"),
        ("Han var borte, bortsett fra i helgene.", "bolig"),
    ],
)
def test_keyword_traps_do_not_count(coder, text, absent):
    assert absent not in codes_of(coder, text)


def test_husbanken_is_not_a_dwelling(coder):
    found = codes_of(coder, "Husbanken arrangerte et kurs for saksbehandlerne.")
    assert "bolig" not in found and "organisering" in found


def test_scores_grow_with_evidence_and_code_columns_follow_the_contract(coder, codebook):
    segments = pd.DataFrame({"text": ["Ingenting her.", "Bolig.", "Bolig, leilighet og hybel."]}, index=[10, 11, 12])
    coded = apply_coder(segments, coder)
    names = codebook.code_names
    assert list(coded.columns) == ["text", *names, *[f"{n}_score" for n in names]]
    assert coded["bolig"].tolist() == [0, 1, 1]
    scores = coded["bolig_score"].to_numpy()
    assert scores[0] == 0 and 0.5 <= scores[1] < scores[2] <= 1
    assert coded.index.tolist() == [10, 11, 12]
    assert np.all((coded[[f"{n}_score" for n in names]] >= 0) & (coded[[f"{n}_score" for n in names]] <= 1))


def test_evidence_explains_a_coding(coder):
    evidence = coder.evidence(["Husleien er for høy, og kommunen mangler budsjett."])[0]
    okonomi = evidence[coder.code_names.index("okonomi")]
    assert any(word.startswith("husleie") for word in okonomi) and "budsjett" in okonomi


def test_a_text_longer_than_the_pipelines_max_length_is_coded_in_pieces(codebook):
    """spaCy refuses texts over nlp.max_length; one such segment must not stop the keyword coder."""
    import spacy

    nlp = spacy.blank("nb")
    nlp.max_length = 80
    text = "Vi mangler boliger i sentrum.\n" * 6 + "Husleien er for høy."
    short = KeywordCoder(codebook, nlp=spacy.blank("nb"))
    pieces = KeywordCoder(codebook, nlp=nlp)
    assert np.array_equal(pieces.keyword_hits([text]), short.keyword_hits([text]))
    assert pieces.predict([text])[0].tolist() == short.predict([text])[0].tolist()


SUBCODES_YAML = """
name: velferd
label: Velferd
codes:
  - name: bustad
    label: Bustad
    definition: Bustaden og butilbodet.
    keywords: [bustad*, bolig*]
  - name: pengar
    label: Pengar
    definition: Pengar, for kommunen og for den einskilde.
    subcodes:
      - name: pengar_kommune
        label: Kommunen sine pengar
        definition: Budsjett og tilskot.
        keywords: [budsjett*, tilskot*]
      - name: pengar_person
        label: Personen sine pengar
        definition: Husleige og gjeld.
        keywords: [husleige*, gjeld*]
        not_keywords: [gjelde, gjelder]
        subcodes:
          - name: pengar_lan
            label: Lån
            definition: Startlån og andre lån.
            keywords: [startlån*]
"""


def test_subcode_keywords_count_for_their_parent_code():
    """A parent code whose keywords sit on its sub-codes (at any depth) is coded by them; its traps hold."""
    import spacy

    from qualkit.codebook import parse_codebook

    book = parse_codebook(SUBCODES_YAML)
    coder = KeywordCoder(book, nlp=spacy.blank("nb"))
    assert coder.code_names == ["bustad", "pengar"]
    texts = ["Budsjettet vart kutta i fjor.", "Husleigene er altfor høge.", "Startlånet kom til slutt.",
             "Det gjelder alle.", "Vi har for få bustader."]
    assert coder.predict(texts)[:, 1].tolist() == [1, 1, 1, 0, 0]
    deep = KeywordCoder(book, nlp=spacy.blank("nb"), subcodes=True)
    flags = dict(zip(deep.code_names, deep.predict(["Startlånet kom til slutt."])[0], strict=True))
    assert flags["pengar"] == flags["pengar_person"] == flags["pengar_lan"] == 1 and flags["pengar_kommune"] == 0


def test_subcode_keywords_the_parent_already_matches_are_not_added_again(codebook):
    """The default codebook's okonomi repeats its sub-codes' keywords: its patterns stay exactly its own."""
    from qualkit.code import code_patterns

    okonomi = codebook.code("okonomi")
    assert okonomi.subcodes and code_patterns(okonomi) == (okonomi.keywords, okonomi.parts, okonomi.not_keywords)
