"""Translate between qualkit (documents, codebooks, coding tables, projects) and :class:`RefiProject`.

Conventions of qualkit exports (documented in docs/refi.md):

- one Case per kommune, linked to its sources, carrying ``kommune`` and every metadata value that all its
  documents share; every scalar metadata value is also a Variable value on its source;
- a Code's name is the codebook label; its Description is the definition, then ``qualkit-kode: <name>`` and
  ``qualkit-data: <JSON>`` (the code's keywords, examples, include/exclude, …; on the first code also the
  codebook's name, version and fingerprint), which is how a re-import finds the qualkit code and its codebook
  again;
- one PlainTextSelection per coded span (its name is the start of the span's text), one Coding per code and
  coder; coders are Users under their qualkit names;
- machine codings (coders ``model:…``, ``keywords:…``, ``classifier:…``) keep that prefix in the user name and
  each such Coding has a NoteRef to the project note "qualkit: maskinkoding (<coder>)";
- what an import from another tool brought (GUIDs of codes, users and variables, colours, ``isCodable``,
  variable types, cases, sets) is kept in the project (:meth:`Project.refi_elements`) and written back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from qualkit.codebook import DEFAULT_CODEBOOK, Code, Codebook, load_codebook, reserved_names
from qualkit.errors import QualkitError, RefiError
from qualkit.ingest import Document
from qualkit.refi.export import NOT_XML
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
    is_model_coder,
    stable_guid,
)

if TYPE_CHECKING:
    from qualkit.project import Project

CODING_COLUMNS = ["document", "start", "end", "code", "coder"]
#: Metadata key keeping an imported source's GUID, so that a re-export (also via a project) keeps it.
SOURCE_GUID_KEY = "refi_guid"
TABLE_COLUMNS = ["source", "selection", "start", "end", "code", "code_path", "coder", "text"]


# qualkit → REFI ------------------------------------------------------------------------------------------------
def from_documents(documents: Sequence[Document], codebook: Codebook | None = None,
                   codings: pd.DataFrame | None = None, name: str = "qualkit",
                   memos: pd.DataFrame | None = None, elements: pd.DataFrame | None = None) -> RefiProject:
    """A REFI project from documents, a codebook and a coding table (columns ``document, start, end, code,
    coder``; optional ``memo`` and ``coded_at``). Every GUID is derived from qualkit ids, so exports are stable.

    A coding table may hold the same span, code and coder twice (a segment coding and a span coding of the same
    span): it becomes one ``Coding``. A coding's memo becomes a ``Note`` linked from that coding only, so it stays
    with its coder. ``memos`` (:meth:`Project.memos`'s columns ``coder, document, code, start, end, text``) become
    notes linked from the project, a source, a code or a selection. ``elements``
    (:meth:`Project.refi_elements`) are what an import from another tool brought: codes, users and variables
    keep their GUIDs (and colour, ``isCodable``, type), its cases and sets are written again.

    Each code's Description carries qualkit's details of it (keywords, examples, include/exclude, …) and the
    first code the codebook's name, version and fingerprint, so an import restores the codebook
    (:func:`codebook_from_refi`).
    """
    refi = RefiProject(name=name, origin="qualkit")
    source_guids = {document.name: str(document.metadata.get(SOURCE_GUID_KEY) or stable_guid("source",
                                                                                              document.name))
                    for document in documents}
    ids = _Identities(elements, taken=set(source_guids.values()))
    by_key: dict[str, RefiCode] = {}
    if codebook is not None:
        refi.codes = [_code(code, ids) for code in codebook.codes]
        by_key = {code.key: code for code in refi.all_codes()}
        refi.description = codebook.description or ""
        detailed = [code for code in refi.all_codes() if code.details]
        if detailed:  # a codebook made in qualkit: how a re-import knows it (not added to another tool's codes)
            detailed[0].details["kodebok"] = {
                "name": codebook.name, "label": codebook.label, "version": codebook.version,
                "language": codebook.language, "description": codebook.description,
                "fingerprint": codebook.fingerprint}
    cases = _kept_cases(ids, source_guids)
    scalars = {document.name: _source_variables(document, source_guids[document.name], cases)
               for document in documents}
    _metadata(refi, documents, scalars, source_guids, ids, cases)
    texts = {}
    for document in documents:
        source = RefiSource(source_guids[document.name], document.name, document.text,
                            variables=scalars[document.name])
        refi.sources.append(source)
        texts[document.name] = source
        _report_not_xml(refi, source)
    table = codings if codings is not None else pd.DataFrame(columns=CODING_COLUMNS)
    missing = [c for c in CODING_COLUMNS if c not in table.columns]
    if missing:
        raise RefiError(f"the coding table lacks column(s) {', '.join(missing)}")
    users: dict[str, RefiUser] = {}

    def user(coder: str) -> RefiUser:
        if coder not in users:
            users[coder] = RefiUser(ids.guid("user", coder, stable_guid("user", coder)), coder)
            if is_model_coder(coder):
                refi.notes.append(RefiNote(stable_guid("model-note", coder), f"qualkit: maskinkoding ({coder})",
                                           f"Kodingene til {coder} er gjort av en maskin (qualkit), ikke av et "
                                           "menneske. Machine codings, not human ones."))
        return users[coder]

    selections: dict[tuple[str, int, int], RefiSelection] = {}

    def selection(document: str, start: int, end: int) -> RefiSelection:
        source = texts.get(document)
        if source is None:
            raise RefiError(f"coding or memo of document {document!r}, which is not among the exported documents")
        span = (source.guid, start, end)
        if span not in selections:
            selections[span] = RefiSelection(stable_guid("selection", f"{document}:{start}:{end}"),
                                             start, end, _quote(source.text[start:end]))
            source.selections.append(selections[span])
        return selections[span]

    for (document, start, end, key, coder), group in table.groupby(
            [table["document"].astype(str), table["start"].astype(int), table["end"].astype(int),
             table["code"].astype(str), table["coder"].astype(str)], sort=True):
        if key not in by_key:
            by_key[key] = _kept_code(RefiCode("", key, key=key), ids)
            refi.codes.append(by_key[key])
        guid = stable_guid("coding", f"{document}:{start}:{end}:{key}:{coder}")
        created = _first_text(group.get("coded_at"))
        selection(document, start, end).codings.append(RefiCoding(
            guid, by_key[key].guid, user(coder).guid, created=created,
            note=stable_guid("model-note", coder) if is_model_coder(coder) else None))
        memo = "\n\n".join(dict.fromkeys(m for m in group.get("memo", []) if isinstance(m, str) and m.strip()))
        if memo:
            refi.notes.append(RefiNote(stable_guid("coding-memo", guid), _quote(memo), memo, targets=[guid],
                                       user=user(coder).guid))
    for memo in (memos.to_dict("records") if memos is not None else []):
        _memo_note(refi, memo, texts, by_key, user, selection)
    for coder in sorted(ids.keys("user")):  # users of the other tool without codings or memos here
        user(coder)
    refi.users = list(users.values())
    refi.sets = _kept_sets(ids, by_key, source_guids)
    for code in refi.all_codes():  # a code an import finds again by its name needs no qualkit line (keeps another
        if not code.details and code.key == _derived_key(code.name):  # tool's descriptions as they were)
            code.key = ""
    return refi


class _Identities:
    """What imports from other tools brought (:meth:`Project.refi_elements`), for an export: the GUID to use for
    a code, user or variable (a stored one unless another element of this export has it already), and the
    data kept with it."""

    def __init__(self, elements: pd.DataFrame | None, taken: set[str]):
        self.stored: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        if elements is not None:
            for row in elements.to_dict("records"):
                self.stored[(str(row["kind"]), str(row["key"]))] = (str(row["guid"]), dict(row["data"] or {}))
        self.used = set(taken)
        self.given: dict[tuple[str, str], str] = {}

    def guid(self, kind: str, key: str, default: str) -> str:
        if (kind, key) not in self.given:
            stored = self.stored.get((kind, key))
            guid = stored[0] if stored is not None and stored[0] not in self.used else default
            self.used.add(guid)
            self.given[(kind, key)] = guid
        return self.given[(kind, key)]

    def data(self, kind: str, key: str) -> dict[str, Any]:
        stored = self.stored.get((kind, key))
        return stored[1] if stored is not None else {}

    def keys(self, kind: str) -> list[str]:
        return sorted(key for stored_kind, key in self.stored if stored_kind == kind)


def _kept_code(code: RefiCode, ids: _Identities) -> RefiCode:
    """A code with the GUID, colour and ``isCodable`` an import from another tool brought, if any."""
    code.guid = ids.guid("code", code.key, stable_guid("code", code.key))
    data = ids.data("code", code.key)
    if isinstance(data.get("color"), str) and re.fullmatch(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", data["color"]):
        code.color = data["color"]
    if data.get("codable") is False:
        code.codable = False
    return code


def _kept_cases(ids: _Identities, source_guids: dict[str, str]) -> list[RefiCase]:
    """The cases an import brought, linked to the exported sources of their documents (a case none of whose
    documents is exported is left out)."""
    cases = []
    for key in ids.keys("case"):
        data = ids.data("case", key)
        members = [source_guids[name] for name in data.get("documents", []) if name in source_guids]
        if members:
            cases.append(RefiCase(ids.guid("case", key, key), str(data.get("name", "")),
                                  str(data.get("description", "")), _scalars(data.get("variables") or {}),
                                  members))
    return sorted(cases, key=lambda case: (case.name, case.guid))


def _kept_sets(ids: _Identities, codes: dict[str, RefiCode], source_guids: dict[str, str]) -> list[RefiSet]:
    """The sets an import brought, with the members that are exported (a set left without members is left out)."""
    sets = []
    for key in ids.keys("set"):
        data = ids.data("set", key)
        members = [codes[name].guid for name in data.get("codes", []) if name in codes]
        sources = [source_guids[name] for name in data.get("documents", []) if name in source_guids]
        if members or sources:
            sets.append(RefiSet(ids.guid("set", key, key), str(data.get("name", "")),
                                str(data.get("description", "")), members, sources))
    return sorted(sets, key=lambda item: (item.name, item.guid))


def _source_variables(document: Document, guid: str, cases: list[RefiCase]) -> dict[str, Any]:
    """A document's metadata as variable values of its source. ``case`` (the names of the cases an import put it
    in) is left out when those cases are exported with it."""
    values = _scalars(document.metadata)
    names = [name for name in str(values.get("case", "")).split(";") if name]
    if names and set(names) <= {case.name for case in cases if guid in case.sources}:
        del values["case"]
    return values


def _report_not_xml(refi: RefiProject, source: RefiSource) -> None:
    """Control characters (pasted from Word or PDF) cannot be written in XML 1.0: they become U+FFFD in selection
    names and notes, one for one (offsets unchanged); the source file keeps them. Say so in the report."""
    found = [m.start() for m in NOT_XML.finditer(source.text)]
    if found:
        first = source.text[found[0]]
        refi.issue("TextSource", source.guid, source.name,
                   f"{len(found)} control character(s) XML cannot carry (first U+{ord(first):04X} at offset "
                   f"{found[0]}) written as U+FFFD in selection names and notes; the source file keeps them",
                   imported=True)


def _first_text(values: Iterable[Any] | None) -> str | None:
    """The first non-empty text of a column (a coding's ``coded_at``), as an xsd:dateTime when it is one."""
    for value in values if values is not None else []:
        if isinstance(value, str) and value:
            try:
                return dt.datetime.fromisoformat(value).isoformat()
            except ValueError:
                return None
    return None


def _memo_note(refi: RefiProject, memo: dict[str, Any], texts: dict[str, RefiSource], codes: dict[str, RefiCode],
               user, selection) -> None:
    """A project memo as a Note: linked from its code, selection (span or segment), source or the project."""
    text = str(memo.get("text") or "")
    document, code = str(memo.get("document") or ""), str(memo.get("code") or "")
    start, end = memo.get("start"), memo.get("end")
    has_span = document and start is not None and end is not None and not pd.isna(start) and not pd.isna(end)
    if code and code in codes:
        target = codes[code].guid
    elif has_span and document in texts:
        target = selection(document, int(start), int(end)).guid
    elif document in texts:
        target = texts[document].guid
    else:
        target = ""  # the project (also a memo on a document or code that is not exported)
    place = f"{memo.get('coder', '')}\x1f{document}\x1f{memo.get('segment_id', '')}\x1f{code}\x1f{start}\x1f{end}"
    owner = user(str(memo["coder"])).guid if memo.get("coder") else None
    refi.notes.append(RefiNote(stable_guid("memo", f"{place}\x1f{text}"), _quote(text), text,
                               targets=[target] if target else [], user=owner))


def _quote(text: str, limit: int = 80) -> str:
    squashed = " ".join(text.split())
    return squashed if len(squashed) <= limit else squashed[: limit - 1] + "…"


def _code(code: Code, ids: _Identities | None = None) -> RefiCode:
    """A codebook code as a REFI code; ``details`` are its fields REFI-QDA has no place for (see
    :func:`code_details`). A definition that only repeats the label (a code from a tool without descriptions)
    is not written: an import makes it from the label again."""
    ids = ids if ids is not None else _Identities(None, set())
    definition = code.definition.strip()
    return _kept_code(RefiCode("", code.label, "" if definition == code.label else definition, key=code.name,
                               children=[_code(child, ids) for child in code.subcodes],
                               details=code_details(code)), ids)


def code_details(code: Code) -> dict[str, Any]:
    """A code's fields that REFI-QDA has no place for (keywords, examples, include/exclude, aliases, …), as
    carried in the code's Description; also the exact definition when it has spaces or line breaks around it
    (the Description has it stripped)."""
    details = code.model_dump(exclude={"name", "label", "definition", "subcodes"}, exclude_defaults=True)
    if code.definition != code.definition.strip():
        details["definition"] = code.definition
    return details


def _scalars(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata that can be a REFI Variable value (lists and mappings such as ``deltakere`` cannot)."""
    return {k: v for k, v in metadata.items()
            if isinstance(v, str | int | float | bool | dt.date) and v != "" and k != SOURCE_GUID_KEY}


def _type(values: Iterable[Any]) -> str:
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("Boolean")
        elif isinstance(value, int):
            kinds.add("Integer")
        elif isinstance(value, float):
            kinds.add("Float")
        elif isinstance(value, dt.datetime):
            kinds.add("DateTime")
        elif isinstance(value, dt.date):
            kinds.add("Date")
        else:
            kinds.add("Text")
    if kinds == {"Integer", "Float"}:
        return "Float"
    return kinds.pop() if len(kinds) == 1 else "Text"


def _metadata(refi: RefiProject, documents: Sequence[Document], scalars: dict[str, dict[str, Any]],
              source_guids: dict[str, str], ids: _Identities, kept_cases: list[RefiCase]) -> None:
    """Variables for every scalar metadata key (and every variable an import brought, with its GUID and type
    when all values fit it); the cases an import brought, then one case per kommune (unless such a case is
    among them) with the values its documents share."""
    values: dict[str, list[Any]] = {key: [] for key in ids.keys("variable")}
    for document in documents:
        for key, value in scalars[document.name].items():
            values.setdefault(key, []).append(value)
    for case in kept_cases:
        for key, value in case.variables.items():
            values.setdefault(key, []).append(value)
    if any(doc.kommune for doc in documents):
        values.setdefault("kommune", [])
    types = {key: _kept_type(ids.data("variable", key).get("type"), found) for key, found in values.items()}
    refi.variables = [RefiVariable(ids.guid("variable", key, stable_guid("variable", key)), key, kind)
                      for key, kind in types.items()]
    refi.cases = list(kept_cases)
    kept = {case.name for case in kept_cases}
    kommuner: dict[str, list[Document]] = {}
    for document in documents:
        if document.kommune and document.kommune not in kept:
            kommuner.setdefault(document.kommune, []).append(document)
    for kommune, members in sorted(kommuner.items()):
        shared = dict(scalars[members[0].name])
        for document in members[1:]:
            other = scalars[document.name]
            shared = {k: v for k, v in shared.items() if k in other and other[k] == v}
        shared["kommune"] = kommune
        refi.cases.append(RefiCase(ids.guid("case", f"kommune:{kommune}", stable_guid("case", kommune)), kommune,
                                   variables=shared, sources=[source_guids[d.name] for d in members]))


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")


def _kept_type(kept: Any, values: list[Any]) -> str:
    """The type a variable had in the other tool when every value fits it (a date typed by hand into qualkit
    metadata may not: then the type is inferred from the values, as for qualkit's own variables)."""
    inferred = _type(values) if values else "Text"
    if kept not in ("Text", "Boolean", "Integer", "Float", "Date", "DateTime") or kept == inferred:
        return inferred

    def fits(value: Any) -> bool:
        if kept == "Text":
            return True
        if kept == "Boolean":
            return isinstance(value, bool)
        if kept in ("Integer", "Float"):
            return isinstance(value, int if kept == "Integer" else int | float) and not isinstance(value, bool)
        if isinstance(value, str):
            pattern = _DATE if kept == "Date" else _DATE_TIME
            try:
                parse = dt.date.fromisoformat if kept == "Date" else dt.datetime.fromisoformat
                return bool(pattern.fullmatch(value)) and parse(value) is not None
            except ValueError:
                return False
        return isinstance(value, dt.datetime) if kept == "DateTime" else (
            isinstance(value, dt.date) and not isinstance(value, dt.datetime))

    return kept if all(fits(value) for value in values) else inferred


def from_project(project: Project, coders: Sequence[str] | None = None) -> RefiProject:
    """A REFI project from a qualkit :class:`~qualkit.project.Project`: every stored document, every applied
    coding (segment codings become selections of the segment's span) and every memo (as a note), with what
    imports from other tools brought (GUIDs of codes, users and variables, colours, cases, sets; see
    :meth:`Project.refi_elements`). With ``coders``, only their codings, memos and users (memos without a coder
    are left out then)."""
    names = project.documents()["document"].tolist()
    documents = [project.document(name) for name in names]
    codings = project.codings(applied_only=True)
    memos = project.memos()
    elements = project.refi_elements()
    if coders is not None:
        codings = codings[codings["coder"].isin(list(coders))]
        memos = memos[memos["coder"].isin(list(coders))]
        elements = elements[(elements["kind"] != "user") | elements["key"].isin(list(coders))]
    return from_documents(documents, project.codebook, codings, name=Path(project.path).stem, memos=memos,
                          elements=elements)


def from_folder(folder: str | Path, codebook: Codebook, unit: str = "turn", nlp=None) -> RefiProject:
    """Read a corpus folder, segment it and code it with the codebook's keywords (coder ``keywords:…``)."""
    from qualkit.code import KeywordCoder
    from qualkit.ingest import read_corpus
    from qualkit.segment import segment_documents

    corpus = read_corpus(folder)
    segments = segment_documents(corpus.documents, unit=unit, nlp=nlp)
    coder = KeywordCoder(codebook, nlp=nlp)
    coded = coder.code(segments)
    rows = []
    for name in coder.code_names:
        hits = segments[coded[name].astype(int) == 1]
        for segment in hits[["document", "start", "end"]].to_dict("records"):
            rows.append({**segment, "code": name, "coder": coder.name})
    table = pd.DataFrame(rows, columns=CODING_COLUMNS)
    refi = from_documents(corpus.documents, codebook, table, name=Path(folder).name)
    for skipped in corpus.skipped:
        refi.issue("file", "", str(skipped.path), f"not exported: {skipped.reason}")
    return refi


# REFI → qualkit ------------------------------------------------------------------------------------------------
def codings_table(refi: RefiProject) -> pd.DataFrame:
    """Tidy codings: one row per coding with the source name, span, code key, code path, coder and text."""
    paths = refi.code_paths()
    keys = code_keys(refi)
    users = refi.user_names()
    rows = []
    for source in refi.sources:
        for selection in source.selections:
            for coding in selection.codings:
                rows.append({"source": source.name, "selection": selection.guid, "start": selection.start,
                             "end": selection.end, "code": keys[coding.code], "code_path": paths[coding.code],
                             "coder": users.get(coding.user or "", "") or "",
                             "text": source.text[selection.start:selection.end]})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def codings_to_labels(imported: RefiProject, coder: str | None = None) -> pd.DataFrame:
    """Training labels for ``qualkit code --train labels.csv``: one row per coded selection, columns ``text``
    (the selection's text, stripped) and ``codes`` (its qualkit code names, sorted, ``;``-separated).
    ``coder`` keeps one user's codings only. Selections with the same text are merged (their codes united)."""
    table = codings_table(imported)
    if coder is not None:
        table = table[table["coder"] == coder]
    table = table.assign(text=table["text"].str.strip())
    table = table[table["text"] != ""]
    if table.empty:
        return pd.DataFrame(columns=["text", "codes"])
    grouped = table.groupby(["source", "start", "end"], sort=True).agg(
        text=("text", "first"), codes=("code", lambda c: ";".join(sorted(set(c)))))
    merged = grouped.groupby("text", sort=False)["codes"].agg(
        lambda c: ";".join(sorted({x for item in c for x in item.split(";")})))
    return merged.reset_index()[["text", "codes"]]


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-zæøå0-9]+", "_", name.strip().lower()).strip("_")
    if not slug or not re.match(r"[a-zæøå]", slug):
        slug = "k_" + slug if slug else "kode"
    return slug


#: Columns of qualkit's segment and coded tables (the codebook's :func:`~qualkit.codebook.reserved_names`). A code
#: becomes a column of its own in those tables, so an imported code named like one of these (or ``…_score``) is
#: renamed with :data:`RESERVED_SUFFIX`.
RESERVED_NAMES = frozenset(reserved_names())
RESERVED_SUFFIX = "_kode"


def _derived_key(name: str) -> str:
    """The qualkit name :func:`code_keys` gives a code of this name that has no ``qualkit-kode`` (unless two
    codes would get the same)."""
    key = _slug(name)
    return key + RESERVED_SUFFIX if is_reserved(key) else key


def is_reserved(name: str) -> bool:
    """Whether a code of this name would overwrite a column of the segment table (``kommune``, ``text``, …)."""
    return name in RESERVED_NAMES or name.endswith("_score")


def code_keys(refi: RefiProject) -> dict[str, str]:
    """Code GUID → a unique qualkit code name: the ``qualkit-kode`` of the description, else a slug of the
    code's name (``Husleie og økonomi`` → ``husleie_og_økonomi``), numbered when two codes share it. A name that
    is a column of the segment table gets ``_kode`` (``Kommune`` → ``kommune_kode``; see :func:`is_reserved`)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for code in refi.all_codes():
        key = code.key or _slug(code.name)
        if is_reserved(key):
            key += RESERVED_SUFFIX
        candidate, n = key, 2
        while candidate in taken:
            candidate, n = f"{key}_{n}", n + 1
        taken.add(candidate)
        out[code.guid] = candidate
    return out


def _report_renamed_codes(refi: RefiProject, keys: dict[str, str]) -> None:
    """One report line per code renamed by :func:`code_keys` (once, however often it is called)."""
    reported = {issue.guid for issue in refi.issues if issue.element == "Code"}
    for code in refi.all_codes():
        key = keys[code.guid]
        if key.endswith(RESERVED_SUFFIX) and is_reserved(key[: -len(RESERVED_SUFFIX)]) and code.guid not in reported:
            refi.issue("Code", code.guid, code.name, f"named {key!r} in qualkit: {key[: -len(RESERVED_SUFFIX)]!r} "
                       "is a column of the segment table (kommune, text, start, …)", imported=True)


#: Fields of a code that REFI-QDA has no place for; qualkit carries them in the code's Description
#: (``qualkit-data:``) and :func:`merge_codebook` keeps them from the current codebook when an import lacks them.
QUALKIT_ONLY_FIELDS = ("aliases", "include", "exclude", "examples", "keywords", "parts", "not_keywords")
_CODEBOOK_FIELDS = ("name", "label", "version", "language", "description")


def codebook_from_refi(refi: RefiProject, name: str | None = None) -> Codebook:
    """A qualkit codebook from the imported code hierarchy (labels = code names, definitions = descriptions).

    Codes exported by qualkit carry their keywords, examples, include/exclude, … in the Description, and the
    first code the codebook's name, version and fingerprint: such a codebook comes back complete, and when
    nothing was changed in the other tool it is exactly the exported one (same fingerprint, so a model trained on
    it, such as the shipped default model, applies). Without those details (an export by an older qualkit, or a
    tool that dropped them), codes that are exactly those of qualkit's default codebook give that codebook.
    What could not be restored, and codes renamed because their name is a segment-table column, are reported in
    ``refi.issues``.
    """
    if not refi.codes:
        raise RefiError(f"{refi.name or 'the project'}: no codes to make a codebook of")
    keys = code_keys(refi)
    _report_renamed_codes(refi, keys)
    header = next((code.details["kodebok"] for code in refi.all_codes()
                   if isinstance(code.details.get("kodebok"), dict)), None)
    names = set(keys.values())
    aliases: set[str] = set()
    brought: set[str] = set()

    def convert(code: RefiCode) -> dict[str, Any]:
        key = keys[code.guid]
        data: dict[str, Any] = {"name": key, "label": code.name or key,
                                "definition": code.description or code.name or key}
        details = _valid_details(refi, code)
        if details:
            brought.add(key)
            exact = details.pop("definition", None)
            if isinstance(exact, str) and exact.strip() == data["definition"].strip():
                data["definition"] = exact  # unchanged in the other tool: the exact text, spaces included
            own = [a for a in details.get("aliases", []) if a not in names and a not in aliases]
            aliases.update(own)
            if "aliases" in details:
                details["aliases"] = own
            data.update(details)
        data["subcodes"] = [convert(child) for child in code.children]
        return data

    top = {"name": _slug(name or refi.name or "refi"), "label": name or refi.name or "REFI",
           "description": refi.description}
    if header is not None:
        top.update({field: header[field] for field in _CODEBOOK_FIELDS if isinstance(header.get(field), str)})
    try:
        book = Codebook.model_validate({**top, "codes": [convert(code) for code in refi.codes]})
    except ValidationError as error:
        problem = error.errors()[0]
        raise RefiError(f"{refi.name or 'the project'}: the imported codes do not make a valid codebook "
                        f"({'.'.join(map(str, problem['loc']))}: {problem['msg']})") from None
    if header is not None and header.get("fingerprint") == book.fingerprint:
        return book  # exactly the exported codebook
    default = load_codebook(DEFAULT_CODEBOOK)
    if same_codes(book, default):
        if header is None:
            refi.issue("CodeBook", "", default.name, f"the codes are those of qualkit's codebook {default.name} "
                       f"{default.version}: it is used with its keywords, examples and shipped model", imported=True)
        return default
    if header is not None:
        refi.issue("CodeBook", "", book.name, f"codebook {book.name} {book.version} restored from qualkit's details "
                   "in the code descriptions, but codes, labels or definitions were changed in the other tool "
                   f"(fingerprint {book.fingerprint}, exported {header.get('fingerprint')}): models trained on the "
                   "exported codebook do not apply to it", imported=True)
    bare = [keys[code.guid] for code in refi.all_codes() if code.key and keys[code.guid] not in brought]
    if bare:
        refi.issue("CodeBook", "", book.name, f"warning: {len(bare)} qualkit code(s) came without their keywords "
                   "and examples (exported by an older qualkit, or dropped by the other tool), so the keyword coder "
                   f"and the default model will not find them: {', '.join(bare)}", imported=True)
    return book


def _valid_details(refi: RefiProject, code: RefiCode) -> dict[str, Any]:
    """The qualkit details a code brought (without ``kodebok``), if they are valid fields of a code."""
    details = {k: v for k, v in code.details.items() if k in Code.model_fields and k not in ("name", "label",
                                                                                                "subcodes")}
    if not details:
        return {}
    try:
        Code.model_validate({"name": "kode", "label": "kode", "definition": "kode", **details})
    except ValidationError as error:
        problem = error.errors()[0]
        refi.issue("Code", code.guid, code.name, "qualkit's details in the description are not valid "
                   f"({'.'.join(map(str, problem['loc']))}: {problem['msg']}); the code is imported without them",
                   imported=True)
        return {}
    return dict(details)


def _bare(code: Code) -> Code:
    """The code without keywords, examples and rules (to compare codes by names, labels and definitions)."""
    return code.model_copy(update={**{field: [] for field in QUALKIT_ONLY_FIELDS},
                                   "subcodes": [_bare(child) for child in code.subcodes]})


def _details(code: Code) -> dict[str, Any]:
    return {field: getattr(code, field) for field in QUALKIT_ONLY_FIELDS}


def same_codes(imported: Codebook, known: Codebook) -> bool:
    """Whether ``imported`` has exactly the codes of ``known`` (names, labels, definitions, hierarchy), and
    brings no keywords, examples or rules of its own that differ from ``known``'s."""
    def shape(codes: list[Code]) -> list[Any]:
        return [(code.name, code.label, code.definition.strip(), shape(code.subcodes)) for code in codes]

    if shape(imported.codes) != shape(known.codes):
        return False
    codes = {code.name: code for code in known.all_codes()}
    return all(not any(_details(code).values()) or _details(code) == _details(codes[code.name])
               for code in imported.all_codes())


def merge_codebook(current: Codebook, imported: Codebook) -> tuple[Codebook, list[str]]:
    """The codebook to use after importing ``imported`` (from a ``.qdc``/``.qdpx``) into a project using
    ``current``, and what a user should be told.

    When ``imported`` is ``current`` (same fingerprint), or every imported code is in the current codebook with
    the same label and definition and brings no other keywords, examples or rules, ``current`` is kept as it is;
    so is a codebook made from qualkit's default one with the same codes (``imported`` is the default codebook:
    its keywords do not replace the project's own). Otherwise the imported hierarchy is used with the keywords,
    examples and rules the codes brought (qualkit exports carry them); codes that brought none keep those of a
    code of the same name in ``current``, so the keyword coder and models still work; codes left without
    keywords are named.
    """
    known = {code.name: code for code in current.all_codes()}
    imported_codes = imported.all_codes()
    if imported.fingerprint == current.fingerprint or all(
            c.name in known
            and (c.label, c.definition.strip()) == (known[c.name].label, known[c.name].definition.strip())
            and (not any(_details(c).values()) or _details(c) == _details(known[c.name]))
            for c in imported_codes) or (
            imported.fingerprint == load_codebook(DEFAULT_CODEBOOK).fingerprint
            and same_codes(current.model_copy(update={"codes": [_bare(c) for c in current.codes]}), imported)):
        return current, [f"codebook {current.name} kept: it has all {len(imported_codes)} imported codes "
                         "(keywords and examples unchanged)"]
    names = {c.name for c in imported_codes}
    kept: list[str] = []

    def convert(code) -> dict[str, Any]:
        data = code.model_dump(exclude_defaults=True)
        old = known.get(code.name)
        if old is not None and not any(_details(code).values()):
            kept.append(code.name)
            for field in QUALKIT_ONLY_FIELDS:
                data[field] = getattr(old, field)
            data["aliases"] = [a for a in old.aliases if a not in names]
        data["subcodes"] = [convert(child) for child in code.subcodes]
        return data

    merged = Codebook.model_validate({**imported.model_dump(exclude_defaults=True),
                                      "codes": [convert(c) for c in imported.codes]})
    own = [c.name for c in merged.all_codes() if c.name not in kept and any(_details(c).values())]
    bare = [c.name for c in merged.all_codes() if not c.keywords and not c.examples]
    notes = [f"codebook {merged.name} set; {len(own)} code(s) brought their keywords and examples, {len(kept)} "
             f"kept those of {current.name}"]
    if bare:
        notes.append(f"warning: {len(bare)} code(s) have no keywords or examples, so the keyword coder and the "
                     f"default model will not find them: {', '.join(bare)}")
    return merged, notes


def source_documents(refi: RefiProject) -> list[Document]:
    """Documents of the imported sources; metadata = variables of the source's cases, then of the source
    (source values win), plus ``case`` (the names of its cases, ``;``-separated, unless a case is just the
    source's kommune, as in qualkit's own exports) and ``refi_guid`` (kept for re-export)."""
    cases: dict[str, list[RefiCase]] = {}
    for case in refi.cases:
        for guid in case.sources:
            cases.setdefault(guid, []).append(case)
    documents = []
    names: set[str] = set()
    for source in refi.sources:
        metadata: dict[str, Any] = {}
        for case in cases.get(source.guid, []):
            metadata.update(case.variables)
        metadata.update(source.variables)
        case_names = [case.name for case in cases.get(source.guid, []) if case.name != metadata.get("kommune")]
        if case_names:
            metadata["case"] = ";".join(case_names)
        metadata[SOURCE_GUID_KEY] = source.guid
        name, n = source.name or source.guid, 2
        while name in names:
            name, n = f"{source.name} ({n})", n + 1
        names.add(name)
        documents.append(Document(name=name, text=source.text, metadata=metadata, source=source.path))
    return documents


def to_project(refi: RefiProject, path: str | Path) -> pd.DataFrame:
    """Store an imported project in a qualkit project file, all or nothing: one transaction, and one undoable
    action per coder. A missing project is created with a codebook from the imported codes (qualkit's default
    codebook when there are none); if the import fails, no file is left. Returns the import report
    (:func:`report_table`) extended with what the project refused.

    A source whose name is stored with other text is not imported, and nor are its codings and notes (reported).
    Codings and notes that are stored already (importing the same file again, or your own export) are not
    stored twice; a coding the coder has as a segment coding of the same span and code is recognised.

    The GUIDs of codes, users and variables, the codes' colours and ``isCodable``, the variables' types, and the
    cases and sets are kept in the project (:meth:`Project.refi_elements`), so that an export gives them back.
    """
    from qualkit.project import Project

    path = Path(path)
    if path.exists():
        with Project.open(path) as project, project.transaction():
            _store(refi, project)
    else:
        if refi.codes:
            codebook = codebook_from_refi(refi, path.stem)
        else:
            codebook = load_codebook(DEFAULT_CODEBOOK)
            refi.issue("CodeBook", "", refi.name, f"no codes: the new project uses qualkit's default codebook "
                       f"{codebook.name}", imported=True)
        with Project.build(path, codebook) as project:
            _store(refi, project)
    return report_table(refi)


def _store(refi: RefiProject, project: Project) -> None:
    """The body of :func:`to_project`, inside its transaction."""
    documents = source_documents(refi)
    added = project.add_documents(documents).set_index("document")
    keys = code_keys(refi)
    _report_renamed_codes(refi, keys)
    users = refi.user_names()
    note_texts = {note.guid: note for note in refi.notes}
    model_notes = {stable_guid("model-note", user.name) for user in refi.users}
    coding_memos: dict[str, list[str]] = {}
    for note in refi.notes:
        for target in note.targets:
            coding_memos.setdefault(target, []).append(_note_text(note))
    stored: dict[str, Document] = {}
    spans: dict[str, list[dict[str, Any]]] = {}
    for source, document in zip(refi.sources, documents, strict=True):
        if added.at[document.name, "status"] == "conflict":
            n = sum(len(selection.codings) for selection in source.selections)
            refi.issue("TextSource", source.guid, document.name,
                       f"not imported, nor its {len(source.selections)} selection(s) and {n} coding(s): "
                       f"{added.at[document.name, 'reason']}; import it under another name to keep them")
            continue
        stored[source.guid] = document
        for selection in source.selections:
            if selection.start == selection.end:
                for coding in selection.codings:
                    refi.issue("Coding", coding.guid, document.name, "not stored in the project: empty selection")
                continue
            for coding in selection.codings:
                memos = list(coding_memos.get(coding.guid, []))
                if coding.note in note_texts and coding.note not in model_notes:
                    memos.insert(0, _note_text(note_texts[coding.note]))
                coder = users.get(coding.user or "", "") or "ukjent"
                spans.setdefault(coder, []).append({
                    "document": document.name, "start": selection.start, "end": selection.end,
                    "code": keys[coding.code], "memo": "\n\n".join(memos) or None, "coded_at": coding.created,
                    "guid": coding.guid})
    for coder, rows in spans.items():
        result = project.code_spans(rows, coder, kind="refi_import")
        for row, outcome in zip(rows, result.to_dict("records"), strict=True):
            if outcome["status"] == "refused":
                refi.issue("Coding", row["guid"], row["document"], f"not stored in the project: {outcome['reason']}")
    _notes_to_memos(refi, project, stored, keys, model_notes)
    _keep_identities(refi, project, keys, stored)


_ELEMENTS = {"code": "Code", "user": "User", "variable": "Variable", "case": "Case", "set": "Set"}


def _keep_identities(refi: RefiProject, project: Project, keys: dict[str, str], stored: dict[str, Document]) -> None:
    """Keep in the project what the next export needs to give the other tool its own elements back: GUIDs of
    codes (with colour and ``isCodable``), users (also those without codings) and variables (with their type),
    and the cases and sets with their members (documents by name, codes by qualkit name). What qualkit would
    write anyway (its own GUIDs, from its own exports) is not stored."""
    names = {code.name for code in project.codebook.all_codes()}
    rows: list[dict[str, Any]] = []
    for code in refi.all_codes():
        key = keys[code.guid]
        if key not in names:
            continue
        data: dict[str, Any] = {"color": code.color} if code.color else {}
        if not code.codable:
            data["codable"] = False
        if data or code.guid != stable_guid("code", key):
            rows.append({"kind": "code", "key": key, "guid": code.guid, "data": data})
    for user in refi.users:
        if user.name and user.guid != stable_guid("user", user.name):
            rows.append({"kind": "user", "key": user.name, "guid": user.guid})
    for variable in refi.variables:
        if variable.name and variable.guid != stable_guid("variable", variable.name):
            rows.append({"kind": "variable", "key": variable.name, "guid": variable.guid,
                         "data": {"type": variable.type}})
    for case in refi.cases:
        members = [stored[guid].name for guid in case.sources if guid in stored]
        if members and case.guid != stable_guid("case", case.name):
            rows.append({"kind": "case", "key": case.guid, "guid": case.guid, "data": {
                "name": case.name, "description": case.description, "variables": _scalars(case.variables),
                "documents": members}})
    for item in refi.sets:
        codes = [keys[guid] for guid in item.codes if guid in keys and keys[guid] in names]
        members = [stored[guid].name for guid in item.sources if guid in stored]
        if codes or members:
            rows.append({"kind": "set", "key": item.guid, "guid": item.guid, "data": {
                "name": item.name, "description": item.description, "codes": codes, "documents": members}})
        if item.notes:
            refi.issue("Set", item.guid, item.name, f"{len(item.notes)} note member(s) of the set not kept (notes "
                       "become memos, which are exported under new GUIDs)", imported=True)
    result = project.keep_refi_elements(rows)
    for row in result[result["status"] == "refused"].to_dict("records"):
        refi.issue(_ELEMENTS[row["kind"]], row["guid"], row["key"], f"GUID not kept for the next export: "
                   f"{row['reason']}", imported=True)


def _note_text(note: RefiNote) -> str:
    """A note's text, with its name in front unless the name just quotes the text (as qualkit's own notes)."""
    if note.name and note.name not in note.text and note.name != _quote(note.text):
        return f"{note.name}\n\n{note.text}"
    return note.text


def _notes_to_memos(refi: RefiProject, project: Project, documents: dict[str, Document],
                    keys: dict[str, str], model_notes: set[str]) -> None:
    """Notes become memos on the project, a document, a span (a note on a selection) or a code, with the
    note's user as coder; a selection's description becomes a memo on its span. Notes linked from codings are
    the codings' memos (stored with them), and qualkit's model-coding marker notes are skipped (the coder name
    says it already). A memo stored already is not stored again."""
    selections = {sel.guid: (src.guid, sel) for src in refi.sources for sel in src.selections}
    sources = {src.guid for src in refi.sources}
    users = refi.user_names()

    def store(text: str, coder: str, guid: str, name: str, **place: Any) -> None:
        try:
            project.add_memo(text, coder=coder, if_new=True, **place)
        except QualkitError as error:
            refi.issue("Note", guid, name, f"not stored as a memo: {error}")

    codings = [c for src in refi.sources for sel in src.selections for c in sel.codings]
    coding_guids = {c.guid for c in codings}
    on_codings = {c.note for c in codings if c.note} | {t for n in refi.notes for t in n.targets if t in coding_guids}
    for note in refi.notes:
        if note.guid in model_notes:
            continue
        coder = users.get(note.user or "", "")
        targets = [t for t in note.targets if t not in coding_guids]
        if not targets and note.guid not in on_codings and not note.targets:
            targets = [""]  # a note linked from nothing, or from the project: a project memo
        for target in targets:
            if target in selections:
                source, selection = selections[target]
                if source not in documents:
                    refi.issue("Note", note.guid, note.name, "not stored: its source was not imported")
                    continue
                store(_note_text(note), coder, note.guid, note.name, document=documents[source].name,
                      start=selection.start, end=selection.end)
            elif target in sources:
                if target not in documents:
                    refi.issue("Note", note.guid, note.name, "not stored: its source was not imported")
                    continue
                store(_note_text(note), coder, note.guid, note.name, document=documents[target].name)
            elif target in keys:
                store(_note_text(note), coder, note.guid, note.name, code=keys[target])
            else:
                store(_note_text(note), coder, note.guid, note.name)
    for source_guid, document in documents.items():
        source = next(s for s in refi.sources if s.guid == source_guid)
        for selection in source.selections:
            if selection.description.strip() and selection.start < selection.end:
                store(selection.description, users.get(selection.user or "", ""), selection.guid, selection.name,
                      document=document.name, start=selection.start, end=selection.end)


def report_table(refi: RefiProject) -> pd.DataFrame:
    """The import report as a table: element, guid, name, reason, imported (True: imported with a change)."""
    return pd.DataFrame([vars(issue) for issue in refi.issues], columns=["element", "guid", "name", "reason",
                                                                        "imported"])
