"""Normalisers: excluded ranges (TOC, page numbers, footnotes, references, participants), page joins, OCR."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.ingest import Document, read_document
from qualkit.ingest.normalise import DEFAULT_NORMALISERS, NORMALISERS, find_excluded, resolve
from qualkit.ingest.ocr import repair_ocr
from qualkit.segment import document_units, segment_documents

DATA = Path(__file__).parent / "data" / "ingest"
META = {"kommune": "Bergen"}


def _units(document, unit="paragraph"):
    return [document.text[u["start"] : u["end"]] for u in document_units(document, unit=unit)]


def _assert_outside_excluded(document, table):
    for row in table.itertuples():
        assert document.text[row.start : row.end] == row.text
        for item in document.excluded:
            assert row.end <= item.start or row.start >= item.end, (item, row.text)


def test_resolve_switches():
    assert resolve(None) == DEFAULT_NORMALISERS and "ocr" not in DEFAULT_NORMALISERS
    assert resolve("all") == frozenset(NORMALISERS)
    assert resolve("none") == frozenset() == resolve([])
    assert resolve(["-footnotes"]) == DEFAULT_NORMALISERS - {"footnotes"}
    assert resolve(["+ocr"]) == DEFAULT_NORMALISERS | {"ocr"}
    assert resolve("toc,footnotes") == {"toc", "footnotes"}
    with pytest.raises(ValueError, match="unknown normaliser 'tcc'"):
        resolve(["tcc"])


def test_hard_wrapped_pdf_text_keeps_artefacts_out_of_units():
    document = read_document(DATA / "pdf_rapport.txt", META)
    kinds = {e.kind for e in document.excluded}
    assert {"toc", "page_number", "footnote", "references", "participants"} <= kinds
    assert any("toc" in note for note in document.notes)
    table = segment_documents([document], unit="paragraph")
    _assert_outside_excluded(document, table)
    texts = list(table["text"])
    joined = " ".join(texts)
    assert ".....\t" not in joined and "Innholdsfortegnelse" not in joined
    assert "Nordmann, K." not in joined and "kari@eksempel.no" not in joined
    assert "Planen ble vedtatt av styringsgruppen" not in joined
    assert not any(t.strip() == "7" for t in texts)
    # a hard-wrapped paragraph is one unit; its line-final hyphens stay as written
    wrapped = next(t for t in texts if t.startswith("Prosjektet har prøvd"))
    assert "bo- og\ntjenestetilbud" in wrapped and "Midt-\nNorge" in wrapped
    assert wrapped.endswith("samarbeidet tar tid.")


def test_offsets_of_the_rest_do_not_move():
    with_masks = read_document(DATA / "pdf_rapport.txt", META)
    without = read_document(DATA / "pdf_rapport.txt", META, normalisers="none")
    assert with_masks.text == without.text
    assert not without.excluded
    masked = {(u["start"], u["end"]) for u in document_units(with_masks, "paragraph")}
    plain = {(u["start"], u["end"]) for u in document_units(without, "paragraph")}
    assert masked <= plain | {span for span in masked if with_masks.text[span[0]:span[1]].count("\n\n")}


def test_markdown_footnotes_toc_and_source_list():
    document = read_document(DATA / "notat_fotnoter.md", META)
    table = segment_documents([document], unit="paragraph")
    _assert_outside_excluded(document, table)
    texts = list(table["text"])
    assert texts[0] == "Arbeidet ble gjort i samarbeid med tre etater.<sup>1</sup> Det ga et godt grunnlag.[^a]"
    assert "Bo- og tjenestetilbudet må henge sammen." in texts
    assert not any("vedlegg" in t or "notatet fra 2023" in t or "Nordmann" in t or t == "---" for t in texts)
    assert set(table["heading"]) == {"Innledning", "Funn"}  # no "Innhold", no "Kilder" path


def test_page_break_join_only_across_blank_lines():
    text = ("# Del\n\nFørste ledd slutter midt i en\n\n\nsetning som går videre her.\n\n"
            "Nytt ledd.\n\nEt ledd som slutter uten punktum\n\n12\n\nfortsetter etter sidetallet.\n")
    document = Document("a.md", text, {"kommune": "Bergen"})
    units = _units(document)
    assert units[0] == "Første ledd slutter midt i en\n\n\nsetning som går videre her."
    assert "12" not in units and "fortsetter etter sidetallet." in units  # no unit across an excluded range
    document.normalisers = frozenset(DEFAULT_NORMALISERS - {"page_joins"})
    document.excluded = find_excluded(text, document.normalisers)
    assert _units(document)[:2] == ["Første ledd slutter midt i en", "setning som går videre her."]


def test_participant_line_in_a_transcript():
    text = ("Til stede: Moderator, D1, D2\n\nModerator: Velkommen.\n\nD1: Takk.\n\n"
            "Moderator: Da starter vi.\n\nD2: Ja.\n")
    document = Document("t.md", text, {"kommune": "Bergen", "kilde": "fokusgruppe"})
    table = segment_documents([document], unit="turn")
    assert list(table["speaker"]) == ["Moderator", "D1", "Moderator", "D2"]
    assert "Til stede" not in " ".join(table["text"])


def test_numbered_headings_are_not_footnotes():
    text = "1 Innledning\n\nTekst her.\n\n2 Metode\n\nMer tekst.\n"
    assert not [e for e in find_excluded(text) if e.kind == "footnote"]


def test_ocr_repair_is_off_by_default_and_reports_each_change():
    plain = read_document(DATA / "ocr_rapport.txt", META)
    assert "pa mote" in plain.text and not plain.ocr_changes
    document = read_document(DATA / "ocr_rapport.txt", META, normalisers=["+ocr"])
    assert "la vekt på at økonomi og bostedsløshet" in document.text
    assert "ønsket å få mer tid" in document.text
    assert "Flotten & Gredem (2014)" in document.text  # a citation keeps its ampersand
    assert "i Stjørdal og Ålesund" in document.text
    for change in document.ocr_changes:
        assert document.text[change.start : change.start + len(change.new)] == change.new
        assert change.line >= 1
    assert {(c.old, c.new) for c in document.ocr_changes} >= {("pa", "på"), ("ekonomi", "økonomi"), ("&", "å")}
    assert any(note.startswith("ocr:") for note in document.notes)


def test_repair_keeps_real_words_and_capitals():
    repaired, changes = repair_ocr("Pa mandag bade vi. Ekonomisk sett er det meter hver uke.")
    assert repaired == "På mandag bade vi. Økonomisk sett er det meter hver uke."
    assert [(c.start, c.old, c.new, c.line) for c in changes] == [(0, "Pa", "På", 1), (19, "Ekonomisk", "Økonomisk", 1)]


_LINES = st.sampled_from([
    "", "", "12", "- 3 -", "---", "Innhold", "Kapittel .....\t4", "Del to\t7", "Referanser", "Deltakere:",
    "Nordmann, K. (2019). Tittel.", "ola@eksempel.no", "¹ En fotnote fra 2020.", "<sup>2</sup> Fotnote.",
    "[^1]: Definisjon.", "# Overskrift", "- punkt", "D1: Jeg mener at", "Moderator: Hva tenker dere?",
    "fortsettelse av setningen", "En hel setning.", "bo- og", "tjenestetilbud i Midt-", "Norge.",
    "pa mote & fa", "Til stede: D1, D2",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=30), st.sampled_from(["paragraph", "turn"]), st.booleans(), st.booleans())
def test_offsets_slice_back_with_every_normaliser(lines, unit, transcript, ocr):
    from qualkit.ingest import apply_normalisers

    meta = {"kommune": "Bergen", "kilde": "fokusgruppe" if transcript else "rapport"}
    document = apply_normalisers(Document("x.md", "\n".join(lines), meta), "all" if ocr else None)
    for change in document.ocr_changes:
        assert document.text[change.start : change.start + len(change.new)] == change.new
    table = segment_documents([document], unit=unit)
    _assert_outside_excluded(document, table)
    for row in table.itertuples():
        assert row.text and row.text == row.text.strip()


def test_pdf_page_break_keeps_the_last_line_and_leaves_running_headers_out():
    once = ("Tjenestene er organisert i et eget team som samarbeider\n\n12\n"
            "\fÅrsrapport 2024: Bolig for velferd i Alta\n\ntett med NAV. Det har fungert godt.\n\n13\n")
    document = Document("r.txt", once, META)
    assert _units(document) == ["Tjenestene er organisert i et eget team som samarbeider",
                                "tett med NAV. Det har fungert godt."]
    assert [document.text[e.start : e.end] for e in find_excluded(once) if e.kind == "running_header"] == [
        "\fÅrsrapport 2024: Bolig for velferd i Alta"]
    header = "Evaluering av Bolig for velferd\t\t2024"
    repeated = (f"{header}\n\nInnledning\n\nKommunen har styrket det boligsosiale arbeidet.\n\nSide 1 av 3\n"
                f"\f{header}\n\nØkonomi\n\nKommunens økonomi er stram.\n\nSide 2 av 3\n"
                f"\f{header}\n\nHusbanken\n\nStartlån er lite kjent blant brukerne.\n\nSide 3 av 3\n")
    document = Document("r.txt", repeated, META)
    headers = [e for e in find_excluded(repeated) if e.kind == "running_header"]
    assert [repeated[e.start : e.end].strip("\f") for e in headers] == [header] * 3
    table = segment_documents([document], unit="paragraph")
    assert table["text"].tolist() == ["Kommunen har styrket det boligsosiale arbeidet.",
                                      "Kommunens økonomi er stram.", "Startlån er lite kjent blant brukerne."]
    assert table["heading"].tolist() == ["Innledning", "Økonomi", "Husbanken"]
    # without form feeds there are no pages to compare, and a repeated line is left alone
    assert all(e.kind != "running_header" for e in find_excluded(repeated.replace("\f", "")))
