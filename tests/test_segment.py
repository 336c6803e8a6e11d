"""Segmentation: the segment-table contract, speaker styles, headings, bullets, stable ids, gold alignment."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.ingest import Document, Speaker
from qualkit.segment import SEGMENT_COLUMNS, segment_documents

from conftest import DEMO


def _doc(text: str, kilde: str = "fokusgruppe", speakers=None) -> Document:
    speakers = {label: Speaker(label, role) for label, role in (speakers or {}).items()}
    return Document("doc.md", text, {"kommune": "Bergen", "kilde": kilde}, speakers=speakers)


@pytest.mark.parametrize("unit", ["turn", "paragraph", "sentence"])
def test_segment_table_contract_on_demo_corpus(demo_corpus, unit):
    table = segment_documents(demo_corpus.documents, unit=unit)
    assert list(table.columns[: len(SEGMENT_COLUMNS)]) == SEGMENT_COLUMNS
    texts = {d.name: d.text for d in demo_corpus.documents}
    for row in table.itertuples():
        assert texts[row.document][row.start : row.end] == row.text
        assert row.text == row.text.strip() and row.text
    assert table["segment_id"].is_unique
    assert table["kommune"].ne("").all()


def test_units_nest_turn_paragraph_sentence(demo_corpus):
    turns = segment_documents(demo_corpus.documents, unit="turn")
    paragraphs = segment_documents(demo_corpus.documents, unit="paragraph")
    sentences = segment_documents(demo_corpus.documents, unit="sentence")
    assert len(turns) <= len(paragraphs) < len(sentences)
    assert turns["speaker"].ne("").mean() > 0.4  # the transcripts have speakers


def test_speaker_label_styles():
    text = (
        "Moderator: Velkommen.\n\nI: Hvor bor du?\n\nD1: På hospits.\n\nDeltaker 3: Jeg også.\n\n"
        "[NAV]: Vi hjelper.\n\n**Kari:** Jeg er erfaringskonsulent.\n\n[00:12:31] Intervjuer: Og så?\n\n"
        "00:12:40 D1: Det ble bedre.\n"
    )
    table = segment_documents([_doc(text)], unit="turn")
    assert table["speaker"].tolist() == ["Moderator", "I", "D1", "Deltaker 3", "NAV", "Kari", "Intervjuer", "D1"]
    assert table["text"].tolist() == [
        "Velkommen.", "Hvor bor du?", "På hospits.", "Jeg også.", "Vi hjelper.", "Jeg er erfaringskonsulent.",
        "Og så?", "Det ble bedre.",
    ]


def test_a_capitalised_word_and_colon_is_a_speaker_only_when_it_looks_like_a_label():
    text = ("Dato: 12.03.2025\nSted: Bergen rådhus\n\nModerator: Hva er de største utfordringene?\n\n"
            "D1: Vi har tre problemer.\n\nFørst: det er for få boliger.\n\nDernest: NAV har ikke nok folk.\n\n"
            "Kari Nordmann: Jeg er enig.\n\nIP2: Og økonomien er stram.\n\n**Ola:** Helt enig.\n")
    table = segment_documents([_doc(text)], unit="turn")
    assert table["speaker"].tolist() == ["", "Moderator", "D1", "Kari Nordmann", "IP2", "Ola"]
    assert table["text"].iloc[2] == ("Vi har tre problemer.\n\nFørst: det er for få boliger.\n\n"
                                     "Dernest: NAV har ikke nok folk.")
    recurring = "Kari: Vi trenger boliger.\n\nOla: Ja.\n\nKari: Og folk.\n\nOla: Nettopp.\n"
    assert segment_documents([_doc(recurring)], unit="turn")["speaker"].tolist() == ["Kari", "Ola"] * 2


def test_with_deltakere_only_the_listed_and_generic_labels_are_speakers():
    text = ("Moderator: Hvem bor i kommunale boliger?\n\nBoligkontoret: Mest enslige.\n\n"
            "Statistikk: to av tre er menn.\n\nStatistikk: de fleste er over 40.\n\nD3: Det stemmer.\n")
    document = _doc(text, speakers={"Moderator": "moderator", "Boligkontoret": "kommune"})
    table = segment_documents([document], unit="turn")
    assert table["speaker"].tolist() == ["Moderator", "Boligkontoret", "D3"]
    assert table["text"].iloc[1] == ("Mest enslige.\n\nStatistikk: to av tre er menn.\n\n"
                                     "Statistikk: de fleste er over 40.")


def test_turn_spans_paragraphs_until_the_next_label_and_roles_come_from_metadata():
    text = "D1: Første avsnitt.\nFortsatt første.\n\nAndre avsnitt.\n\nD2: Svar.\n"
    document = _doc(text, speakers={"D1": "NAV-veileder", "D2": "boligkonsulent"})
    turns = segment_documents([document], unit="turn")
    assert turns["text"].tolist() == ["Første avsnitt.\nFortsatt første.\n\nAndre avsnitt.", "Svar."]
    assert turns["role"].tolist() == ["NAV-veileder", "boligkonsulent"]
    paragraphs = segment_documents([document], unit="paragraph")
    assert paragraphs["speaker"].tolist() == ["D1", "D1", "D2"]


def test_workshop_notes_headings_and_bullets():
    text = ("# Dag 1\n\n## Bolig\n\nInnledning om boliger.\n\n- Første punkt\n- Andre punkt\n  fortsetter\n\n"
            "Merk: tekst.\n")
    table = segment_documents([_doc(text, kilde="workshop")], unit="turn")
    assert table["text"].tolist() == ["Innledning om boliger.", "Første punkt", "Andre punkt\n  fortsetter",
                                      "Merk: tekst."]
    assert table["heading"].unique().tolist() == ["Dag 1 > Bolig"]
    assert table["speaker"].eq("").all()


def test_segment_ids_are_stable_and_survive_edits_elsewhere():
    first = segment_documents([_doc("D1: En.\n\nD2: To.\n")], unit="turn")
    again = segment_documents([_doc("D1: En.\n\nD2: To.\n")], unit="turn")
    edited = segment_documents([_doc("D0: Ny innledning.\n\nD1: En.\n\nD2: To.\n")], unit="turn")
    assert first["segment_id"].tolist() == again["segment_id"].tolist()
    assert set(first["segment_id"]) <= set(edited["segment_id"])


def test_demo_gold_covers_every_turn_of_the_demo_corpus(demo_corpus):
    gold = [json.loads(line) for line in (DEMO / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    table = segment_documents(demo_corpus.documents, unit="turn")
    assert len(gold) == len(table)
    for row, unit in zip(table.itertuples(), gold, strict=True):
        assert (row.document, row.text, row.speaker) == (unit["document"], unit["text"], unit["speaker"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("ab æø:-*#[]1D\n\t.\r?\f") + ["D1: ", "\n\n", "- ", "**M:** ", "# "]), max_size=80)
       .map("".join))
def test_offsets_slice_the_text_back_for_arbitrary_input(text):
    for kilde in ("fokusgruppe", "workshop"):
        document = _doc(text, kilde=kilde)
        for unit in ("turn", "paragraph"):
            table = segment_documents([document], unit=unit)
            for row in table.itertuples():
                assert document.text[row.start : row.end] == row.text
                assert row.text.strip()


def test_attribution_columns_after_dato():
    from qualkit.segment import ATTRIBUTION_COLUMNS, EXTRA_COLUMNS

    text = ("# Felles\n\nVi har for få boliger.\n\n# Sola\n\nSola har ventelister.\n\n"
            "# Erfaringer\n\nI Stavanger har de fått det til.\n")
    document = Document("r.md", text, {"kommune": "Bergen", "kilde": "workshop"})
    table = segment_documents([document], unit="paragraph", attribute=True)
    assert list(table.columns) == SEGMENT_COLUMNS + EXTRA_COLUMNS + ATTRIBUTION_COLUMNS
    assert table["attribution"].tolist() == ["metadata", "heading", "mention"]
    assert table["attributed_kommune"].tolist() == ["Bergen", "Sola", "Stavanger"]
    assert "attribution" not in segment_documents([document], unit="paragraph").columns


def test_attribution_uses_the_pipelines_entities_in_one_pipe_pass():
    import spacy

    nlp = spacy.blank("nb")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "GPE_LOC", "pattern": "Molde"}])
    calls = []
    original = nlp.pipe
    nlp.pipe = lambda texts, **kw: (calls.append(1), original(texts, **kw))[1]
    text = "Vi har for få boliger.\n\nI Molde har de fått det til.\n\nStavanger nevnes uten entitet.\n"
    document = Document("r.md", text, {"kommune": "Bergen", "kilde": "workshop"})
    table = segment_documents([document], unit="paragraph", attribute=True, attribution_nlp=nlp)
    assert len(calls) == 1
    # entities decide: Molde is tagged, Stavanger is not (the word rule is not used when there is NER)
    assert table["attributed_kommune"].tolist() == ["Bergen", "Molde", "Bergen"]
    assert table["attribution"].tolist() == ["metadata", "mention", "metadata"]


def test_plain_text_headings_of_pdf_exports_make_the_heading_path():
    text = (
        "Kinn kommune\n"
        "Kommunen har etablert et boligteam med NAV og helse. Teamet møtes hver uke og\n"
        "fordeler sakene mellom seg.\n\n"
        "Askøy kommune\n\n"
        "Her er arbeidet organisert i et prosjekt med egen leder, og kommunen har\n"
        "ansatt en koordinator i full stilling.\n"
    )
    table = segment_documents([_doc(text, kilde="rapport")], unit="paragraph")
    assert table["heading"].tolist() == ["Kinn kommune", "Askøy kommune"]
    assert table["text"].str.startswith("Kommunen har").tolist() == [True, False]


def test_a_short_first_line_of_a_wrapped_sentence_is_not_a_heading():
    text = (
        "Antall utkastelser skal ned og antall\n"
        "personer uten bolig skal reduseres kraftig i perioden som kommer, slik at flere får et\n"
        "varig sted å bo.\n"
    )
    table = segment_documents([_doc(text, kilde="rapport")], unit="paragraph")
    assert table["heading"].tolist() == [""] and len(table) == 1


def test_questions_and_exclamations_are_content_not_headings():
    text = (
        "Referat fra møte med NAV\n\n"
        "Hvorfor får ikke unge med rusproblemer kommunal bolig?\n\n"
        "NAV forklarte at det er for få små leiligheter.\n\n"
        "Dette er helt uakseptabelt!\n\n"
        "Kommunen har ikke midler til flere stillinger.\n\n"
        "HVA NÅ?\n\n"
        "Arbeidsgruppen møtes igjen i mai.\n"
    )
    table = segment_documents([_doc(text, kilde="notat")], unit="paragraph")
    assert table["text"].tolist() == [
        "Hvorfor får ikke unge med rusproblemer kommunal bolig?", "NAV forklarte at det er for få små leiligheter.",
        "Dette er helt uakseptabelt!", "Kommunen har ikke midler til flere stillinger.",
        "Arbeidsgruppen møtes igjen i mai.",
    ]
    assert table["heading"].tolist() == ["Referat fra møte med NAV"] * 4 + ["HVA NÅ?"]


def test_subtitle_cues_are_speaker_turns_even_when_each_speaker_speaks_once(tmp_path):
    from qualkit.ingest import read_document

    path = tmp_path / "opptak.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Kari>Vi treng fleire små leilegheiter.\n\n"
                    "00:00:05.000 --> 00:00:09.000\n<v Ola>Brukarane må få seie meir.\n", "utf-8")
    document = read_document(path, {"kommune": "Volda"})
    table = segment_documents([document], unit="turn")
    assert list(table["speaker"]) == ["Kari", "Ola"]
    assert list(table["text"]) == ["Vi treng fleire små leilegheiter.", "Brukarane må få seie meir."]
    assert all(document.text[row.start:row.end] == row.text for row in table.itertuples())


def test_a_paragraph_longer_than_the_pipelines_max_length_is_cut_into_pieces_not_refused():
    import spacy

    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 60
    long_paragraph = "Vi har for få boliger i sentrum.\nVentelistene blir lengre hvert år.\n" * 4 + "Slik er det."
    text = f"Moderator: Hvordan er det?\n\nD1: {long_paragraph}\n\nModerator: Takk.\n"
    document = _doc(text)
    table = segment_documents([document], unit="sentence", nlp=nlp)
    assert all(document.text[row.start : row.end] == row.text and row.text.strip() == row.text
               for row in table.itertuples())
    assert table["text"].tolist() == ["Hvordan er det?"] + ["Vi har for få boliger i sentrum.",
                                                            "Ventelistene blir lengre hvert år."] * 4 + [
        "Slik er det.", "Takk."]
    windows = segment_documents([document], unit="window", nlp=nlp, window=20)
    assert windows["text"].tolist() == ["Hvordan er det?", long_paragraph, "Takk."]


def test_attribution_of_a_segment_longer_than_max_length_uses_the_word_rule():
    import spacy

    nlp = spacy.blank("nb")
    nlp.add_pipe("entity_ruler", name="ner").add_patterns([{"label": "GPE_LOC", "pattern": "Molde"}])
    nlp.max_length = 40
    text = "I Molde har de fått det til.\n\nI Stavanger har de fått det til, og det er vi glade for.\n"
    document = Document("r.md", text, {"kommune": "Bergen", "kilde": "workshop"})
    table = segment_documents([document], unit="paragraph", attribute=True, attribution_nlp=nlp)
    assert table["attributed_kommune"].tolist() == ["Molde", "Stavanger"]
