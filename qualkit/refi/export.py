"""Write a :class:`RefiProject` as ``.qdpx`` (zip: ``project.qde`` + ``sources/``) or its codebook as ``.qdc``.

Sources are stored as UTF-8 plain text in ``sources/<guid>.txt`` and referenced as ``internal://<guid>.txt``;
selections are codepoint offsets into exactly that text. Output is deterministic (sorted, fixed zip timestamps),
so two exports of the same project are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

from qualkit.errors import RefiError
from qualkit.export import write_atomic
from qualkit.refi.model import RefiCode, RefiProject, RefiSource

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
#: Line of a code's Description naming the qualkit code (``qualkit-kode: bolig``); see docs/refi.md.
KEY_PREFIX = "qualkit-kode: "
#: Last line of a code's Description with qualkit's details of the code as JSON (keywords, examples, …).
DATA_PREFIX = "qualkit-data: "


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: Any) -> etree._Element:
    ns = etree.QName(parent).namespace
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for key, value in attrs.items():
        if value is not None:
            element.set(key, _xml_text(str(value)))
    if text is not None:
        element.text = _xml_text(text)
    return element


#: Characters XML 1.0 cannot carry: C0 controls but tab, LF and CR; surrogates; U+FFFE and U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text and attribute values for XML 1.0: each character it cannot carry becomes one U+FFFD, so lengths and
    offsets stay the same. The source files in ``sources/`` keep the text exactly; exports say so in their report."""
    return NOT_XML.sub("\ufffd", text)


def _code_element(parent: etree._Element, code: RefiCode, note_refs: dict[str, list[str]] | None) -> None:
    """A Code element; ``note_refs`` is None in a .qdc (Codebook.xsd has no NoteRef)."""
    element = _sub(parent, "Code", guid=code.guid, name=code.name, isCodable="true" if code.codable else "false",
                   color=code.color)
    description = code_description(code)
    if description:
        _sub(element, "Description", description)
    for guid in (note_refs or {}).get(code.guid, []):
        _sub(element, "NoteRef", targetGUID=guid)
    for child in code.children:
        _code_element(element, child, note_refs)


def code_description(code: RefiCode) -> str:
    """The description, then the qualkit code name and qualkit's details of the code (one JSON line), so that
    a re-import finds the code again with its keywords, examples and rules (see docs/refi.md)::

        Selve boligen og botilbudet: …

        qualkit-kode: bolig
        qualkit-data: {"examples": [...], "keywords": ["bolig*", ...], ...}

    The name comes before the details, so that a tool that cuts long descriptions short keeps it.
    """
    lines = [f"{KEY_PREFIX}{code.key}"] if code.key else []
    if code.details:
        lines.append(DATA_PREFIX + json.dumps(code.details, ensure_ascii=False, sort_keys=True))
    if not lines:
        return code.description
    return "\n\n".join(part for part in (code.description, "\n".join(lines)) if part)


def _variable_value(parent: etree._Element, variable_guid: str, kind: str, value: Any) -> None:
    element = _sub(parent, "VariableValue")
    _sub(element, "VariableRef", targetGUID=variable_guid)
    if kind == "Boolean":
        _sub(element, "BooleanValue", "true" if value else "false")
    elif kind in ("Integer", "Float") and _is_number(value, kind):
        _sub(element, f"{kind}Value", str(value))
    elif kind in ("Date", "DateTime"):
        _sub(element, f"{kind}Value", value.isoformat() if hasattr(value, "isoformat") else str(value))
    else:
        _sub(element, "TextValue", "" if value is None else str(value))


def _is_number(value: Any, kind: str) -> bool:
    """Whether ``value`` fits its numeric variable; values that do not (a vendor's typo) are written as text."""
    try:
        int(str(value)) if kind == "Integer" else float(str(value))
    except ValueError:
        return False
    return not isinstance(value, bool)


def project_xml(project: RefiProject) -> bytes:
    """``project.qde`` content for a project (valid against Project.xsd)."""
    root = etree.Element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS})
    root.set("name", project.name or "qualkit")
    root.set("origin", project.origin or "qualkit")
    if project.creating_user:
        root.set("creatingUserGUID", project.creating_user)
    if project.users:
        users = _sub(root, "Users")
        for user in project.users:
            _sub(users, "User", guid=user.guid, name=user.name)
    note_refs = _note_refs(project)
    if project.codes:
        codes = _sub(_sub(root, "CodeBook"), "Codes")
        for code in project.codes:
            _code_element(codes, code, note_refs)
    variable_types = {v.name: (v.guid, v.type) for v in project.variables}
    if project.variables:
        variables = _sub(root, "Variables")
        for variable in project.variables:
            element = _sub(variables, "Variable", guid=variable.guid, name=variable.name,
                           typeOfVariable=variable.type)
            if variable.description:
                _sub(element, "Description", variable.description)
    if project.cases:
        cases = _sub(root, "Cases")
        for case in project.cases:
            element = _sub(cases, "Case", guid=case.guid, name=case.name)
            if case.description:
                _sub(element, "Description", case.description)
            for name, value in case.variables.items():
                guid, kind = _variable(variable_types, name, "case " + case.name)
                _variable_value(element, guid, kind, value)
            for source in case.sources:
                _sub(element, "SourceRef", targetGUID=source)
    if project.sources:
        sources = _sub(root, "Sources")
        for source in project.sources:
            _source_element(sources, source, variable_types, note_refs)
    if project.notes:
        notes = _sub(root, "Notes")
        for note in project.notes:
            element = _sub(notes, "Note", guid=note.guid, name=note.name, creatingUser=note.user)
            _sub(element, "PlainTextContent", note.text)
    if project.sets:
        sets = _sub(root, "Sets")
        for item in project.sets:
            element = _sub(sets, "Set", guid=item.guid, name=item.name)
            if item.description:
                _sub(element, "Description", item.description)
            for guid in item.codes:
                _sub(element, "MemberCode", targetGUID=guid)
            for guid in item.sources:
                _sub(element, "MemberSource", targetGUID=guid)
            for guid in item.notes:
                _sub(element, "MemberNote", targetGUID=guid)
    if project.description:
        _sub(root, "Description", project.description)
    for guid in note_refs.get("", []):
        _sub(root, "NoteRef", targetGUID=guid)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _note_refs(project: RefiProject) -> dict[str, list[str]]:
    """Target GUID → notes that refer to it. Notes without targets hang on the project (key ``''``), unless a
    coding refers to them (``RefiCoding.note``: a coding's memo as read from a file)."""
    on_codings = {coding.note for source in project.sources for selection in source.selections
                  for coding in selection.codings if coding.note}
    refs: dict[str, list[str]] = {}
    for note in project.notes:
        for target in note.targets or ([] if note.guid in on_codings else [""]):
            refs.setdefault(target, []).append(note.guid)
    return refs


def _variable(types: dict[str, tuple[str, str]], name: str, where: str) -> tuple[str, str]:
    if name not in types:
        raise RefiError(f"{where}: value for variable {name!r}, which the project does not declare")
    return types[name]


def _source_element(parent: etree._Element, source: RefiSource, variable_types: dict[str, tuple[str, str]],
                    note_refs: dict[str, list[str]]) -> None:
    element = _sub(parent, "TextSource", guid=source.guid, name=source.name,
                   plainTextPath=f"internal://{source.guid}.txt")
    if source.description:
        _sub(element, "Description", source.description)
    for selection in sorted(source.selections, key=lambda s: (s.start, s.end, s.guid)):
        if not 0 <= selection.start <= selection.end <= len(source.text):
            raise RefiError(f"source {source.name!r}: selection [{selection.start}, {selection.end}) is outside "
                            f"the text (0–{len(source.text)})")
        sel = _sub(element, "PlainTextSelection", guid=selection.guid, name=selection.name or None,
                   startPosition=selection.start, endPosition=selection.end, creatingUser=selection.user)
        if selection.description:
            _sub(sel, "Description", selection.description)
        for coding in selection.codings:
            item = _sub(sel, "Coding", guid=coding.guid, creatingUser=coding.user, creationDateTime=coding.created)
            _sub(item, "CodeRef", targetGUID=coding.code)
            for guid in [coding.note] if coding.note else []:
                _sub(item, "NoteRef", targetGUID=guid)
            for guid in note_refs.get(coding.guid, []):
                _sub(item, "NoteRef", targetGUID=guid)
        for guid in note_refs.get(selection.guid, []):
            _sub(sel, "NoteRef", targetGUID=guid)
    for guid in note_refs.get(source.guid, []):
        _sub(element, "NoteRef", targetGUID=guid)
    for name, value in source.variables.items():
        guid, kind = _variable(variable_types, name, "source " + source.name)
        _variable_value(element, guid, kind, value)


def codebook_xml(project: RefiProject) -> bytes:
    """``.qdc`` content: the code hierarchy and the code sets (valid against Codebook.xsd)."""
    if not project.codes:
        raise RefiError("a REFI-QDA codebook needs at least one code")
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", project.origin or "qualkit")
    codes = _sub(root, "Codes")
    for code in project.codes:
        _code_element(codes, code, None)
    code_sets = [s for s in project.sets if s.codes]
    if code_sets:
        sets = _sub(root, "Sets")
        for item in code_sets:
            element = _sub(sets, "Set", guid=item.guid, name=item.name)
            if item.description:
                _sub(element, "Description", item.description)
            for guid in item.codes:
                _sub(element, "MemberCode", guid=guid)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_qdpx(project: RefiProject, path: str | Path) -> Path:
    """Write ``project`` as a ``.qdpx`` archive (atomically)."""
    content = project_xml(project)

    def writer(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w") as archive:
            _zip_entry(archive, "project.qde", content)
            for source in project.sources:
                _zip_entry(archive, f"sources/{source.guid}.txt", source.text.encode("utf-8"))

    return write_atomic(path, writer)


def write_qdc(project: RefiProject, path: str | Path) -> Path:
    """Write the code hierarchy (and code sets) of ``project`` as a ``.qdc`` codebook (atomically)."""
    content = codebook_xml(project)
    return write_atomic(path, lambda temporary: temporary.write_bytes(content))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
