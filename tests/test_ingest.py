"""Ingestion: every demo file, encodings, formats, metadata, and clear errors for bad input."""

import unicodedata
from pathlib import Path

import pytest

from qualkit.errors import IngestError
from qualkit.ingest import DEFAULT_NORMALISERS, read_corpus, read_document

from conftest import DEMO, TRANSCRIPT

DEMO_FILES = sorted(p for p in DEMO.glob("*.md") if p.name != "README.md")


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_every_demo_file_ingests_with_complete_metadata(path: Path):
    document = read_document(path)
    meta = document.metadata
    assert meta["syntetisk"] is True
    assert meta["kilde"] in {"fokusgruppe", "intervju", "workshop"}
    assert document.kommune and meta["fylke"] and meta["dato"]
    assert 1500 <= document.n_words <= 4000, f"{path.name} has {document.n_words} words"
    assert "\r" not in document.text and unicodedata.is_normalized("NFC", document.text)
    assert not document.text.startswith("---")


def test_demo_corpus_spans_municipalities_sources_and_nynorsk(demo_corpus):
    documents = demo_corpus.documents
    assert not demo_corpus.skipped
    assert len(documents) >= 10
    assert len({d.kommune for d in documents}) >= 6
    assert {d.kilde for d in documents} == {"fokusgruppe", "intervju", "workshop"}
    assert sum(d.metadata.get("målform") == "nynorsk" for d in documents) >= 2


def test_front_matter_and_speaker_table(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    document = read_document(path)
    assert document.kommune == "Sola"
    assert document.metadata["dato"] == "2025-02-03"
    assert document.speakers["D2"].role == "boligkonsulent"
    assert document.text.startswith("# Innledning")


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("utf-16", b"", "utf-16"),
     ("cp1252", b"", "cp1252")],
)
def test_encodings_are_detected_and_text_normalised(tmp_path: Path, encoding, bom, expected):
    text = "kommune: Bergen\r\nVi trenger flere små boliger på Årstad – og økonomisk støtte.\r\n"
    body = "---\r\nkommune: Bergen\r\n---\r\n" + text
    path = tmp_path / "enc.txt"
    path.write_bytes(bom + body.encode(encoding))
    document = read_document(path)
    assert document.encoding == expected
    assert document.text == text.replace("\r\n", "\n")


def test_decomposed_characters_become_nfc(tmp_path: Path):
    path = tmp_path / "nfd.txt"
    path.write_text("---\nkommune: Askøy\n---\n" + unicodedata.normalize("NFD", "Økonomi på Askøy"), encoding="utf-8")
    assert read_document(path).text == "Økonomi på Askøy"


def _expect_error(path: Path, pattern: str):
    with pytest.raises(IngestError, match=pattern) as error:
        read_document(path)
    assert str(path) in str(error.value)
    return error.value


def test_bad_input_gives_clear_errors(tmp_path: Path):
    empty = tmp_path / "tom.txt"
    empty.write_bytes(b"")
    _expect_error(empty, "empty file")
    binary = tmp_path / "bilde.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    _expect_error(binary, "binary file")
    fake_docx = tmp_path / "rapport.docx"
    fake_docx.write_text("dette er ikke en zip", encoding="utf-8")
    _expect_error(fake_docx, "not a zip package")
    no_kommune = tmp_path / "uten.md"
    no_kommune.write_text("---\nkilde: intervju\n---\nTekst.\n", encoding="utf-8")
    _expect_error(no_kommune, "no kommune")
    unsupported = tmp_path / "data.pdf"
    unsupported.write_bytes(b"%PDF-1.4")
    _expect_error(unsupported, "unsupported file type .pdf")


def test_front_matter_yaml_error_names_the_line(tmp_path: Path):
    path = tmp_path / "feil.md"
    path.write_text("---\nkommune: Bergen\nkilde: [fokusgruppe\ndato: 2025\n---\nTekst.\n", encoding="utf-8")
    error = _expect_error(path, "front matter is not valid YAML")
    assert error.line is not None and 3 <= error.line <= 5


def test_batch_goes_on_and_reports_what_it_skipped(tmp_path: Path):
    (tmp_path / "god.md").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "tom.txt").write_bytes(b"")
    (tmp_path / "uten.md").write_text("Bare tekst uten metadata.\n", encoding="utf-8")
    result = read_corpus(tmp_path)
    assert [d.name for d in result.documents] == ["god.md"]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons == {"tom.txt": "empty file", "uten.md": reasons["uten.md"]}
    assert "no kommune" in reasons["uten.md"]


def test_hidden_folders_and_junk_files_are_not_documents(tmp_path: Path):
    body = "---\nkommune: Bergen\n---\nModerator: Hei.\n\nD1: Vi trenger flere boliger.\n"
    for relative in ["Bergen/fg1.md", "Bergen/.ipynb_checkpoints/fg1-checkpoint.md", ".git/notat.txt",
                     "Bergen/.utkast.md", "Bergen/~$rapport.docx", "Bergen/Thumbs.db", "Bergen/.DS_Store",
                     "__MACOSX/Bergen/._fg1.md", "Bergen/gold_standard_intervju.md", "Bergen/Gold.md"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(body, "utf-8")
    result = read_corpus(tmp_path)
    assert [d.name for d in result.documents] == ["Bergen/Gold.md", "Bergen/fg1.md",
                                                  "Bergen/gold_standard_intervju.md"]
    assert not result.skipped


def test_sidecar_metadata_csv(tmp_path: Path):
    (tmp_path / "intervju1.txt").write_text("I: Hvordan bor du?\n\nR: Jeg bor i en liten leilighet.\n", "utf-8")
    (tmp_path / "metadata.csv").write_text("document,kommune,kilde,deltakere\nintervju1.txt,Alta,intervju,2\n", "utf-8")
    result = read_corpus(tmp_path)
    assert not result.skipped
    assert result.documents[0].kommune == "Alta"
    assert result.documents[0].metadata["deltakere"] == "2"


@pytest.mark.parametrize(
    ("content", "encoding"),
    [("document,kommune,kilde\r\nintervju.txt,Bærum,fokusgruppe\r\n", "cp1252"),
     ("Document;Kommune;Kilde\r\nintervju.txt;Bærum;fokusgruppe\r\n", "cp1252"),
     ("document;kommune;kilde\r\nintervju.txt;Bærum;fokusgruppe\r\n", "utf-8-sig"),
     ("document\tkommune\tkilde\nintervju.txt\tBærum\tfokusgruppe\n", "utf-16")],
    ids=["cp1252-comma", "cp1252-semicolon-capitalised", "utf8-bom-semicolon", "utf16-tab"],
)
def test_sidecar_metadata_csv_as_excel_saves_it(tmp_path: Path, content: str, encoding: str):
    (tmp_path / "intervju.txt").write_text("I: Hvordan bor du?\n\nR: Trangt, i en hybel.\n", "utf-8")
    (tmp_path / "metadata.csv").write_bytes(content.encode(encoding))
    result = read_corpus(tmp_path)
    assert not result.skipped
    assert result.documents[0].kommune == "Bærum"
    assert result.documents[0].metadata["kilde"] == "fokusgruppe"


def test_sidecar_metadata_csv_errors_name_the_file(tmp_path: Path):
    sidecar = tmp_path / "metadata.csv"
    sidecar.write_bytes(b"document,kommune\nintervju.txt,B\x81\x8d\x8f\x90\x9drum\n" * 3)
    with pytest.raises(IngestError, match="undecodable bytes") as error:
        read_corpus(tmp_path)
    assert str(sidecar) in str(error.value)
    sidecar.write_text("fil_navn;kommune\nintervju.txt;Bergen\n", "utf-8")
    with pytest.raises(IngestError, match=r"needs a column 'document' .*columns found: fil_navn, kommune"):
        read_corpus(tmp_path)


def test_fylke_is_the_registers_name_for_the_kommune(tmp_path: Path):
    body = "Moderator: Hei.\n\nD1: Vi trenger flere boliger.\n"
    for name, front in [("a.md", "kommune: Bærum\nfylke: Viken"), ("b.md", "kommune: Asker\nfylke: akershus"),
                        ("c.md", "kommune: bærum kommune"), ("d.md", "kommune: Bergen\nfylke: Hordaland"),
                        ("e.md", "kommune: Bergen\nfylke: 46")]:
        (tmp_path / name).write_text(f"---\n{front}\n---\n{body}", "utf-8")
    result = read_corpus(tmp_path)
    assert not result.skipped
    assert {d.name: d.metadata["fylke"] for d in result.documents} == {
        "a.md": "Akershus", "b.md": "Akershus", "c.md": "Akershus", "d.md": "Vestland", "e.md": "Vestland"}
    loose = tmp_path / "uten_kommune.md"
    for written, expected in [("sogn og fjordane", "Vestland"), ("Viken", "Viken"), ("Vestlandet", "Vestlandet")]:
        loose.write_text(f"---\nfylke: {written}\n---\n{body}", "utf-8")
        assert read_document(loose, require_kommune=False).metadata["fylke"] == expected


def test_kommune_from_the_nearest_folder_named_after_one(tmp_path: Path):
    body = "Vi manglar kommunale bustader.\n"
    for relative in ["Volda/intervju.txt", "Bergen/fokusgrupper/runde1.txt", "intervjuer/notat.txt",
                     "Herøy/samtale.txt", "Volda/med_metadata.md", "Volda/i_sidecar.txt", "5601/notat2.txt"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(body, "utf-8")
    (tmp_path / "Volda/med_metadata.md").write_text("---\nkommune: Ørsta\n---\n" + body, "utf-8")
    (tmp_path / "metadata.csv").write_text("document,kommune\nVolda/i_sidecar.txt,Stryn\n", "utf-8")
    result = read_corpus(tmp_path)
    kommuner = {d.name: d.kommune for d in result.documents}
    assert kommuner == {"Volda/intervju.txt": "Volda", "Bergen/fokusgrupper/runde1.txt": "Bergen",
                        "Volda/med_metadata.md": "Ørsta", "Volda/i_sidecar.txt": "Stryn"}
    by_name = {d.name: d for d in result.documents}
    assert by_name["Volda/intervju.txt"].metadata["kommune_fra"] == "mappenavn Volda"
    assert "kommune_fra" not in by_name["Volda/med_metadata.md"].metadata
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    # no kommune folder; Herøy is in two fylker; 5601 is Alta's number, but a folder of digits is not a kommune
    assert set(reasons) == {"notat.txt", "samtale.txt", "notat2.txt"}
    assert all("folder named after it" in reason for reason in reasons.values())
    single = read_corpus(tmp_path / "Volda" / "intervju.txt")
    assert [d.kommune for d in single.documents] == ["Volda"]


def test_kommune_from_a_folder_named_without_ae_oe_aa(tmp_path: Path):
    for relative in ["baerum/notat.txt", "tromso/intervju.txt"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("Vi mangler kommunale boliger.\n", "utf-8")
    result = read_corpus(tmp_path)
    assert {d.name: d.kommune for d in result.documents} == {"baerum/notat.txt": "Bærum",
                                                             "tromso/intervju.txt": "Tromsø"}


def test_docx_and_odt_made_here(tmp_path: Path):
    import docx
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    word = docx.Document()
    word.add_heading("Bolig", level=1)
    word.add_paragraph("Moderator: Hvordan er boligsituasjonen?")
    word.add_paragraph("D1: Det er for få leiligheter i Haugesund.")
    word.save(tmp_path / "fg.docx")
    odt = OpenDocumentText()
    odt.text.addElement(H(outlinelevel=1, text="Økonomi"))
    odt.text.addElement(P(text="Kommunen har ikke midler."))
    odt.save(str(tmp_path / "notat.odt"))
    (tmp_path / "metadata.csv").write_text("document,kommune\nfg.docx,Haugesund\nnotat.odt,Sola\n", "utf-8")
    documents = {d.name: d for d in read_corpus(tmp_path).documents}
    assert documents["fg.docx"].text == (
        "# Bolig\n\nModerator: Hvordan er boligsituasjonen?\n\nD1: Det er for få leiligheter i Haugesund."
    )
    assert documents["notat.odt"].text == "# Økonomi\n\nKommunen har ikke midler."


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_docx_reads_tables_tracked_insertions_and_content_controls_but_not_deletions(tmp_path: Path):
    import docx
    from docx.oxml import parse_xml

    word = docx.Document()
    word.add_paragraph("Moderator: Hvordan fungerer samarbeidet med NAV?")
    table = word.add_table(rows=3, cols=2)
    rows = [("D1", "Vi møtes hver uke i boligteamet."), ("D2:", "Men økonomien er stram."),
            ("Tiltak", "Flere små leiligheter.")]
    for i, (first, second) in enumerate(rows):
        table.cell(i, 0).text, table.cell(i, 1).text = first, second
    wide = word.add_table(rows=1, cols=3)
    for i, value in enumerate(["Bergen", "Housing First", "Fungerer godt for de fleste."]):
        wide.cell(0, i).text = value
    changed = word.add_paragraph("D1: Vi har ")
    changed._p.append(parse_xml(f'<w:ins {_W} w:id="1" w:author="A" w:date="2025-01-01T00:00:00Z">'
                                '<w:r><w:t xml:space="preserve">altfor få kommunale </w:t></w:r></w:ins>'))
    changed._p.append(parse_xml(f'<w:del {_W} w:id="2" w:author="A" w:date="2025-01-01T00:00:00Z">'
                                '<w:r><w:delText>nok </w:delText></w:r></w:del>'))
    changed.add_run("boliger.")
    body = word.element.body
    body.insert(len(body) - 1, parse_xml(f"<w:sdt {_W}><w:sdtPr><w:alias w:val=\"Svar\"/></w:sdtPr><w:sdtContent>"
                                         "<w:p><w:r><w:t>D2: Husbanken må på banen.</w:t></w:r></w:p>"
                                         "</w:sdtContent></w:sdt>"))
    word.save(tmp_path / "fg.docx")
    assert read_document(tmp_path / "fg.docx", require_kommune=False).text == (
        "Moderator: Hvordan fungerer samarbeidet med NAV?\n\nD1: Vi møtes hver uke i boligteamet.\n\n"
        "D2: Men økonomien er stram.\n\nTiltak: Flere små leiligheter.\n\n"
        "Bergen | Housing First | Fungerer godt for de fleste.\n\n"
        "D1: Vi har altfor få kommunale boliger.\n\nD2: Husbanken må på banen."
    )


def test_odt_reads_sections_tables_and_nested_lists_but_not_tracked_deletions(tmp_path: Path):
    from odf.office import ChangeInfo
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import Change, ChangedRegion, Deletion, H, List, ListItem, P, Section, TrackedChanges

    odt = OpenDocumentText()
    changes, region, deletion = TrackedChanges(), ChangedRegion(check_grammar=False), Deletion()
    region.setAttrNS("http://www.w3.org/XML/1998/namespace", "id", "ct1")
    deletion.addElement(ChangeInfo())
    deletion.addElement(P(text="IP: Dette avsnittet er sletta."))
    region.addElement(deletion)
    changes.addElement(region)
    odt.text.addElement(changes)
    odt.text.addElement(H(outlinelevel=1, text="Intervju"))
    question = P(text="I: Korleis er bustadsituasjonen?")
    question.addElement(Change(changeid="ct1"))
    odt.text.addElement(question)
    section = Section(name="Del1")
    section.addElement(P(text="IP: Det er for få bustader."))
    odt.text.addElement(section)
    table = Table(name="Svar")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    for value in ("IP", "Brukarane må få vere med."):
        cell = TableCell()
        cell.addElement(P(text=value))
        row.addElement(cell)
    table.addElement(row)
    odt.text.addElement(table)
    outer, item, inner, inner_item = List(), ListItem(), List(), ListItem()
    item.addElement(P(text="Tenester"))
    inner_item.addElement(P(text="Oppfølging i heimen"))
    inner.addElement(inner_item)
    item.addElement(inner)
    outer.addElement(item)
    odt.text.addElement(outer)
    odt.save(str(tmp_path / "intervju.odt"))
    assert read_document(tmp_path / "intervju.odt", require_kommune=False).text == (
        "# Intervju\n\nI: Korleis er bustadsituasjonen?\n\nIP: Det er for få bustader.\n\n"
        "IP: Brukarane må få vere med.\n\n- Tenester\n\n- Oppfølging i heimen"
    )


def test_vtt_and_srt_become_labelled_cues(tmp_path: Path):
    (tmp_path / "opptak.vtt").write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Moderator>Velkommen til samtalen.</v>\n\n"
        "00:00:05.500 --> 00:00:09.000\n<v Kari Nordmann>Jeg har bodd på hospits i et år.\n", "utf-8")
    (tmp_path / "opptak.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nD1: Vi mangler boliger.\n\n2\n00:01:02,000 --> 00:01:04,000\n"
        "Det er sant.\n", "utf-8")
    (tmp_path / "metadata.csv").write_text("document,kommune\nopptak.vtt,Kinn\nopptak.srt,Kinn\n", "utf-8")
    documents = {d.name: d for d in read_corpus(tmp_path).documents}
    assert documents["opptak.vtt"].text == (
        "[00:00:01] Moderator: Velkommen til samtalen.\n\n[00:00:05] Kari Nordmann: Jeg har bodd på hospits i et år."
    )
    assert documents["opptak.srt"].text == "[00:00:01] D1: Vi mangler boliger.\n\n[00:01:02] Det er sant."


def test_a_vtt_cue_is_cut_where_its_speaker_changes(tmp_path: Path):
    (tmp_path / "møte.vtt").write_text(
        "WEBVTT\n\n00:00:02.000 --> 00:00:05.000\n<v Siri Berg>Kom inn</v> <v Per>Takk &amp; hei</v>\n\n"
        "00:00:06.000 --> 00:00:08.000\n<v Per>Vi har venta lenge</v>\n<v Per>på svar frå NAV.</v>\n\n"
        "00:00:09.000 --> 00:00:11.000\n- Stemmer det?\n- Ja, dessverre\ndet gjer det.\n\n"
        "00:00:12.000 --> 00:00:13.000\n<v Berg, Siri (bustadkontoret)>Vi ser på det.</v>\n", "utf-8")
    document = read_document(tmp_path / "møte.vtt", require_kommune=False)
    assert document.text == (
        "[00:00:02] Siri Berg: Kom inn\n\n[00:00:02] Per: Takk & hei\n\n"
        "[00:00:06] Per: Vi har venta lenge på svar frå NAV.\n\n"
        "[00:00:09] Stemmer det?\n\n[00:00:09] Ja, dessverre det gjer det.\n\n"
        "[00:00:12] [Berg, Siri (bustadkontoret)]: Vi ser på det."
    )


def test_an_srt_cue_number_is_not_text_even_without_the_blank_line_before_it(tmp_path: Path):
    (tmp_path / "opptak.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nD1: Ventelista er lang.\n2\n00:00:04,000 --> 00:00:06,000\n"
        "- Kor lang?\n- Eit år.\n\n3\n00:00:07,000 --> 00:00:08,000\n<i>14</i>\n", "utf-8")
    document = read_document(tmp_path / "opptak.srt", require_kommune=False)
    assert document.text == ("[00:00:01] D1: Ventelista er lang.\n\n[00:00:04] Kor lang?\n\n[00:00:04] Eit år.\n\n"
                             "[00:00:07] 14")


def test_too_large_file_is_refused_without_reading_it(tmp_path: Path):
    big = tmp_path / "stor.txt"
    with big.open("wb") as handle:  # a sparse 200 MB file: no 200 MB written to disk
        handle.truncate(200 * 1024 * 1024)
    error = _expect_error_with(big, "file too large (209.7 MB; the limit is 52.4 MB")
    assert error.path == str(big)
    small = tmp_path / "liten.md"
    small.write_text(TRANSCRIPT, encoding="utf-8")
    _expect_error_with(small, "file too large", max_bytes=100)
    (tmp_path / "stor.docx").write_bytes(b"PK" + b"\x00" * 200)
    result = read_corpus(tmp_path, max_bytes=150)
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"stor.txt", "stor.docx", "liten.md"}
    assert all(r.startswith("file too large") for r in reasons.values())


def test_undecodable_bytes_name_file_and_line(tmp_path: Path):
    path = tmp_path / "rot.txt"
    path.write_bytes(b"kommune er Bergen\nlinje to\n" + bytes(range(0x80, 0xA0)) * 4 + b"\x81\x8d\x8f\x90\x9d\n")
    error = _expect_error(path, "undecodable bytes")
    assert error.line == 3 and str(error).startswith(f"{path}, line 3:")
    (tmp_path / "god.md").write_text(TRANSCRIPT, encoding="utf-8")
    result = read_corpus(tmp_path)
    assert [d.name for d in result.documents] == ["god.md"]
    assert "undecodable bytes" in result.skipped[0].reason


def test_speaker_table_from_metadata_and_text(tmp_path: Path):
    from qualkit.segment import speaker_table

    path = tmp_path / "a.md"
    path.write_text(TRANSCRIPT.replace("D1: Kommunen", "D3: Kommunen"), encoding="utf-8")
    table = speaker_table([read_document(path)])
    assert list(table.columns[:5]) == ["document", "label", "role", "turns", "source"]
    rows = {r.label: r for r in table.itertuples()}
    assert rows["D2"].role == "boligkonsulent" and rows["D2"].turns == 1 and rows["D2"].source == "metadata"
    assert rows["Moderator"].turns == 2
    assert rows["D3"].source == "text" and rows["D3"].role == ""


def test_normaliser_switches_on_read_corpus(tmp_path: Path):
    (tmp_path / "rapport.txt").write_text(
        "Innhold\n\nA .....\t1\nB .....\t2\nC .....\t3\n\nTekst om boliger pa Ålgård.\n", "utf-8")
    (tmp_path / "metadata.csv").write_text("document,kommune\nrapport.txt,Gjesdal\n", "utf-8")
    default = read_corpus(tmp_path).documents[0]
    assert [e.kind for e in default.excluded] == ["toc"] and default.normalisers == DEFAULT_NORMALISERS
    none = read_corpus(tmp_path, normalisers="none").documents[0]
    assert not none.excluded and none.text == default.text
    ocr = read_corpus(tmp_path, normalisers=["+ocr"]).documents[0]
    assert ocr.text.endswith("boliger på Ålgård.\n") and ocr.ocr_changes[0].line == 7


def _expect_error_with(path: Path, fragment: str, **options) -> IngestError:
    with pytest.raises(IngestError) as info:
        read_document(path, **options)
    assert fragment in str(info.value) and str(path) in str(info.value)
    return info.value


def test_a_kommune_number_with_a_leading_zero_is_not_read_as_octal(tmp_path: Path):
    """YAML 1.1 reads 0301 as the octal number 193; Oslo's kommunenummer is 0301."""
    path = tmp_path / "oslo.md"
    path.write_text("---\nkommune: 0301\ndeltakere_antall: 12\n---\nD1: Vi mangler boliger.\n", encoding="utf-8")
    document = read_document(path)
    assert document.kommune == "Oslo"
    assert document.metadata["deltakere_antall"] == 12
