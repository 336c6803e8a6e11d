"""REFI-QDA exchange: export validates against the XSDs, vendor files import with the right offsets, round trips
are exact, and hostile archives or XML are refused with clear errors."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from qualkit.errors import QualkitError, RefiError
from qualkit.ingest import Document
from qualkit.refi import (
    Limits,
    codebook_from_refi,
    codings_table,
    codings_to_labels,
    from_documents,
    from_folder,
    load_qdc,
    load_qdpx,
    report_table,
    stable_guid,
    write_qdc,
    write_qdpx,
)
from tests.conftest import DEMO, SHARED, needs_shared

REFI = SHARED / "data" / "refi-qda"
NS = "urn:QDA-XML:project:1.0"


# helpers ---------------------------------------------------------------------------------------------------------
def _schema(name: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(REFI / name)))


def _assert_valid(xml: bytes, schema_name: str) -> None:
    from lxml import etree

    schema = _schema(schema_name)
    assert schema.validate(etree.fromstring(xml)), schema.error_log


def _g() -> str:
    return str(uuid.uuid4()).upper()


def _qdpx(path: Path, qde: str, files: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


def _project(body: str, codes: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="test" origin="handmade">'
            f'<Users><User guid="{{0A0A0A0A-0000-0000-0000-000000000001}}" name="Kari"/></Users>'
            f'<CodeBook><Codes>{codes or CODES}</Codes></CodeBook>{body}</Project>')


CODE_A = "AAAAAAAA-0000-0000-0000-00000000000A"
CODE_B = "BBBBBBBB-0000-0000-0000-00000000000B"
CODES = (f'<Code guid="{{{CODE_A}}}" name="Husleie og økonomi" isCodable="true"><Description>Om penger</Description>'
         f'<Code guid="{CODE_B}" name="Bostøtte" isCodable="true"/></Code>')
USER = "{0A0A0A0A-0000-0000-0000-000000000001}"


def _selection(start: int, end: int, quote: str = "", code: str = CODE_A) -> str:
    name = f' name="{quote}"' if quote else ""
    return (f'<PlainTextSelection guid="{_g()}"{name} startPosition="{start}" endPosition="{end}" '
            f'creatingUser="{USER}"><Coding guid="{_g()}" creatingUser="{USER}"><CodeRef targetGUID="{code}"/>'
            "</Coding></PlainTextSelection>")


def _source(guid: str, path: str, selections: str, name: str = "kilde") -> str:
    return f'<TextSource guid="{guid}" name="{name}" plainTextPath="{path}">{selections}</TextSource>'


def _demo_documents() -> list[Document]:
    return [
        Document("alta_intervju.md", "Intervjuer: Hvordan er boligsituasjonen?\nD1: Husleia er for høy på Alta.\n",
                 {"kommune": "Alta", "fylke": "Finnmark", "kilde": "intervju", "år": 2025, "syntetisk": True}),
        Document("alta_workshop.md", "Workshop om bostøtte og økonomi i Alta 😊.\n",
                 {"kommune": "Alta", "fylke": "Finnmark", "kilde": "workshop", "år": 2024, "syntetisk": True}),
        Document("bergen.md", "Bergen mangler kommunale utleieboliger.\nVentelistene er lange.",
                 {"kommune": "Bergen", "fylke": "Vestland", "kilde": "fokusgruppe", "år": 2025}),
    ]


def _demo_codings() -> pd.DataFrame:
    return pd.DataFrame([
        {"document": "alta_intervju.md", "start": 41, "end": 72, "code": "okonomi", "coder": "Kari"},
        {"document": "alta_intervju.md", "start": 41, "end": 72, "code": "bolig", "coder": "model:svm"},
        {"document": "alta_workshop.md", "start": 0, "end": 41, "code": "okonomi", "coder": "Ola"},
        {"document": "bergen.md", "start": 0, "end": 39, "code": "bolig", "coder": "Kari", "memo": "viktig"},
    ])


@pytest.fixture
def demo_refi(codebook):
    return from_documents(_demo_documents(), codebook, _demo_codings(), name="demo")


# export ----------------------------------------------------------------------------------------------------------
@needs_shared
def test_export_validates_against_the_xsds(tmp_path, demo_refi):
    write_qdpx(demo_refi, tmp_path / "demo.qdpx")
    write_qdc(demo_refi, tmp_path / "demo.qdc")
    with zipfile.ZipFile(tmp_path / "demo.qdpx") as archive:
        names = archive.namelist()
        _assert_valid(archive.read("project.qde"), "Project.xsd")
    assert "project.qde" in names and sum(n.startswith("sources/") for n in names) == 3
    _assert_valid((tmp_path / "demo.qdc").read_bytes(), "Codebook.xsd")


def test_export_content(tmp_path, demo_refi):
    from lxml import etree

    write_qdpx(demo_refi, tmp_path / "demo.qdpx")
    root = etree.fromstring(zipfile.ZipFile(tmp_path / "demo.qdpx").read("project.qde"))
    ns = {"q": NS}
    cases = root.findall("q:Cases/q:Case", ns)
    assert sorted(c.get("name") for c in cases) == ["Alta", "Bergen"]
    alta = next(c for c in cases if c.get("name") == "Alta")
    assert len(alta.findall("q:SourceRef", ns)) == 2
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.findall("q:Variables/q:Variable", ns)}
    assert variables["kommune"] == "Text" and variables["år"] == "Integer" and variables["syntetisk"] == "Boolean"
    alta_values = {root.find(f"q:Variables/q:Variable[@guid='{v.find('q:VariableRef', ns).get('targetGUID')}']",
                             ns).get("name") for v in alta.findall("q:VariableValue", ns)}
    assert alta_values == {"kommune", "fylke", "syntetisk"}  # shared by both Alta documents; år and kilde differ
    users = {u.get("name") for u in root.findall("q:Users/q:User", ns)}
    assert users == {"Kari", "model:svm", "Ola"}
    # the model coding is marked by a NoteRef to the maskinkoding note; human codings are not
    marked = [c for c in root.iter(f"{{{NS}}}Coding") if c.find("q:NoteRef", ns) is not None]
    assert len(marked) == 1
    note = root.find(f"q:Notes/q:Note[@guid='{marked[0].find('q:NoteRef', ns).get('targetGUID')}']", ns)
    assert "maskinkoding (model:svm)" in note.get("name")
    selection = root.find("q:Sources/q:TextSource/q:PlainTextSelection", ns)
    assert selection.get("startPosition") == "41" and selection.get("name") == "D1: Husleia er for høy på Alta."


def test_guids_are_stable_across_exports(tmp_path, codebook):
    first = from_documents(_demo_documents(), codebook, _demo_codings(), name="demo")
    second = from_documents(_demo_documents(), codebook, _demo_codings(), name="demo")
    write_qdpx(first, tmp_path / "a.qdpx")
    write_qdpx(second, tmp_path / "b.qdpx")
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    assert first.sources[0].guid == stable_guid("source", "alta_intervju.md")


def test_export_offsets_are_codepoints_with_emoji(tmp_path, demo_refi):
    write_qdpx(demo_refi, tmp_path / "demo.qdpx")
    imported = load_qdpx(tmp_path / "demo.qdpx")
    workshop = next(s for s in imported.sources if s.name == "alta_workshop.md")
    selection = workshop.selections[0]
    assert workshop.text[selection.start:selection.end] == "Workshop om bostøtte og økonomi i Alta 😊."


# round trip --------------------------------------------------------------------------------------------------------
def test_round_trip_is_exact(tmp_path, demo_refi):
    write_qdpx(demo_refi, tmp_path / "a.qdpx")
    imported = load_qdpx(tmp_path / "a.qdpx")
    assert imported.issues == []
    write_qdpx(imported, tmp_path / "b.qdpx")
    a, b = zipfile.ZipFile(tmp_path / "a.qdpx"), zipfile.ZipFile(tmp_path / "b.qdpx")
    assert a.namelist() == b.namelist()
    for name in a.namelist():
        assert a.read(name) == b.read(name), name
    table = codings_table(imported)
    assert sorted(table["code"]) == ["bolig", "bolig", "okonomi", "okonomi"]
    assert set(table["coder"]) == {"Kari", "model:svm", "Ola"}
    write_qdc(imported, tmp_path / "b.qdc")
    codes = load_qdc(tmp_path / "b.qdc")
    assert [c.key for c in codes.all_codes()] == [c.key for c in imported.all_codes()]


def test_codebook_round_trip(tmp_path, codebook, demo_refi):
    write_qdc(demo_refi, tmp_path / "kodebok.qdc")
    book = codebook_from_refi(load_qdc(tmp_path / "kodebok.qdc"), "boligsosialt")
    assert [c.name for c in book.all_codes()] == [c.name for c in codebook.all_codes()]
    assert book.labels == codebook.labels


def test_codings_to_labels(demo_refi, tmp_path):
    write_qdpx(demo_refi, tmp_path / "a.qdpx")
    labels = codings_to_labels(load_qdpx(tmp_path / "a.qdpx"))
    assert list(labels.columns) == ["text", "codes"]
    row = labels[labels["text"] == "D1: Husleia er for høy på Alta."].iloc[0]
    assert row["codes"] == "bolig;okonomi"
    only_kari = codings_to_labels(load_qdpx(tmp_path / "a.qdpx"), coder="Kari")
    assert set(only_kari["codes"]) == {"okonomi", "bolig"} and len(only_kari) == 2


# vendor files ------------------------------------------------------------------------------------------------------
@needs_shared
@pytest.mark.parametrize("name", ["blank-atlas-project.qdpx", "target-atlas-project.qdpx"])
def test_atlas_samples_import(name):
    imported = load_qdpx(REFI / "samples" / name)
    assert imported.origin.startswith("ATLAS.ti")
    assert {u.name for u in imported.users} == {"Enric Llagostera", "ATLAS.ti"}
    assert imported.issues == []
    if name.startswith("target"):
        (commits,) = imported.codes
        assert commits.name == "Commits" and len(commits.children) == 2
        assert codebook_from_refi(imported).code("commits").subcodes[0].label == "2022-05-10T02:05:59Z 19e4dce"


NORSK = "Møte på Tromsø rådhus\r\nD1: Vi har for få utleieboliger.\r\nD2: Økonomien er trang, særlig for unge.\r\n"
LF = NORSK.replace("\r\n", "\n")


def _span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_crlf_bom_utf16_sources_map_to_lf_offsets(tmp_path, encoding):
    part = "Økonomien er trang"
    start, end = _span(NORSK, part)  # counted in the CRLF text, as the spec reads it
    source = _source(f"{{{_g().upper()}}}", "internal://kilde.txt", _selection(start, end))
    path = _qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{source}</Sources>"),
                 {"Sources/kilde.txt": NORSK.encode(encoding)})  # upper-case folder: a vendor quirk
    imported = load_qdpx(path)
    (src,) = imported.sources
    assert src.text == LF
    (selection,) = src.selections
    assert src.text[selection.start:selection.end] == part
    assert codings_table(imported)["coder"].tolist() == ["Kari"]
    assert any("mapped" in issue.reason and issue.imported for issue in imported.issues)


def test_lf_counted_offsets_are_detected_by_selection_names(tmp_path):
    """Some tools store CRLF files but count offsets in the LF text: the quoted selection name tells."""
    part = "Økonomien er trang"
    start, end = _span(LF, part)
    selections = _selection(start, end, part) + _selection(*_span(LF, "Vi har for få"), "Vi har for få")
    path = _qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{_source(_g(), 'internal://k.txt', selections)}"
                                               "</Sources>"), {"sources/k.txt": NORSK.encode("utf-8")})
    (src,) = load_qdpx(path).sources
    assert [src.text[s.start:s.end] for s in src.selections] == [part, "Vi har for få"]


def test_decomposed_norwegian_characters(tmp_path):
    raw = "Bo\u0308lge: sma\u030a boliger i Tromso\u0338 er dyre"  # combining marks, as macOS writes them
    part_raw = "sma\u030a boliger"
    start, end = _span(raw, part_raw)
    path = _qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{_source(_g(), 'internal://k.txt', _selection(start, end))}"
                                               "</Sources>"), {"sources/k.txt": raw.encode("utf-8")})
    (src,) = load_qdpx(path).sources
    (selection,) = src.selections
    assert src.text[selection.start:selection.end] == "små boliger"


def test_plain_text_content_docx_and_relative_sources(tmp_path):
    import docx

    word = docx.Document()
    word.add_paragraph("Første avsnitt om bolig.")
    word.add_paragraph("Andre avsnitt om økonomi.")
    buffer = io.BytesIO()
    word.save(buffer)
    (tmp_path / "eksterne").mkdir()
    (tmp_path / "eksterne" / "notat.txt").write_text("Relativ kilde om bostøtte.", encoding="utf-8")
    docx_text = "Første avsnitt om bolig.\nAndre avsnitt om økonomi."
    sources = (
        f'<TextSource guid="{_g()}" name="innebygd"><PlainTextContent>Innebygd tekst om husleie.</PlainTextContent>'
        f"{_selection(*_span('Innebygd tekst om husleie.', 'husleie'))}</TextSource>"
        f'<TextSource guid="{_g()}" name="word" richTextPath="internal://w.docx">'
        f"{_selection(*_span(docx_text, 'Andre avsnitt'))}</TextSource>"
        + _source(_g(), "relative://eksterne/notat.txt", _selection(*_span("Relativ kilde om bostøtte.", "bostøtte")),
                  "relativ")
    )
    path = _qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{sources}</Sources>"), {"sources/w.docx": buffer.getvalue()})
    imported = load_qdpx(path)
    texts = {s.name: s.text[s.selections[0].start:s.selections[0].end] for s in imported.sources}
    assert texts == {"innebygd": "husleie", "word": "Andre avsnitt", "relativ": "bostøtte"}
    assert any(".docx" in issue.reason for issue in imported.issues)


def test_cases_variables_sets_notes(tmp_path):
    source_guid, case_guid, var_k, var_n, note, code_note = _g(), _g(), _g(), _g(), _g(), _g()
    sel_guid = _g()
    body = (
        f'<Variables><Variable guid="{var_k}" name="kommune" typeOfVariable="Text"/>'
        f'<Variable guid="{var_n}" name="deltakere" typeOfVariable="Integer"/></Variables>'
        f'<Cases><Case guid="{case_guid}" name="Tromsø"><VariableValue><VariableRef targetGUID="{var_k}"/>'
        f"<TextValue>Tromsø</TextValue></VariableValue><SourceRef targetGUID=\"{source_guid}\"/></Case></Cases>"
        f'<Sources><TextSource guid="{source_guid.lower()}" name="tromso"><PlainTextContent>{LF}</PlainTextContent>'
        f'<PlainTextSelection guid="{sel_guid}" startPosition="0" endPosition="5"><Coding guid="{_g()}" '
        f'creatingUser="{{99999999-0000-0000-0000-000000000009}}"><CodeRef targetGUID="{CODE_B}"/></Coding>'
        f'<NoteRef targetGUID="{note}"/></PlainTextSelection>'
        f'<VariableValue><VariableRef targetGUID="{var_n}"/><IntegerValue>6</IntegerValue></VariableValue>'
        "</TextSource></Sources>"
        f'<Notes><Note guid="{note}" name="Memo"><PlainTextContent>Husk å sjekke.</PlainTextContent></Note>'
        f'<Note guid="{code_note}" name="Kodememo"><PlainTextContent>Om koden.</PlainTextContent></Note></Notes>'
        f'<Sets><Set guid="{_g()}" name="Økonomisett"><MemberCode targetGUID="{CODE_A}"/>'
        f'<MemberSource targetGUID="{source_guid}"/></Set></Sets>'
    )
    codes = CODES.replace("<Description>Om penger</Description>",
                          f'<Description>Om penger</Description><NoteRef targetGUID="{code_note}"/>')
    imported = load_qdpx(_qdpx(tmp_path / "p.qdpx", _project(body, codes)))
    (case,) = imported.cases
    assert case.variables == {"kommune": "Tromsø"} and case.sources == [source_guid]
    assert imported.sources[0].variables == {"deltakere": 6}
    notes = {n.name: n for n in imported.notes}
    assert notes["Memo"].targets == [sel_guid] and notes["Kodememo"].targets == [CODE_A]
    assert imported.sets[0].codes == [CODE_A] and imported.sets[0].sources == [source_guid]
    # a coding by an undeclared user is kept, the user created and reported
    assert codings_table(imported)["coder"].tolist() == ["user-99999999"]
    assert any(i.element == "User" and i.imported for i in imported.issues)
    from qualkit.refi import source_documents

    (document,) = source_documents(imported)
    assert document.metadata["kommune"] == "Tromsø" and document.metadata["deltakere"] == 6
    # everything imported is exported again: valid, and a second round trip changes nothing
    write_qdpx(imported, tmp_path / "ut.qdpx")
    again = load_qdpx(tmp_path / "ut.qdpx")
    assert again.sets == imported.sets and again.cases == imported.cases
    assert {n.guid: n.targets for n in again.notes} == {n.guid: n.targets for n in imported.notes}
    write_qdpx(again, tmp_path / "ut2.qdpx")
    assert (tmp_path / "ut.qdpx").read_bytes() == (tmp_path / "ut2.qdpx").read_bytes()
    if REFI.exists():
        _assert_valid(zipfile.ZipFile(tmp_path / "ut.qdpx").read("project.qde"), "Project.xsd")


def test_what_cannot_be_imported_is_reported(tmp_path):
    sources = (
        _source(_g(), "internal://k.txt", _selection(0, 5) + _selection(3, 999) + _selection(0, 4, code=_g()))
        + f'<PDFSource guid="{_g()}" name="rapport.pdf" path="internal://r.pdf"/>'
        + _source(_g(), "internal://mangler.txt", "", "borte")
        + _source(_g(), "file:///etc/passwd", "", "utenfor")
    )
    body = (f"<Sources>{sources}</Sources><Links><Link guid=\"{_g()}\" name=\"lenke\"/></Links>")
    imported = load_qdpx(_qdpx(tmp_path / "p.qdpx", _project(body), {"sources/k.txt": b"Hei og velkommen"}))
    report = report_table(imported)
    left_out = " | ".join(report[~report["imported"]]["reason"])
    for expected in ("outside the text", "unknown code", "PDFSource", "not in the archive", "outside the project's "
                     "folder", "links not imported"):
        assert expected in left_out
    assert len(imported.sources) == 1
    # the selection stays (a quotation), only its coding of the unknown code is left out
    assert [len(s.codings) for s in imported.sources[0].selections] == [1, 0]


# safety --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("member", ["/etc/evil.txt", "../evil.txt", "sources/../../evil.txt", "C:\\evil.txt",
                                    "..\\evil.txt"])
def test_unsafe_zip_member_names(tmp_path, member):
    path = _qdpx(tmp_path / "p.qdpx", _project(""), {member: b"x"})
    with pytest.raises(RefiError, match="unsafe zip entry"):
        load_qdpx(path)


def test_too_many_files(tmp_path):
    path = _qdpx(tmp_path / "p.qdpx", _project(""), {f"sources/{i}.txt": b"x" for i in range(20)})
    with pytest.raises(RefiError, match="21 entries"):
        load_qdpx(path, limits=Limits(max_files=10))


def test_zip_bomb(tmp_path):
    path = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", _project(""))
        archive.writestr("sources/bomb.txt", b"0" * (8 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    with pytest.raises(RefiError, match="decompresses to"):
        load_qdpx(path, limits=Limits(max_member_bytes=1024 * 1024))
    with pytest.raises(RefiError, match="decompresses to"):
        load_qdpx(path, limits=Limits(max_total_bytes=1024 * 1024))


def test_zip_bomb_with_lying_header(tmp_path):
    """The declared size in the zip header is small; reading stops at the limit anyway."""
    path = tmp_path / "liar.qdpx"
    qde = _project(f"<Sources>{_source(_g(), 'internal://b.txt', '')}</Sources>").encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/b.txt", b"0" * (4 * 1024 * 1024))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("sources/b.txt")
    fake = (100).to_bytes(4, "little")
    data[info.header_offset + 22: info.header_offset + 26] = fake  # local header: uncompressed size
    central = data.rindex(b"PK\x01\x02")  # last central directory entry is b.txt
    data[central + 24: central + 28] = fake
    path.write_bytes(bytes(data))
    imported = load_qdpx(path, limits=Limits(max_member_bytes=1024 * 1024))
    assert not imported.sources
    assert any("cannot read entry" in i.reason for i in imported.issues)  # zipfile stops at the declared size


def test_decompressed_bytes_are_counted_while_reading(tmp_path):
    """Reading counts decompressed bytes itself (defence in depth behind the header sizes and zipfile's checks)."""
    path = tmp_path / "bomb.qdpx"
    qde = _project(f"<Sources>{_source(_g(), 'internal://b.txt', '')}</Sources>")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/b.txt", b"0" * (3 * 1024 * 1024))
    from qualkit.refi.safety import SafeZip

    with SafeZip(path) as archive:
        # limits lowered after the header check: the check while decompressing still stops it
        archive.limits = Limits(max_total_bytes=2 * 1024 * 1024)
        with pytest.raises(RefiError, match="zip bomb"):
            archive.read("sources/b.txt")


def test_not_a_zip(tmp_path):
    (tmp_path / "x.qdpx").write_text("hei")
    with pytest.raises(RefiError, match="not a zip archive"):
        load_qdpx(tmp_path / "x.qdpx")
    assert issubclass(RefiError, QualkitError)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_hostile_xml(tmp_path, xml):
    with pytest.raises(RefiError, match="refused unsafe XML"):
        load_qdpx(_qdpx(tmp_path / "p.qdpx", xml))
    (tmp_path / "k.qdc").write_text(xml.replace("Project", "CodeBook"))
    with pytest.raises(RefiError, match="refused unsafe XML"):
        load_qdc(tmp_path / "k.qdc")


def test_broken_xml(tmp_path):
    with pytest.raises(RefiError, match="not well-formed"):
        load_qdpx(_qdpx(tmp_path / "p.qdpx", "<Project"))


# qualkit projects and the CLI ----------------------------------------------------------------------------------------
def test_project_adapter_round_trip(tmp_path, demo_refi):
    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    write_qdpx(demo_refi, tmp_path / "a.qdpx")
    report = to_project(load_qdpx(tmp_path / "a.qdpx"), tmp_path / "studie.qualkit")
    assert report.empty
    with Project.open(tmp_path / "studie.qualkit") as project:
        codings = project.codings(applied_only=True)
        assert len(codings) == 4
        assert set(codings["code"]) == {"bolig", "okonomi"}
        assert project.document("alta_intervju.md").metadata["kommune"] == "Alta"
        again = from_project(project)
    assert sorted(codings_table(again)["text"]) == sorted(codings_table(demo_refi)["text"])
    assert {s.guid for s in again.sources} == {s.guid for s in demo_refi.sources}


def test_cli_export_folder_and_import(tmp_path):
    from qualkit.cli.refi_cmd import app

    runner = CliRunner()
    result = runner.invoke(app, ["export", "--from-folder", str(DEMO), "--qdpx", str(tmp_path / "demo.qdpx"),
                                 "--qdc", str(tmp_path / "demo.qdc")])
    assert result.exit_code == 0, result.output
    assert "codings" in result.output
    imported = load_qdpx(tmp_path / "demo.qdpx")
    assert imported.sources and all(u.name.startswith("keywords:") for u in imported.users)
    result = runner.invoke(app, ["import", str(tmp_path / "demo.qdpx"), "--project", str(tmp_path / "p.qualkit"),
                                 "--labels", str(tmp_path / "labels.csv")])
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert list(labels.columns) == ["text", "codes"] and len(labels) > 0
    result = runner.invoke(app, ["export", str(tmp_path / "p.qualkit"), "--qdpx", str(tmp_path / "again.qdpx")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["import", str(tmp_path / "demo.qdc")])
    assert result.exit_code == 0, result.output


def test_cli_clear_error(tmp_path):
    from qualkit.cli.refi_cmd import app

    (tmp_path / "x.qdpx").write_bytes(b"not a zip")
    result = CliRunner().invoke(app, ["import", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 2 and "not a zip archive" in result.output


def test_from_folder_keyword_codings(codebook):
    refi = from_folder(DEMO, codebook)
    table = codings_table(refi)
    assert not table.empty and set(table["code"]) <= set(codebook.code_names)
    assert {c.name for c in refi.cases} >= {"Alta", "Bergen"}


def test_qdc_without_namespace_and_with_braces(tmp_path):
    (tmp_path / "k.qdc").write_bytes(
        "\ufeff<?xml version='1.0' encoding='utf-8'?>\n<CodeBook origin='MAXQDA'><Codes>"
        f"<Code guid='{{{CODE_A}}}' name='Økonomi' isCodable='false'><Description>Penger\r\nog sånt</Description>"
        f"<Code guid='{CODE_B}' name='Bostøtte' isCodable='true' color='#FF0000'/></Code></Codes>"
        f"<Sets><Set guid='{_g()}' name='S'><MemberCode guid='{CODE_B}'/></Set></Sets></CodeBook>".encode())
    imported = load_qdc(tmp_path / "k.qdc")
    (top,) = imported.codes
    assert top.guid == CODE_A and not top.codable and top.description == "Penger\nog sånt"
    assert top.children[0].color == "#FF0000" and imported.sets[0].codes == [CODE_B]
    book = codebook_from_refi(imported, "maxqda")
    assert [c.name for c in book.all_codes()] == ["økonomi", "bostøtte"]


def test_vendor_project_into_qualkit_project_and_back(tmp_path):
    """Sources keep their GUIDs through a qualkit project; notes become memos on their document."""
    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    source_guid, note = _g(), _g()
    sel = _selection(*_span(LF, "Økonomien er trang"))
    body = (f'<Sources><TextSource guid="{source_guid}" name="tromso.txt"><PlainTextContent>{LF}</PlainTextContent>'
            f'{sel}<NoteRef targetGUID="{note}"/></TextSource></Sources>'
            f'<Notes><Note guid="{note}" name="Memo"><PlainTextContent>Husk å sjekke.</PlainTextContent></Note>'
            "</Notes>")
    imported = load_qdpx(_qdpx(tmp_path / "p.qdpx", _project(body)))
    report = to_project(imported, tmp_path / "p.qualkit")
    assert report.empty, report
    with Project.open(tmp_path / "p.qualkit") as project:
        memos = project.memos()
        assert memos["document"].tolist() == ["tromso.txt"] and "Husk å sjekke." in memos["text"].iloc[0]
        codings = project.codings()
        assert codings[["code", "coder"]].values.tolist() == [["husleie_og_økonomi", "Kari"]]
        again = from_project(project)
    assert again.sources[0].guid == source_guid
    assert "refi_guid" not in again.sources[0].variables


@needs_shared
def test_every_export_path_validates(tmp_path, codebook):
    from qualkit.cli.refi_cmd import app

    runner = CliRunner()
    assert runner.invoke(app, ["export", "--from-folder", str(DEMO), "--qdpx", str(tmp_path / "a.qdpx"),
                               "--qdc", str(tmp_path / "a.qdc")]).exit_code == 0
    assert runner.invoke(app, ["import", str(tmp_path / "a.qdpx"), "--project", str(tmp_path / "p.qualkit")]
                         ).exit_code == 0
    assert runner.invoke(app, ["export", str(tmp_path / "p.qualkit"), "--qdpx", str(tmp_path / "b.qdpx"),
                               "--qdc", str(tmp_path / "b.qdc")]).exit_code == 0
    write_qdpx(load_qdpx(tmp_path / "b.qdpx"), tmp_path / "c.qdpx")
    for name in ("a.qdpx", "b.qdpx", "c.qdpx"):
        with zipfile.ZipFile(tmp_path / name) as archive:
            _assert_valid(archive.read("project.qde"), "Project.xsd")
    for name in ("a.qdc", "b.qdc"):
        _assert_valid((tmp_path / name).read_bytes(), "Codebook.xsd")
    # project → qdpx keeps sources, codes, selections and codings of the folder export
    a, b = load_qdpx(tmp_path / "a.qdpx"), load_qdpx(tmp_path / "b.qdpx")
    columns = ["source", "start", "end", "code", "coder"]
    assert (codings_table(a)[columns].sort_values(columns).values.tolist()
            == codings_table(b)[columns].sort_values(columns).values.tolist())
    assert {s.guid for s in a.sources} == {s.guid for s in b.sources}
    assert {c.guid for c in a.all_codes()} == {c.guid for c in b.all_codes()}


def test_cli_import_qdc_into_project(tmp_path, demo_refi):
    from qualkit.cli.refi_cmd import app
    from qualkit.project import Project

    write_qdc(demo_refi, tmp_path / "k.qdc")
    result = CliRunner().invoke(app, ["import", str(tmp_path / "k.qdc"), "--project", str(tmp_path / "p.qualkit")])
    assert result.exit_code == 0, result.output
    with Project.open(tmp_path / "p.qualkit") as project:
        assert "bolig" in project.codebook.code_names


def test_utf16_code_unit_offsets_are_detected_by_selection_names(tmp_path):
    raw = "Hei 😊 alle! Husleia er høy 😟 i Tromsø."
    part = "Husleia er høy"
    cp_start = raw.index(part)
    start, end = cp_start + 1, cp_start + 1 + len(part)  # one emoji before: two UTF-16 code units
    source = _source(_g(), "internal://k.txt", _selection(start, end, part))
    (src,) = load_qdpx(_qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{source}</Sources>"),
                             {"sources/k.txt": raw.encode("utf-8")})).sources
    assert src.text[src.selections[0].start:src.selections[0].end] == part
