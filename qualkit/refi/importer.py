"""Read ``.qdpx`` projects and ``.qdc`` codebooks from NVivo, ATLAS.ti, MAXQDA, QualCoder and qualkit.

Everything that cannot be imported as is goes to ``RefiProject.issues`` (REFI-QDA §7): left out (graphs, links,
PDF/picture/audio/video sources, selections outside their text, codings of unknown codes) or imported with a
change (offsets mapped from CRLF text, whole-source codings turned into selections, unknown users created).

Vendor quirks handled: CRLF/CR line ends and decomposed characters (offsets mapped to the normalised text,
see :mod:`qualkit.refi.offsets`), BOM, UTF-16 and cp1252 source files, ``Sources/`` vs ``sources/``, GUIDs with
braces or in upper case, the codebook namespace used in a project (or none at all).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree.ElementTree import Element

from qualkit.errors import IngestError, RefiError
from qualkit.ingest.text import decode, normalise
from qualkit.refi.export import DATA_PREFIX, KEY_PREFIX
from qualkit.refi.model import (
    RefiCase,
    RefiCode,
    RefiCoding,
    RefiNote,
    RefiProject,
    RefiSelection,
    RefiSet,
    RefiSource,
    RefiUser,
    RefiVariable,
    canonical_guid,
    stable_guid,
)
from qualkit.refi.offsets import offset_map
from qualkit.refi.safety import ArchiveLimitError, Limits, SafeZip, parse_xml

# The qualkit lines at the end of a Code's Description (see export.code_description); also found when a tool
# joined the lines with spaces.
_KEY = re.compile(r"(?:^|\s)" + re.escape(KEY_PREFIX) + r"([a-zæøå][a-zæøå0-9_]*)\s*$")
_DATA = re.compile(r"(?:^|\s)" + re.escape(DATA_PREFIX.rstrip()) + r"(.*)$", re.S)
_BOM_ENCODINGS = ("utf-8-sig", "utf-16", "utf-32")  # what ingest.text.decode reports for a file with a BOM
_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
Reader = Callable[[str], bytes]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _grandchildren(element: Element, container: str, name: str) -> list[Element]:
    found = _child(element, container)
    return _children(found, name) if found is not None else []


def _text(element: Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "") if child is not None else ""


def load_qdpx(path: str | Path, limits: Limits | None = None, allow_external: bool = False) -> RefiProject:
    """Import a ``.qdpx`` archive. Sources outside the archive are read only when they lie in the archive's
    folder (``relative://``), or anywhere with ``allow_external=True`` (``file://``, absolute paths)."""
    path = Path(path)
    with SafeZip(path, limits) as archive:
        member = archive.find("project.qde") or next(
            (name for name in archive.names() if name.lower().endswith(".qde") and "/" not in name), None)
        if member is None:
            raise RefiError(f"{path}: no project.qde in the archive (is it a .qdpx?)")
        root = parse_xml(archive.read(member), f"{path}!{member}")
        return _Importer(root, f"{path}", _reader(archive, path, root, allow_external)).project()


def load_qde(path: str | Path, allow_external: bool = False) -> RefiProject:
    """Import a bare ``project.qde`` (sources with ``PlainTextContent`` or paths next to it)."""
    path = Path(path)
    root = parse_xml(_read_file(path), path)
    return _Importer(root, str(path), _reader(None, path, root, allow_external)).project()


def load_qdc(path: str | Path) -> RefiProject:
    """Import a ``.qdc`` codebook: codes with descriptions and code sets (a project without sources)."""
    path = Path(path)
    root = parse_xml(_read_file(path), path)
    if _local(root.tag) != "CodeBook":
        raise RefiError(f"{path}: the root element is <{_local(root.tag)}>, not <CodeBook> (is it a .qdc?)")
    importer = _Importer(root, str(path), lambda name: b"")
    refi = RefiProject(name=path.stem, origin=root.get("origin", ""))
    importer.refi = refi
    codes = _child(root, "Codes")
    refi.codes = importer.codes(codes) if codes is not None else []
    sets = _child(root, "Sets")
    for element in _children(sets, "Set") if sets is not None else []:
        refi.sets.append(importer.set(element))
    return refi


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RefiError(f"{path}: cannot read: {error.strerror or error}") from None


def _reader(archive: SafeZip | None, path: Path, root: Element, allow_external: bool) -> Reader:
    base_path = root.get("basePath", "")
    folder = path.resolve().parent

    def read(reference: str) -> bytes:
        parsed = urlparse(reference)
        scheme = parsed.scheme.lower() if len(parsed.scheme) > 1 else ""  # C:\… is a drive, not a scheme
        if scheme == "internal":
            name = unquote(reference.split("://", 1)[1])
            if archive is None:
                raise RefiError(f"{reference}: internal source but no archive")
            member = archive.find(f"sources/{name}") or archive.find(name)
            if member is None:
                raise RefiError(f"{reference}: not in the archive's sources/ folder")
            return archive.read(member)
        if scheme == "relative":
            relative = unquote(reference.split("://", 1)[1]).lstrip("/")
            base = Path(unquote(urlparse(base_path).path)) if base_path and allow_external else folder
            target = (base / relative).resolve()
        elif scheme == "file":
            target = Path(unquote(parsed.path))
        elif scheme:
            raise RefiError(f"{reference}: unsupported location scheme {scheme!r}")
        else:
            target = (folder / reference).resolve() if not Path(reference).is_absolute() else Path(reference)
        if not allow_external and not target.resolve().is_relative_to(folder):
            raise RefiError(f"{reference}: outside the project's folder; import with allow_external=True to "
                            "read it")
        return _read_file(target)

    return read


class _Importer:
    def __init__(self, root: Element, where: str, read: Reader):
        self.root = root
        self.where = where
        self.read = read
        self.refi = RefiProject(name="")
        self.seen: set[str] = set()
        self.code_guids: set[str] = set()
        self.selection_source: dict[str, str] = {}
        self.coding_notes: dict[str, RefiCoding] = {}
        self.variables: dict[str, RefiVariable] = {}

    # GUIDs ---------------------------------------------------------------------------------------------------
    def guid(self, element: Element, attribute: str = "guid", kind: str | None = None) -> str:
        value = element.get(attribute, "")
        try:
            guid = canonical_guid(value)
        except ValueError:
            guid = stable_guid("invalid", f"{_local(element.tag)}:{value}:{len(self.seen)}")
            self.refi.issue(_local(element.tag), value, element.get("name", ""),
                            f"invalid GUID {value!r}; a new one was made", imported=True)
        if kind is not None:
            if guid in self.seen:
                self.refi.issue(_local(element.tag), guid, element.get("name", ""), "duplicate GUID; element left out")
                raise _Skip
            self.seen.add(guid)
        return guid

    def ref(self, element: Element, attribute: str = "targetGUID") -> str | None:
        value = element.get(attribute, "")
        try:
            return canonical_guid(value)
        except ValueError:
            self.refi.issue(_local(element.tag), value, "", f"reference to invalid GUID {value!r} left out")
            return None

    # project -------------------------------------------------------------------------------------------------
    def project(self) -> RefiProject:
        root = self.root
        if _local(root.tag) != "Project":
            raise RefiError(f"{self.where}: the root element is <{_local(root.tag)}>, not <Project>")
        refi = self.refi
        refi.name = root.get("name", "")
        refi.origin = root.get("origin", "")
        refi.description = _text(root, "Description")
        if root.get("creatingUserGUID"):
            refi.creating_user = self.ref(root, "creatingUserGUID")
        for user in _grandchildren(root, "Users", "User"):
            try:
                refi.users.append(RefiUser(self.guid(user, kind="user"), user.get("name", "") or user.get("id", "")))
            except _Skip:
                pass
        codebook = _child(root, "CodeBook")
        codes = _child(codebook, "Codes") if codebook is not None else None
        refi.codes = self.codes(codes) if codes is not None else []
        types: dict[str, RefiVariable] = {}
        for element in _grandchildren(root, "Variables", "Variable"):
            try:
                variable = RefiVariable(self.guid(element, kind="variable"), element.get("name", ""),
                                        element.get("typeOfVariable", "Text"), _text(element, "Description"))
            except _Skip:
                continue
            refi.variables.append(variable)
            types[variable.guid] = variable
        self.variables = types
        sources = _child(root, "Sources")
        for element in list(sources) if sources is not None else []:
            try:
                self.source(element)
            except _Skip:
                pass
        for element in _grandchildren(root, "Cases", "Case"):
            try:
                refi.cases.append(self.case(element))
            except _Skip:
                pass
        notes = {}
        for element in _grandchildren(root, "Notes", "Note"):
            try:
                note = self.note(element)
            except _Skip:
                continue
            refi.notes.append(note)
            notes[note.guid] = note
        self.note_refs(notes)
        for element in _grandchildren(root, "Sets", "Set"):
            try:
                refi.sets.append(self.set(element))
            except _Skip:
                pass
        for name in ("Links", "Graphs"):
            container = _child(root, name)
            if container is not None and len(container):
                refi.issue(name, "", "", f"{len(container)} {name.lower()} not imported (qualkit has no {name[:-1]})")
        self.check_users()
        return refi

    def codes(self, container: Element) -> list[RefiCode]:
        out = []
        for element in _children(container, "Code"):
            try:
                guid = self.guid(element, kind="code")
            except _Skip:
                continue
            description, key, details = self.code_description(_text(element, "Description"), guid,
                                                              element.get("name", ""))
            code = RefiCode(guid, element.get("name", ""), description,
                            element.get("isCodable", "true").strip().lower() not in ("false", "0"),
                            element.get("color") or None, key, self.codes(element), details)
            self.code_guids.add(guid)
            out.append(code)
        return out

    def code_description(self, description: str, guid: str, name: str) -> tuple[str, str, dict]:
        """Split a Code's Description into the description proper, the qualkit code name (``qualkit-kode:``) and
        qualkit's details (``qualkit-data:``, JSON); details that cannot be read are reported and left out. Text
        a user added after the details in the other tool stays part of the description."""
        details: dict = {}
        added = ""
        data = _DATA.search(description)
        if data:
            description, text = description[: data.start()], data.group(1).lstrip()
            try:
                details, end = json.JSONDecoder().raw_decode(text)
                if not isinstance(details, dict):
                    raise ValueError("not a JSON object")
                added = text[end:].strip()
            except ValueError as error:
                details = {}
                self.refi.issue("Code", guid, name, f"qualkit's details in the description (keywords, examples, "
                                f"rules) could not be read ({error}); the code is imported without them",
                                imported=True)
        match = _KEY.search(description)
        key = match.group(1) if match else ""
        description = (description[: match.start()] if match else description).rstrip()
        if added:
            description = f"{description}\n\n{added}" if description else added
        return description, key, details

    def variable_values(self, element: Element, owner: str) -> dict[str, object]:
        values: dict[str, object] = {}
        for value in _children(element, "VariableValue"):
            ref = _child(value, "VariableRef")
            guid = self.ref(ref) if ref is not None else None
            variable = self.variables.get(guid or "")
            if variable is None:
                self.refi.issue("VariableValue", guid or "", owner, "value of an undeclared variable left out")
                continue
            typed = [child for child in value if _local(child.tag) != "VariableRef"]
            values[variable.name] = _typed(typed[0]) if typed else None
        return values

    # sources -------------------------------------------------------------------------------------------------
    def source(self, element: Element) -> None:
        kind = _local(element.tag)
        guid = self.guid(element, kind="source")
        name = element.get("name", "")
        if kind in _OTHER_SOURCES:
            selections = sum(1 for child in element.iter() if _local(child.tag).endswith("Selection"))
            self.refi.issue(kind, guid, name, f"{kind} not imported (qualkit imports text sources only); "
                            f"{selections} selection(s) with it")
            return
        if kind != "TextSource":
            self.refi.issue(kind, guid, name, f"unknown source type <{kind}> not imported")
            return
        found = self.source_text(element, guid, name)
        if found is None:
            return
        raw, bom = found
        mapping = offset_map(raw, bom)
        source = RefiSource(guid, name, mapping.text, _text(element, "Description"),
                            element.get("plainTextPath") or element.get("richTextPath") or "",
                            self.variable_values(element, name))
        candidates = [(s, self.guid_or_none(s)) for s in _children(element, "PlainTextSelection")]
        convention = self.choose_convention(mapping, candidates)
        if convention != "raw" or mapping.raw != list(range(len(mapping.text) + 1)):
            if candidates:
                self.refi.issue("TextSource", guid, name, f"offsets read as {_convention_text(convention)} and mapped "
                                "to the normalised text (NFC, LF)", imported=True)
        for selection_element, selection_guid in candidates:
            if selection_guid is None:
                continue
            selection = self.selection(selection_element, selection_guid, mapping, convention, source)
            if selection is not None:
                source.selections.append(selection)
                self.selection_source[selection.guid] = guid
        for coding_element in _children(element, "Coding"):
            coding = self.coding(coding_element, None, name)
            if coding is not None:
                whole = RefiSelection(stable_guid("whole-source", coding.guid), 0, len(source.text), name,
                                      codings=[coding])
                source.selections.append(whole)
                self.refi.issue("Coding", coding.guid, name, "coding of the whole source imported as a selection "
                                "of the whole text", imported=True)
        self.refi.sources.append(source)

    def guid_or_none(self, element: Element) -> str | None:
        try:
            return self.guid(element, kind="selection")
        except _Skip:
            return None

    def source_text(self, element: Element, guid: str, name: str) -> tuple[str, bool] | None:
        """The text of a source or note as stored (not normalised), and whether its file had a BOM (which
        decoding removes, and which a tool may have counted as a character)."""
        content = _child(element, "PlainTextContent")
        if content is not None:
            return content.text or "", False
        plain = element.get("plainTextPath", "")
        rich = element.get("richTextPath", "")
        try:
            if plain:
                decoded = decode(self.read(plain), plain)
                return decoded.text, decoded.encoding in _BOM_ENCODINGS
            if rich:
                data = self.read(rich)
                if rich.lower().endswith(".docx"):
                    self.refi.issue("TextSource", guid, name, "no plainTextPath: text taken from the .docx "
                                    "paragraphs; check that selections fit", imported=True)
                    return _docx_text(data, rich), False
                decoded = decode(data, rich)
                return decoded.text, decoded.encoding in _BOM_ENCODINGS
        except ArchiveLimitError:
            raise
        except (RefiError, IngestError) as error:
            self.refi.issue("TextSource", guid, name, f"source text not readable, source left out: {error}")
            return None
        self.refi.issue("TextSource", guid, name, "no text (neither PlainTextContent nor a path); left out")
        return None

    def choose_convention(self, mapping, candidates: list[tuple[Element, str | None]]) -> str:
        """Pick how this vendor counted: the convention under which selection names (often the quoted text)
        match the text best and fewest selections fall outside it; the spec's reading (raw) on a tie."""
        if len(mapping.conventions) == 1 or not candidates:
            return "raw"
        scores = {}
        for convention in mapping.conventions:
            matches = outside = 0
            for element, _ in candidates:
                start = mapping.convert(_int(element.get("startPosition")), convention)
                end = mapping.convert(_int(element.get("endPosition")), convention)
                if start is None or end is None:
                    outside += 1
                    continue
                quoted = _squash(element.get("name", ""))
                if len(quoted) >= 3 and _squash(mapping.text[start:end])[:40] == quoted[:40]:
                    matches += 1
            scores[convention] = (-outside, matches)
        best = max(scores.values())
        return next(c for c in mapping.conventions if scores[c] == best)

    def selection(self, element: Element, guid: str, mapping, convention: str,
                  source: RefiSource) -> RefiSelection | None:
        start_raw, end_raw = _int(element.get("startPosition")), _int(element.get("endPosition"))
        start, end = mapping.convert(start_raw, convention), mapping.convert(end_raw, convention)
        codings = [c for c in (self.coding(c, element, source.name) for c in _children(element, "Coding")) if c]
        if start is None or end is None or start > end:
            self.refi.issue("PlainTextSelection", guid, source.name,
                            f"selection [{start_raw}, {end_raw}) outside the text (length {len(source.text)}); "
                            f"left out with its {len(codings)} coding(s)")
            return None
        user = self.ref(element, "creatingUser") if element.get("creatingUser") else None
        return RefiSelection(guid, start, end, element.get("name", ""), _text(element, "Description"), user, codings)

    def coding(self, element: Element, selection: Element | None, where: str) -> RefiCoding | None:
        try:
            guid = self.guid(element, kind="coding")
        except _Skip:
            return None
        ref = _child(element, "CodeRef")
        code = self.ref(ref) if ref is not None else None
        if code not in self.code_guids:
            self.refi.issue("Coding", guid, where, f"coding of an unknown code {code!r} left out")
            return None
        owner = element if element.get("creatingUser") else selection
        user = self.ref(owner, "creatingUser") if owner is not None and owner.get("creatingUser") else None
        coding = RefiCoding(guid, code, user, element.get("creationDateTime") or None)
        self.coding_notes[guid] = coding
        return coding

    # cases, notes, sets --------------------------------------------------------------------------------------
    def case(self, element: Element) -> RefiCase:
        guid = self.guid(element, kind="case")
        name = element.get("name", "")
        case = RefiCase(guid, name, _text(element, "Description"), self.variable_values(element, name))
        sources = {s.guid for s in self.refi.sources}
        for ref in _children(element, "SourceRef"):
            target = self.ref(ref)
            if target in sources:
                case.sources.append(target)
            elif target:
                self.refi.issue("Case", guid, name, f"link to source {target} that was not imported left out")
        for ref in _children(element, "SelectionRef"):
            target = self.ref(ref)
            source = self.selection_source.get(target or "")
            if source is None:
                self.refi.issue("Case", guid, name, f"link to selection {target} that was not imported left out")
            else:
                self.refi.issue("Case", guid, name, "link to a selection imported as a link to its whole source",
                                imported=True)
                if source not in case.sources:
                    case.sources.append(source)
        if _children(element, "CodeRef"):
            self.refi.issue("Case", guid, name, "codes of the case (CodeRef) not imported")
        return case

    def note(self, element: Element) -> RefiNote:
        guid = self.guid(element, kind="note")
        name = element.get("name", "")
        found = self.source_text(element, guid, name)
        user = self.ref(element, "creatingUser") if element.get("creatingUser") else None
        return RefiNote(guid, name, normalise(found[0] if found else ""), user=user)

    def note_refs(self, notes: dict[str, RefiNote]) -> None:
        """Attach every NoteRef to its note: targets are the GUID of the element holding the NoteRef."""
        supported = {"Project", "Code", "TextSource", "PlainTextSelection", "Coding"}
        parents = {child: parent for parent in self.root.iter() for child in parent}
        for ref in self.root.iter():
            if _local(ref.tag) != "NoteRef":
                continue
            parent = parents[ref]
            kind = _local(parent.tag)
            target = self.ref(ref)
            note = notes.get(target or "")
            if note is None:
                self.refi.issue("NoteRef", target or "", kind, "reference to a note that was not imported")
                continue
            if kind not in supported:
                self.refi.issue("NoteRef", note.guid, note.name, f"link from a <{kind}> not kept (note imported)",
                                imported=True)
                continue
            owner = "" if kind == "Project" else (self.ref(parent, "guid") or "")
            if kind == "Coding" and owner in self.coding_notes and self.coding_notes[owner].note is None:
                self.coding_notes[owner].note = note.guid
            elif owner not in note.targets:
                note.targets.append(owner)

    def set(self, element: Element) -> RefiSet:
        guid = self.guid(element, kind="set")
        item = RefiSet(guid, element.get("name", ""), _text(element, "Description"))
        for member in element:
            tag = _local(member.tag)
            attribute = "targetGUID" if member.get("targetGUID") else "guid"
            if tag in ("MemberCode", "MemberSource", "MemberNote"):
                target = self.ref(member, attribute)
                if target:
                    {"MemberCode": item.codes, "MemberSource": item.sources, "MemberNote": item.notes}[tag].append(
                        target)
        return item

    def check_users(self) -> None:
        """Codings by users the project does not declare get a user named after the GUID (reported)."""
        known = {user.guid for user in self.refi.users}
        missing: Counter[str] = Counter()
        for source in self.refi.sources:
            for selection in source.selections:
                for coding in selection.codings:
                    if coding.user and coding.user not in known:
                        missing[coding.user] += 1
        for guid, count in missing.items():
            self.refi.users.append(RefiUser(guid, f"user-{guid[:8]}"))
            self.refi.issue("User", guid, "", f"{count} coding(s) by an undeclared user; added as user-{guid[:8]}",
                            imported=True)


class _Skip(Exception):
    """An element left out (already reported)."""


_CONVENTIONS = {"raw": "codepoints of the file as stored (CRLF counts 2)", "lf": "codepoints of the LF text",
                "utf16": "UTF-16 code units"}


def _convention_text(convention: str) -> str:
    base, _, bom = convention.partition("+")
    return _CONVENTIONS[base] + (", counting the file's BOM as the first character" if bom else "")


def _int(value: str | None) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return -1


def _squash(text: str) -> str:
    return " ".join(normalise(text).split())


def _typed(element: Element) -> object:
    tag = _local(element.tag)
    text = (element.text or "").strip()
    if tag == "BooleanValue":
        return text.lower() in ("true", "1")
    try:
        if tag == "IntegerValue":
            return int(text)
        if tag == "FloatValue":
            return float(text)
    except ValueError:
        return text
    return element.text or ""


def _docx_text(data: bytes, where: str) -> str:
    """Plain text of a Word file: paragraphs joined by line breaks (what most QDA tools count offsets in)."""
    import docx

    with tempfile.NamedTemporaryFile(suffix=".docx") as handle:
        handle.write(data)
        handle.flush()
        try:
            document = docx.Document(handle.name)
        except Exception as error:  # python-docx raises several types for broken packages
            raise RefiError(f"{where}: not a readable Word document: {error}") from None
    return "\n".join(paragraph.text for paragraph in document.paragraphs)
