"""Segmentation: the segment-table contract, speaker styles, headings, bullets, stable ids, gold alignment."""

import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualkit.ingest import Document, Speaker
from qualkit.segment import SEGMENT_COLUMNS, is_transcript, segment_documents

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


def _units(document: Document, unit: str = "turn") -> list[tuple[str, str]]:
    """(speaker, text) of every unit, after checking that each unit's offsets slice the text back."""
    table = segment_documents([document], unit=unit)
    for row in table.itertuples():
        assert document.text[row.start : row.end] == row.text and row.text == row.text.strip()
    return list(zip(table["speaker"], table["text"], strict=True))


def test_every_voice_of_a_vtt_cue_is_a_turn_and_a_cue_without_a_voice_has_no_speaker(tmp_path):
    from qualkit.ingest import read_document

    path = tmp_path / "samtale.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Siri Berg>Korleis bur du no?</v>\n\n"
        "00:00:04.000 --> 00:00:06.000\n<v Siri Berg>Fortel</v> <v Per>Eg bur i ei hybelleilegheit.</v>\n\n"
        "00:00:07.000 --> 00:00:09.000\n- Er det bra?\n- Nei.\n\n"
        "00:00:10.000 --> 00:00:12.000\nDet er for trongt.\n", "utf-8")
    document = read_document(path, require_kommune=False)
    expected = [("Siri Berg", "Korleis bur du no?"), ("Siri Berg", "Fortel"), ("Per", "Eg bur i ei hybelleilegheit."),
                ("", "Er det bra?"), ("", "Nei."), ("", "Det er for trongt.")]
    assert _units(document, "turn") == expected
    assert _units(document, "paragraph") == expected


def test_an_unlabelled_srt_cue_is_not_glued_onto_the_previous_turn(tmp_path):
    from qualkit.ingest import read_document

    path = tmp_path / "opptak.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nD1: Vi treng fleire bustader.\n\n"
                    "2\n00:00:04,000 --> 00:00:05,000\nModerator: Kvifor?\n\n"
                    "3\n00:00:06,000 --> 00:00:08,000\n<i>D1: Ventelistene er lange.</i>\n\n"
                    "4\n00:00:09,000 --> 00:00:10,000\n12\n", "utf-8")
    document = read_document(path, require_kommune=False)
    assert _units(document) == [("D1", "Vi treng fleire bustader."), ("Moderator", "Kvifor?"),
                                ("D1", "Ventelistene er lange."), ("", "12")]


def test_a_timestamp_always_starts_a_new_unit_and_never_lands_inside_one():
    text = ("[00:01:05] D1: Vi har ingen akuttplassar.\n[00:01:20] Det er eit stort problem.\n\n"
            "[00:01:40] Vi må vise folk til hotell.\n\n[00:02:00]\n\nSå kjem vinteren.\n\n"
            "[00:02:30] Moderator: kva gjer de då?\n")
    document = _doc(text, kilde="intervju")
    # a timestamped line without a label goes on with the speaker of the turn, as a unit of its own
    assert _units(document) == [("D1", "Vi har ingen akuttplassar."), ("D1", "Det er eit stort problem."),
                                ("D1", "Vi må vise folk til hotell."), ("D1", "Så kjem vinteren."),
                                ("Moderator", "kva gjer de då?")]
    assert not any("[00:" in text for _, text in _units(document, "paragraph"))


def test_lower_case_role_labels_are_speakers():
    text = ("intervjuer: kva er rolla di?\ninformant: eg er bustadkonsulent.\n"
            "intervjuer: kor lenge har du vore det?\ninformant: i tre år.\n")
    expected = [("intervjuer", "kva er rolla di?"), ("informant", "eg er bustadkonsulent."),
                ("intervjuer", "kor lenge har du vore det?"), ("informant", "i tre år.")]
    assert _units(_doc(text, kilde="intervju")) == expected
    assert _units(_doc(text, kilde="")) == expected  # without kilde: the labels recur
    # other lower-case words before a colon stay text
    assert _units(_doc("I: Kva skjer no?\n\nIP: altså: vi ventar.\n", kilde="intervju")) == [
        ("I", "Kva skjer no?"), ("IP", "altså: vi ventar.")]


def test_role_and_code_labels_followed_by_a_dash_are_speakers():
    text = "Moderator – Velkommen hit.\n\nD1 – Takk.\n\nModerator – Kva er det største problemet?\n\nD1 – Bustader.\n"
    expected = [("Moderator", "Velkommen hit."), ("D1", "Takk."), ("Moderator", "Kva er det største problemet?"),
                ("D1", "Bustader.")]
    assert _units(_doc(text)) == expected
    assert _units(_doc(text, kilde="")) == expected
    # any other word before a dash is running text, also in a transcript
    assert _units(_doc("D1: Eg seier det rett ut.\n\nKommunen – som eig husa – gjer for lite.\n")) == [
        ("D1", "Eg seier det rett ut.\n\nKommunen – som eig husa – gjer for lite.")]


def test_a_label_on_a_line_of_its_own_names_the_speaker_of_the_next_line():
    text = ("MODERATOR\nKva er den største utfordringa?\n\nDELTAKER 1\nDet manglar små bustader.\n\n"
            "MODERATOR\nOg oppfølginga?\n\nDELTAKER 1\nHo er for dårleg.\n")
    expected = [("MODERATOR", "Kva er den største utfordringa?"), ("DELTAKER 1", "Det manglar små bustader."),
                ("MODERATOR", "Og oppfølginga?"), ("DELTAKER 1", "Ho er for dårleg.")]
    assert _units(_doc(text, kilde="")) == expected  # not headings
    # with deltakere, the label is written as listed, so the role is found
    listed = _doc(text, speakers={"Moderator": "moderator", "Deltaker 1": "NAV-veileder"})
    table = segment_documents([listed], unit="turn")
    assert table["speaker"].tolist() == ["Moderator", "Deltaker 1"] * 2
    assert table["role"].tolist() == ["moderator", "NAV-veileder"] * 2
    colon = "Kari Nordmann:\nEg har budd på hospits.\n\nModerator:\nKor lenge?\n"
    assert _units(_doc(colon)) == [("Kari Nordmann", "Eg har budd på hospits."), ("Moderator", "Kor lenge?")]
    # a capitalised line that is not a role or a code is content in a transcript
    assert _units(_doc("D1: Eg er einig.\nHUSBANKEN\nMå gje meir startlån.\n")) == [
        ("D1", "Eg er einig.\nHUSBANKEN\nMå gje meir startlån.")]


def test_a_timestamped_transcript_is_one_even_when_only_one_label_recurs():
    text = ("[00:10:02] D2: Vi har ventelister på over eitt år.\n[00:10:15] Moderator: Kvifor det?\n"
            "[00:10:21] D2: Det er for få kommunale bustader.\n[00:10:50] D3: Eg er einig.\n")
    assert _units(_doc(text, kilde="")) == [
        ("D2", "Vi har ventelister på over eitt år."), ("Moderator", "Kvifor det?"),
        ("D2", "Det er for få kommunale bustader."), ("D3", "Eg er einig.")]
    untimed = ("Dato: 3. mars\n\nModerator: Kva er problemet?\n\nD1: Bustadene.\n\nModerator: Og økonomien?\n\n"
               "D2: Stram.\n")
    assert [speaker for speaker, _ in _units(_doc(untimed, kilde=""))] == ["", "Moderator", "D1", "Moderator", "D2"]


def test_notes_with_numbered_phases_and_acronyms_are_not_read_as_transcripts():
    text = ("Fase 1: Kartlegging av behov.\n\nFase 2: Plan for tiltak.\n\nFase 1: Evaluering.\n\n"
            "NAV – ansvar for oppfølging.\n\nKS – rettleiing.\n\nNAV – tilskot.\n")
    assert _units(_doc(text, kilde="")) == [("", block) for block in text.strip().split("\n\n")]
    assert _units(_doc("D1: Det tek tid.\n\nDel 2: Plan for tiltak.\n\nD2: Eg veit.\n")) == [
        ("D1", "Det tek tid.\n\nDel 2: Plan for tiltak."), ("D2", "Eg veit.")]


def test_a_focus_group_where_each_speaker_speaks_once_is_a_transcript():
    """Finding F6: Moderator:, D1:, D2:, D3: once each stayed text, the labels inside the moderator's segment."""
    text = ("Moderator: Kva er den største utfordringa no?\n\nD1: Vi har ikkje nok små bustader.\n\n"
            "D2: Pengane til prosjektet tek slutt til hausten.\n\nD3: Nokre bur på campinghytter.\n")
    expected = [("Moderator", "Kva er den største utfordringa no?"), ("D1", "Vi har ikkje nok små bustader."),
                ("D2", "Pengane til prosjektet tek slutt til hausten."), ("D3", "Nokre bur på campinghytter.")]
    assert _units(_doc(text, kilde="")) == expected
    table = segment_documents([_doc(text, kilde="", speakers={"Moderator": "moderator"})], unit="turn")
    assert table["role"].tolist()[0] == "moderator"
    dashes = "Intervjuer – Kor lenge har du budd her?\n\nInformant 1 – I to år.\n\nInformant 2 – Eg kom i fjor.\n"
    assert [speaker for speaker, _ in _units(_doc(dashes, kilde=""))] == ["Intervjuer", "Informant 1", "Informant 2"]
    # numbered items of one kind, and notes with one role among other words, stay notes
    for notes in ["Spørsmål 1: Kva tilbod finst?\n\nSpørsmål 2: Kven har ansvaret?\n\nSpørsmål 3: Kva manglar?\n",
                  "Q1: Kor mange bur mellombels?\n\nQ2: Kor lang er ventelista?\n\nQ3: Kva kostar det?\n",
                  "Fase 1: Kartlegging.\n\nDel 2: Tiltak.\n\nSak 3: Budsjett.\n\nUke 4: Evaluering.\n",
                  "Dato: 3. mars\n\nModerator: Ingrid\n\nReferent: Ola\n\nTema: Bustader for unge\n"]:
        assert not is_transcript(_doc(notes, kilde="")), notes


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("ab æ:-–1D\n.?") + ["[00:01:02] ", "\n\n", "- ", "MODERATOR\n", "D1 – ",
                                                          "intervjuer: ", "00:00:05 ", "<v Kari>", "</v>"]),
                max_size=60).map("".join))
@example("[00:01:02] D1: a\n[00:01:02] b\n\n00:00:05 – a")
def test_offsets_slice_the_text_back_for_stamps_dashes_and_labels_of_their_own(text):
    stamp = re.compile(r"^[ \t]*(?:\[00:01:02\]|00:00:05)[ \t]+\S")
    for kilde in ("intervju", ""):
        for unit in ("turn", "paragraph"):
            for _, unit_text in _units(_doc(text, kilde=kilde), unit):
                if kilde:  # in a transcript a timestamp opens a unit: no line within one starts with it
                    assert not any(stamp.match(line) for line in unit_text.split("\n")[1:])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " ", "\n", "- ", "– ", "<v Kari>", "<v Ola Nordmann>", "</v>", "1",
                                 "D1: ", "&amp;", "<i>", "</i>"]), min_size=1, max_size=30).map("".join))
def test_subtitle_cues_keep_offsets_and_timestamps_out_of_every_unit(tmp_path_factory, body):
    from qualkit.errors import IngestError
    from qualkit.ingest import read_document

    path = tmp_path_factory.mktemp("vtt") / "cue.vtt"
    path.write_text(f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{body}\n\n00:00:03.000 --> 00:00:04.000\nSlutt.\n",
                    "utf-8")
    try:
        document = read_document(path, require_kommune=False)
    except IngestError:
        return
    for unit in ("turn", "paragraph"):
        for _, text in _units(document, unit):
            assert "[00:00:0" not in text
