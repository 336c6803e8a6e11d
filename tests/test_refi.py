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
    notes = {n.get("guid"): n for n in root.findall("q:Notes/q:Note", ns)}
    refs = {c.get("guid"): [notes[r.get("targetGUID")] for r in c.findall("q:NoteRef", ns)]
            for c in root.iter(f"{{{NS}}}Coding")}
    marked = [guid for guid, linked in refs.items() if any("maskinkoding" in n.get("name") for n in linked)]
    assert len(marked) == 1
    assert "maskinkoding (model:svm)" in refs[marked[0]][0].get("name")
    # Kari's memo is a note linked from her coding only, written by her
    (memo,) = [n for linked in refs.values() for n in linked if n.findtext("q:PlainTextContent", namespaces=ns)
               == "viktig"]
    kari = root.find("q:Users/q:User[@name='Kari']", ns).get("guid")
    assert memo.get("creatingUser") == kari and sum(memo in linked for linked in refs.values()) == 1
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


# findings of the s16 review: imports into existing projects, memos, names, atomicity -------------------------------
def _one_source_qdpx(path: Path, name: str, text: str, part: str, notes: str = "", note_ref: str = "") -> Path:
    """A qdpx with one source ``name`` and one selection of ``part`` coded by Kari with code A."""
    start, end = _span(text, part) if "\n" in text else (text.index(part), text.index(part) + len(part))
    selection = _selection(start, end, part).replace("</PlainTextSelection>", f"{note_ref}</PlainTextSelection>")
    body = f"<Sources>{_source(_g(), 'internal://k.txt', selection, name)}</Sources>{notes}"
    return _qdpx(path, _project(body), {"sources/k.txt": text.encode("utf-8")})


def _state(path: Path) -> tuple:
    from qualkit.project import Project

    with Project.open(path, readonly=True) as project:
        return (project.documents()["text_hash"].tolist(), project.codings().values.tolist(),
                project.memos().values.tolist(), project.actions().values.tolist())


def test_codings_of_a_source_that_was_not_imported_are_left_out(tmp_path):
    """Finding 1: a source whose name is stored with other text is a conflict; its codings must not be stored on
    the stored text (they would point at other words)."""
    from qualkit.project import Project
    from qualkit.refi import to_project

    with Project.create(tmp_path / "p.qualkit") as project:
        project.add_documents([Document("bodo.txt", "Kort tekst om bolig og husleie i Bodø.\n")])
    changed = "Innledning skrevet av Kari i et annet verktøy.\nKort tekst om bolig og husleie i Bodø.\n"
    report = to_project(load_qdpx(_one_source_qdpx(tmp_path / "k.qdpx", "bodo.txt", changed, "bolig og husleie")),
                        tmp_path / "p.qualkit")
    with Project.open(tmp_path / "p.qualkit") as project:
        assert project.codings().empty
    (line,) = report[report["element"] == "TextSource"].to_dict("records")
    assert not line["imported"] and "nor its 1 selection(s) and 1 coding(s)" in line["reason"]


def test_import_is_one_transaction_and_one_action_per_coder(tmp_path, monkeypatch):
    """Finding 8: an import that fails half-way leaves an existing project as it was and creates no new file."""
    from qualkit.project import Project
    from qualkit.refi import to_project

    text = "Møte om bolig.\nD1: Husleia er for høy.\nD2: Bostøtten strekker ikke til.\n"
    note = _g()
    notes = f'<Notes><Note guid="{note}" name="Memo"><PlainTextContent>Husk.</PlainTextContent></Note></Notes>'
    qdpx = _one_source_qdpx(tmp_path / "k.qdpx", "møte.txt", text, "Husleia er for høy",
                            notes=notes, note_ref=f'<NoteRef targetGUID="{note}"/>')
    with Project.create(tmp_path / "p.qualkit", codebook_from_refi(load_qdpx(qdpx))) as project:
        project.add_documents([Document("annen.txt", "Annen tekst.\n")])
    before = _state(tmp_path / "p.qualkit")

    def broken(*args, **kwargs):
        raise RuntimeError("simulated crash after the documents and codings were written")

    monkeypatch.setattr(Project, "add_memo", broken)
    for target in ("p.qualkit", "ny.qualkit"):
        with pytest.raises(RuntimeError, match="simulated"):
            to_project(load_qdpx(qdpx), tmp_path / target)
    assert _state(tmp_path / "p.qualkit") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.qdpx", "p.qualkit"]  # no new project, no temp files
    monkeypatch.undo()
    to_project(load_qdpx(qdpx), tmp_path / "p.qualkit")
    with Project.open(tmp_path / "p.qualkit") as project:
        assert project.actions()[["coder", "kind", "rows"]].values.tolist() == [["Kari", "refi_import", 1]]
        assert len(project.codings()) == 1 and len(project.memos()) == 1


def test_own_export_imported_back_changes_nothing(tmp_path, demo_project_template):
    """Finding 4: a segment coding and a span coding of the same span, code and coder are one Coding (one GUID);
    importing the export into the project it came from recognises every coding and memo."""
    import shutil
    from collections import Counter

    from lxml import etree

    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    path = tmp_path / "p.qualkit"
    shutil.copy(demo_project_template, path)
    with Project.open(path) as project:
        segments = project.segments()
        first, second = segments.iloc[0], segments.iloc[1]
        project.decide(first["segment_id"], "Anne", ["bolig"], memo="Annes notat")
        project.code_span(first["document"], int(first["start"]), int(first["end"]), "bolig", "Anne")
        project.decide(first["segment_id"], "Bjørn", ["bolig", "okonomi"])
        project.code_span(second["document"], int(second["start"]) + 2, int(second["end"]), "okonomi", "Bjørn")
        project.add_memo("Om hele prosjektet", coder="Anne")
        write_qdpx(from_project(project), tmp_path / "p.qdpx")
    root = etree.fromstring(zipfile.ZipFile(tmp_path / "p.qdpx").read("project.qde"))
    guids = Counter(e.get("guid") for e in root.iter(f"{{{NS}}}Coding"))
    assert len(guids) == 4 and max(guids.values()) == 1  # Anne bolig (segment + span), Bjørn ×3
    before = _state(path)
    for _ in range(2):
        report = to_project(load_qdpx(tmp_path / "p.qdpx"), path)
        assert report.empty, report
        assert _state(path) == before


def test_memos_are_exported_and_stay_with_their_coder_and_span(tmp_path, demo_project_template):
    """Findings 2 and 3: memos on the project, a document, a code, a segment and a span go out as notes and come
    back to the same place; a coder's coding memo stays with that coder; re-importing does not double them."""
    import shutil

    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    path = tmp_path / "p.qualkit"
    shutil.copy(demo_project_template, path)
    with Project.open(path) as project:
        segment = project.segments().iloc[3]
        document, start, end = segment["document"], int(segment["start"]), int(segment["end"])
        project.decide(segment["segment_id"], "Anne", ["bolig"], memo="Annes notat æøå 🙂")
        project.decide(segment["segment_id"], "Bjørn", ["bolig"])
        project.add_memo("Prosjektmemo", coder="Anne")
        project.add_memo("Dokumentmemo", coder="Bjørn", document=document)
        project.add_memo("Kodememo", code="okonomi")
        project.add_memo("Segmentmemo", coder="Anne", segment_id=segment["segment_id"])
        project.add_memo("Spennmemo", coder="Anne", document=document, start=start + 1, end=start + 5)
        write_qdpx(from_project(project), tmp_path / "p.qdpx")
    for _ in range(2):  # the second import must not add anything
        assert to_project(load_qdpx(tmp_path / "p.qdpx"), tmp_path / "ny.qualkit").empty
    with Project.open(tmp_path / "ny.qualkit") as project:
        memos = project.memos()
        got = {tuple(r) for r in memos[["coder", "document", "code", "start", "end", "text"]]
               .astype(object).where(memos.notna(), None).values.tolist()}
        assert got == {("Anne", "", "", None, None, "Prosjektmemo"),
                       ("Bjørn", document, "", None, None, "Dokumentmemo"),
                       ("", "", "okonomi", None, None, "Kodememo"),
                       ("Anne", document, "", start, end, "Segmentmemo"),
                       ("Anne", document, "", start + 1, start + 5, "Spennmemo")}
        codings = project.codings(applied_only=True)
        assert codings.set_index("coder")["memo"].to_dict() == {"Anne": "Annes notat æøå 🙂", "Bjørn": None}


def test_vendor_note_on_a_selection_becomes_a_memo_on_its_span(tmp_path):
    from qualkit.project import Project
    from qualkit.refi import to_project

    text = "Møte om bolig.\nD1: Husleia er for høy.\n"
    note = _g()
    notes = (f'<Notes><Note guid="{note}" name="Viktig" creatingUser="{USER}"><PlainTextContent>Sjekk tallene.'
             "</PlainTextContent></Note></Notes>")
    qdpx = _one_source_qdpx(tmp_path / "k.qdpx", "møte.txt", text, "Husleia er for høy", notes=notes,
                            note_ref=f'<NoteRef targetGUID="{note}"/>')
    to_project(load_qdpx(qdpx), tmp_path / "p.qualkit")
    to_project(load_qdpx(qdpx), tmp_path / "p.qualkit")
    with Project.open(tmp_path / "p.qualkit") as project:
        (memo,) = project.memos().to_dict("records")
        codings = project.codings()
    assert (memo["coder"], memo["document"], memo["text"]) == ("Kari", "møte.txt", "Viktig\n\nSjekk tallene.")
    assert text[memo["start"]:memo["end"]] == "Husleia er for høy"
    assert codings["memo"].isna().all()  # a note on the selection is not copied into the codings


@pytest.mark.parametrize("names", [("Kommune", "kommune_kode"), ("Text", "text_kode"), ("Start", "start_kode"),
                                   ("Bolig score", "bolig_score_kode"), ("Reviewed", "reviewed_kode")])
def test_code_names_that_are_table_columns_are_renamed(tmp_path, names):
    """Finding 5: a code named like a segment-table column would overwrite that column in coded_table."""
    from qualkit.project import Project
    from qualkit.refi import to_project

    label, expected = names
    codes = f'<Code guid="{CODE_A}" name="{label}" isCodable="true"/>'
    text = "Intervjuer: Hvordan er det?\nD1: Husleia er for høy på Alta.\n"
    source = _source(_g(), "internal://k.txt", _selection(*_span(text, "Husleia er for høy")), "alta.txt")
    imported = load_qdpx(_qdpx(tmp_path / "k.qdpx", _project(f"<Sources>{source}</Sources>", codes),
                               {"sources/k.txt": text.encode()}))
    report = to_project(imported, tmp_path / "p.qualkit")
    assert report["reason"].str.contains(f"named '{expected}'").sum() == 1
    with Project.open(tmp_path / "p.qualkit") as project:
        assert project.codebook.code_names == [expected]
        assert project.codebook.code(expected).label == label
        project.segment("turn")
        table = project.coded_table("Kari")
    assert table[expected].tolist() == [1]
    assert table["text"].str.contains("Husleia").all() and table["start"].tolist() == [0]
    assert table["kommune"].tolist() == [""] and table["reviewed"].tolist() == [True]


def test_control_characters_do_not_break_the_export(tmp_path):
    """Finding 9: text pasted from Word/PDF keeps control characters; XML 1.0 cannot carry them."""
    text = "D1: Vi har for f\x08å boliger\x01 og husleia er høg.\n"
    document = Document("ctrl.txt", text, {"kommune": "Alta", "merknad": "feil\x0b"})
    codings = pd.DataFrame([{"document": "ctrl.txt", "start": 4, "end": 30, "code": "bolig", "coder": "Anne",
                             "memo": "notat\x07"}])
    refi = from_documents([document], None, codings)
    write_qdpx(refi, tmp_path / "c.qdpx")
    (line,) = [i for i in refi.issues if i.element == "TextSource"]
    assert "2 control character(s)" in line.reason and "U+0008 at offset 16" in line.reason and line.imported
    qde = zipfile.ZipFile(tmp_path / "c.qdpx").read("project.qde").decode()
    assert "for f\ufffdå boliger\ufffd" in qde and "notat\ufffd" in qde
    if REFI.exists():
        _assert_valid(qde.encode(), "Project.xsd")
    (source,) = load_qdpx(tmp_path / "c.qdpx").sources
    assert source.text == text and (source.selections[0].start, source.selections[0].end) == (4, 30)


def test_qdpx_without_codes_imports_into_a_new_project(tmp_path):
    """Finding 11: transcripts only (or a blank project) become a project with the default codebook."""
    from qualkit.project import Project
    from qualkit.refi import to_project

    body = f"<Sources>{_source(_g(), 'internal://k.txt', '', 'volda.txt')}</Sources>"
    qde = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="berre tekst" origin="handmade">'
           f"{body}</Project>")
    report = to_project(load_qdpx(_qdpx(tmp_path / "k.qdpx", qde, {"sources/k.txt": b"D1: Bustad.\n"})),
                        tmp_path / "p.qualkit")
    assert report["reason"].str.contains("default codebook").any()
    with Project.open(tmp_path / "p.qualkit") as project:
        assert project.documents()["document"].tolist() == ["volda.txt"]
        assert "bolig" in project.codebook.code_names


def test_qdc_import_keeps_the_codebooks_keywords(tmp_path, codebook, demo_refi):
    """Finding 6: REFI-QDA has no keywords or examples; importing a .qdc must not strip them silently."""
    from qualkit.cli.refi_cmd import app
    from qualkit.project import Project

    runner = CliRunner()
    Project.create(tmp_path / "p.qualkit").close()
    write_qdc(demo_refi, tmp_path / "egen.qdc")
    result = runner.invoke(app, ["import", str(tmp_path / "egen.qdc"), "--project", str(tmp_path / "p.qualkit")])
    assert result.exit_code == 0 and "kept" in result.output, result.output
    with Project.open(tmp_path / "p.qualkit") as project:
        assert project.codebook.fingerprint == codebook.fingerprint
    # a changed label and a new code: the hierarchy is taken, the keywords of known codes stay, the rest is named
    text = (tmp_path / "egen.qdc").read_text(encoding="utf-8")
    first = codebook.codes[0]
    text = text.replace(f'name="{first.label}"', 'name="Bolig (ny)"', 1).replace(
        "</Codes>", f'<Code guid="{_g()}" name="Helse" isCodable="true"/></Codes>')
    (tmp_path / "ny.qdc").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "ny.qdc"), "--project", str(tmp_path / "p.qualkit")])
    assert result.exit_code == 0, result.output
    assert "warning: 1 code(s) have no keywords or examples" in result.output and "helse" in result.output
    with Project.open(tmp_path / "p.qualkit") as project:
        merged = project.codebook
    assert merged.code(first.name).label == "Bolig (ny)" and merged.code(first.name).keywords == first.keywords
    assert merged.code("helse").keywords == []


def test_export_of_a_project_another_process_is_writing(tmp_path, demo_refi, monkeypatch):
    """Finding 10: export opens read-only, so a writer's lock does not block it; an import says the project is
    locked instead of printing a traceback."""
    import sqlite3

    from qualkit.cli.refi_cmd import app
    from qualkit.project import schema
    from qualkit.refi import to_project

    write_qdpx(demo_refi, tmp_path / "a.qdpx")
    to_project(load_qdpx(tmp_path / "a.qdpx"), tmp_path / "p.qualkit")
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_S", 0.2)
    writer = sqlite3.connect(tmp_path / "p.qualkit", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta VALUES ('x', 'y')")
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["export", str(tmp_path / "p.qualkit"), "--qdpx", str(tmp_path / "b.qdpx")])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["import", str(tmp_path / "a.qdpx"), "--project", str(tmp_path / "p.qualkit")])
        assert result.exit_code == 2 and "locked by another process" in result.output, result.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# findings 6, 7 and 13 of the s16 review: codebook details, identities of another tool's elements, counted BOMs ----
def _custom_codebook(codebook):
    """The default codebook changed the way a user would: another name, a new keyword, another label, a
    definition ending in a line break (as YAML's ``|`` gives it)."""
    data = codebook.model_dump()
    data.update(name="egen_kodebok", label="Egen kodebok", version="2.1")
    data["codes"][0]["keywords"] = [*data["codes"][0]["keywords"], "sokkelleilighet*"]
    data["codes"][1]["definition"] += "\n"
    data["codes"][2]["label"] = "Samarbeid på tvers"
    return type(codebook).model_validate(data)


@pytest.mark.parametrize("which", ["default", "custom"])
def test_a_qualkit_export_gives_a_new_project_its_codebook(tmp_path, codebook, which):
    """Finding 6: a project made from a qualkit .qdpx or .qdc has the codebook it was exported with, keywords,
    examples and rules included, and the same fingerprint (so the shipped model applies to the default)."""
    from qualkit.cli.refi_cmd import app
    from qualkit.project import Project
    from qualkit.refi import to_project

    book = codebook if which == "default" else _custom_codebook(codebook)
    refi = from_documents(_demo_documents(), book, _demo_codings(), name="demo")
    write_qdpx(refi, tmp_path / "a.qdpx")
    write_qdc(refi, tmp_path / "a.qdc")
    if REFI.exists():
        _assert_valid(zipfile.ZipFile(tmp_path / "a.qdpx").read("project.qde"), "Project.xsd")
        _assert_valid((tmp_path / "a.qdc").read_bytes(), "Codebook.xsd")
    assert to_project(load_qdpx(tmp_path / "a.qdpx"), tmp_path / "fra_qdpx.qualkit").empty
    result = CliRunner().invoke(app, ["import", str(tmp_path / "a.qdc"), "--project",
                                      str(tmp_path / "fra_qdc.qualkit")])
    assert result.exit_code == 0, result.output
    for name in ("fra_qdpx.qualkit", "fra_qdc.qualkit"):
        with Project.open(tmp_path / name) as project:
            restored = project.codebook
        assert restored.fingerprint == book.fingerprint, name
        assert (restored.name, restored.version) == (book.name, book.version)
        assert restored.code("bolig").keywords == book.code("bolig").keywords
        assert restored.code("okonomi").examples == book.code("okonomi").examples


def test_an_older_qualkit_export_is_recognised_as_the_default_codebook(tmp_path, codebook, demo_refi):
    """Finding 6: exports of an older qualkit (only ``qualkit-kode``, no details) of the default codebook give the
    default codebook back; changed codes come back with their details and a report line."""
    import re

    write_qdc(demo_refi, tmp_path / "ny.qdc")
    text = (tmp_path / "ny.qdc").read_text(encoding="utf-8")
    assert "qualkit-data: " in text and "sokkel" not in text
    (tmp_path / "gammel.qdc").write_text(re.sub(r"\nqualkit-data: [^<]*", "", text), encoding="utf-8")
    old = load_qdc(tmp_path / "gammel.qdc")
    recognised = codebook_from_refi(old, "gammel")
    assert recognised.fingerprint == codebook.fingerprint
    assert "codebook boligsosialt" in report_table(old)["reason"].iloc[0]
    # into a project whose codebook has the same codes with keywords of its own, these stay; keywords that an
    # export brings replace them
    from qualkit.refi import merge_codebook

    own = codebook.model_copy(update={"codes": [codebook.codes[0].model_copy(update={"keywords": ["hybel*"]}),
                                                *codebook.codes[1:]]})
    assert merge_codebook(own, recognised)[0] is own
    write_qdc(from_documents([], _custom_codebook(codebook)), tmp_path / "egen.qdc")
    merged, notes = merge_codebook(own, codebook_from_refi(load_qdc(tmp_path / "egen.qdc")))
    assert "sokkelleilighet*" in merged.code("bolig").keywords and "brought their keywords" in notes[0]
    # a label changed in the other tool: the label is taken, keywords and examples stay, the change is reported
    (tmp_path / "endret.qdc").write_text(text.replace('name="Bolig og botilbud"', 'name="Bustad"'), encoding="utf-8")
    changed = load_qdc(tmp_path / "endret.qdc")
    book = codebook_from_refi(changed, "endret")
    assert book.code("bolig").label == "Bustad" and book.code("bolig").keywords == codebook.code("bolig").keywords
    assert book.name == "boligsosialt" and book.fingerprint != codebook.fingerprint
    assert "changed in the other tool" in report_table(changed)["reason"].iloc[0]
    # text a user added after qualkit's lines is part of the definition; the details are still read
    (tmp_path / "tillegg.qdc").write_text(text.replace("</Description>", "\nMerknad frå Kari.</Description>", 1),
                                          encoding="utf-8")
    book = codebook_from_refi(load_qdc(tmp_path / "tillegg.qdc"), "tillegg")
    assert book.code("bolig").definition == codebook.code("bolig").definition.strip() + "\n\nMerknad frå Kari."
    assert book.code("bolig").keywords == codebook.code("bolig").keywords
    # details a tool damaged are reported: the default codebook is still recognised by its codes, another
    # codebook's code is imported without them (and named)
    damage = ('qualkit-data: {"examples"', 'qualkit-data: {"examp')
    (tmp_path / "skadet.qdc").write_text(text.replace(*damage, 1), encoding="utf-8")
    damaged = load_qdc(tmp_path / "skadet.qdc")
    assert codebook_from_refi(damaged, "skadet").fingerprint == codebook.fingerprint
    assert "could not be read" in report_table(damaged)["reason"].iloc[0]
    custom = (tmp_path / "egen.qdc").read_text(encoding="utf-8")
    (tmp_path / "egen_skadet.qdc").write_text(custom.replace(*damage, 1), encoding="utf-8")
    damaged = load_qdc(tmp_path / "egen_skadet.qdc")
    book = codebook_from_refi(damaged, "skadet")
    reasons = " | ".join(report_table(damaged)["reason"])
    assert "could not be read" in reasons and "came without their keywords and examples" in reasons
    assert book.code("bolig").keywords == [] and book.code("tjenester").keywords


VENDOR_TEXT = "Ordstyrar: Korleis bur folk her?\nD1: Det er mangel på små bustader i sentrum.\n"


def _vendor_qdpx(path: Path, guids: dict[str, str]) -> Path:
    """A project as another tool writes it: a code hierarchy with colours and a group that cannot be coded, two
    users (one without codings), typed variables, a case and a set."""
    g = guids
    start, end = _span(VENDOR_TEXT, "mangel på små bustader")
    qde = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="Ørsta-prosjektet" origin="vendor">'
        f'<Users><User guid="{g["ingrid"]}" name="Ingrid Haug"/><User guid="{g["per"]}" name="Per Lie"/></Users>'
        f'<CodeBook><Codes><Code guid="{g["tema"]}" name="Tema" isCodable="false" color="#123456">'
        f'<Code guid="{g["bustad"]}" name="Bustad" isCodable="true" color="#FF0000"><Description>Om bustader'
        f'</Description></Code><Code guid="{g["pengar"]}" name="Pengar" isCodable="true"/></Code></Codes></CodeBook>'
        f'<Variables><Variable guid="{g["dato"]}" name="Intervjudato" typeOfVariable="Date"/>'
        f'<Variable guid="{g["tal"]}" name="Deltakarar" typeOfVariable="Integer"/></Variables>'
        f'<Cases><Case guid="{g["case"]}" name="Gruppe A"><VariableValue><VariableRef targetGUID="{g["tal"]}"/>'
        f'<IntegerValue>4</IntegerValue></VariableValue><SourceRef targetGUID="{g["source"]}"/></Case></Cases>'
        f'<Sources><TextSource guid="{g["source"]}" name="Fokusgruppe Ørsta"><PlainTextContent>{VENDOR_TEXT}'
        f'</PlainTextContent><PlainTextSelection guid="{_g()}" name="mangel på små bustader" startPosition="{start}" '
        f'endPosition="{end}"><Coding guid="{_g()}" creatingUser="{g["ingrid"]}"><CodeRef targetGUID="{g["bustad"]}"/>'
        f'</Coding></PlainTextSelection><VariableValue><VariableRef targetGUID="{g["dato"]}"/>'
        f"<DateValue>2025-04-02</DateValue></VariableValue></TextSource></Sources>"
        f'<Sets><Set guid="{g["set"]}" name="Bustadsett"><MemberCode targetGUID="{g["bustad"]}"/>'
        f'<MemberSource targetGUID="{g["source"]}"/></Set></Sets></Project>')
    return _qdpx(path, qde)


def _identities(refi) -> dict:
    return {"codes": {c.guid: (c.name, c.color, c.codable, c.description) for c in refi.all_codes()},
            "users": {u.guid: u.name for u in refi.users},
            "variables": {v.guid: (v.name, v.type) for v in refi.variables},
            "cases": [(c.guid, c.name, c.variables, c.sources) for c in refi.cases],
            "sets": [(s.guid, s.name, s.codes, s.sources) for s in refi.sets]}


def test_another_tools_elements_come_back_through_a_project(tmp_path):
    """Finding 7: vendor → qualkit project → vendor keeps the GUIDs of codes, users and variables, colours,
    isCodable, variable types, users without codings, cases and sets; the descriptions stay the vendor's."""
    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    guids = {name: _g() for name in ("ingrid", "per", "tema", "bustad", "pengar", "dato", "tal", "case", "source",
                                     "set")}
    original = load_qdpx(_vendor_qdpx(tmp_path / "v.qdpx", guids))
    assert to_project(original, tmp_path / "p.qualkit").empty
    with Project.open(tmp_path / "p.qualkit") as project:
        write_qdpx(from_project(project), tmp_path / "ut.qdpx")
        assert set(project.refi_elements()["kind"]) == {"code", "user", "variable", "case", "set"}
    qde = zipfile.ZipFile(tmp_path / "ut.qdpx").read("project.qde")
    if REFI.exists():
        _assert_valid(qde, "Project.xsd")
    back = load_qdpx(tmp_path / "ut.qdpx")
    assert _identities(back) == _identities(original)
    assert b"qualkit-kode" not in qde and b'name="case"' not in qde
    # a second trip through a new project gives the same file (but for the project's name)
    to_project(back, tmp_path / "p2.qualkit")
    with Project.open(tmp_path / "p2.qualkit") as project:
        write_qdpx(from_project(project), tmp_path / "ut2.qdpx")
    again = zipfile.ZipFile(tmp_path / "ut2.qdpx").read("project.qde")
    assert again.replace(b'name="p2"', b'name="p"') == qde


def test_a_second_guid_for_the_same_code_is_reported_and_the_first_kept(tmp_path):
    from qualkit.project import Project
    from qualkit.refi import from_project, to_project

    first = {name: _g() for name in ("ingrid", "per", "tema", "bustad", "pengar", "dato", "tal", "case", "source",
                                     "set")}
    second = {**first, "bustad": _g(), "tema": _g(), "pengar": _g()}
    to_project(load_qdpx(_vendor_qdpx(tmp_path / "a.qdpx", first)), tmp_path / "p.qualkit")
    report = to_project(load_qdpx(_vendor_qdpx(tmp_path / "b.qdpx", second)), tmp_path / "p.qualkit")
    refused = report[report["reason"].str.contains("GUID not kept")]
    assert sorted(refused["name"]) == ["bustad", "pengar", "tema"] and refused["imported"].all()
    with Project.open(tmp_path / "p.qualkit") as project:
        back = from_project(project)
    assert {c.name: c.guid for c in back.all_codes()} == {"Tema": first["tema"], "Bustad": first["bustad"],
                                                          "Pengar": first["pengar"]}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_offsets_that_count_the_bom_are_detected_by_selection_names(tmp_path, encoding):
    """Finding 13: a tool that reads the file with its BOM counts U+FEFF as a character; names tell."""
    parts = ["Økonomien er trang", "Vi har for få"]
    selections = "".join(_selection(_span(NORSK, part)[0] + 1, _span(NORSK, part)[1] + 1, part) for part in parts)
    path = _qdpx(tmp_path / "p.qdpx", _project(f"<Sources>{_source(_g(), 'internal://k.txt', selections)}"
                                               "</Sources>"), {"sources/k.txt": NORSK.encode(encoding)})
    imported = load_qdpx(path)
    (src,) = imported.sources
    assert [src.text[s.start:s.end] for s in src.selections] == parts
    assert any("counting the file's BOM" in issue.reason for issue in imported.issues)
    # the same offsets without names: the spec's reading (BOM not counted), as before
    unnamed = "".join(_selection(_span(NORSK, part)[0], _span(NORSK, part)[1]) for part in parts)
    path = _qdpx(tmp_path / "q.qdpx", _project(f"<Sources>{_source(_g(), 'internal://k.txt', unnamed)}</Sources>"),
                 {"sources/k.txt": NORSK.encode(encoding)})
    (src,) = load_qdpx(path).sources
    assert [src.text[s.start:s.end] for s in src.selections] == parts
