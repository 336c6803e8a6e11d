"""Translate between qualkit (documents, codebooks, coding tables, projects) and :class:`RefiProject`.

Conventions of qualkit exports (documented in docs/refi.md):

- one Case per kommune, linked to its sources, carrying ``kommune`` and every metadata value that all its
  documents share; every scalar metadata value is also a Variable value on its source;
- a Code's name is the codebook label; its Description is the definition with ``qualkit-kode: <name>`` as last
  line, which is how a re-import finds the qualkit code again;
- one PlainTextSelection per coded span (its name is the start of the span's text), one Coding per code and
  coder; coders are Users under their qualkit names;
- machine codings (coders ``model:…``, ``keywords:…``, ``classifier:…``) keep that prefix in the user name and
  each such Coding has a NoteRef to the project note "qualkit: maskinkoding (<coder>)".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from qualkit.codebook import Code, Codebook
from qualkit.errors import QualkitError, RefiError
from qualkit.ingest import Document
from qualkit.refi.model import (
    RefiCase,
    RefiCode,
    RefiCoding,
    RefiNote,
    RefiProject,
    RefiSelection,
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
                   codings: pd.DataFrame | None = None, name: str = "qualkit") -> RefiProject:
    """A REFI project from documents, a codebook and a coding table (columns ``document, start, end, code,
    coder``; optional ``memo``). Every GUID is derived from qualkit ids, so exports are stable."""
    refi = RefiProject(name=name, origin="qualkit")
    by_key: dict[str, RefiCode] = {}
    if codebook is not None:
        refi.codes = [_code(code) for code in codebook.codes]
        by_key = {code.key: code for code in refi.all_codes()}
        refi.description = codebook.description or ""
    _metadata(refi, documents)
    texts = {}
    for document in documents:
        guid = str(document.metadata.get(SOURCE_GUID_KEY) or stable_guid("source", document.name))
        source = RefiSource(guid, document.name, document.text, variables=_scalars(document.metadata))
        refi.sources.append(source)
        texts[document.name] = source
    table = codings if codings is not None else pd.DataFrame(columns=CODING_COLUMNS)
    missing = [c for c in CODING_COLUMNS if c not in table.columns]
    if missing:
        raise RefiError(f"the coding table lacks column(s) {', '.join(missing)}")
    users: dict[str, RefiUser] = {}
    selections: dict[tuple[str, int, int], RefiSelection] = {}
    for row in table.sort_values(["document", "start", "end", "code", "coder"]).to_dict("records"):
        source = texts.get(row["document"])
        if source is None:
            raise RefiError(f"coding of document {row['document']!r}, which is not among the exported documents")
        start, end, key, coder = int(row["start"]), int(row["end"]), str(row["code"]), str(row["coder"])
        if key not in by_key:
            by_key[key] = RefiCode(stable_guid("code", key), key, key=key)
            refi.codes.append(by_key[key])
        if coder not in users:
            users[coder] = RefiUser(stable_guid("user", coder), coder)
            if is_model_coder(coder):
                refi.notes.append(RefiNote(stable_guid("model-note", coder), f"qualkit: maskinkoding ({coder})",
                                           f"Kodingene til {coder} er gjort av en maskin (qualkit), ikke av et "
                                           "menneske. Machine codings, not human ones."))
        span = (source.guid, start, end)
        if span not in selections:
            selections[span] = RefiSelection(stable_guid("selection", f"{document_key(row)}:{start}:{end}"),
                                             start, end, _quote(source.text[start:end]))
            source.selections.append(selections[span])
        selection = selections[span]
        memo = row.get("memo")
        if isinstance(memo, str) and memo and memo not in selection.description:
            selection.description = f"{selection.description}\n{memo}".strip()
        selection.codings.append(RefiCoding(
            stable_guid("coding", f"{document_key(row)}:{start}:{end}:{key}:{coder}"), by_key[key].guid,
            users[coder].guid, note=stable_guid("model-note", coder) if is_model_coder(coder) else None))
    refi.users = list(users.values())
    return refi


def document_key(row: dict[str, Any]) -> str:
    return str(row["document"])


def _quote(text: str, limit: int = 80) -> str:
    squashed = " ".join(text.split())
    return squashed if len(squashed) <= limit else squashed[: limit - 1] + "…"


def _code(code: Code) -> RefiCode:
    return RefiCode(stable_guid("code", code.name), code.label, code.definition.strip(), key=code.name,
                    children=[_code(child) for child in code.subcodes])


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


def _metadata(refi: RefiProject, documents: Sequence[Document]) -> None:
    """Variables for every scalar metadata key; one case per kommune with the values its documents share."""
    values: dict[str, list[Any]] = {}
    for document in documents:
        for key, value in _scalars(document.metadata).items():
            values.setdefault(key, []).append(value)
    types = {key: _type(found) for key, found in values.items()}
    if any(doc.kommune for doc in documents):
        types.setdefault("kommune", "Text")
    refi.variables = [RefiVariable(stable_guid("variable", key), key, kind) for key, kind in types.items()]
    kommuner: dict[str, list[Document]] = {}
    for document in documents:
        if document.kommune:
            kommuner.setdefault(document.kommune, []).append(document)
    for kommune, members in sorted(kommuner.items()):
        shared = _scalars(members[0].metadata)
        for document in members[1:]:
            other = _scalars(document.metadata)
            shared = {k: v for k, v in shared.items() if k in other and other[k] == v}
        shared["kommune"] = kommune
        refi.cases.append(RefiCase(stable_guid("case", kommune), kommune, variables=shared, sources=[
            str(d.metadata.get(SOURCE_GUID_KEY) or stable_guid("source", d.name)) for d in members]))


def from_project(project: Project, coders: Sequence[str] | None = None) -> RefiProject:
    """A REFI project from a qualkit :class:`~qualkit.project.Project`: every stored document and every applied
    coding (segment codings become selections of the segment's span)."""
    names = project.documents()["document"].tolist()
    documents = [project.document(name) for name in names]
    codings = project.codings(applied_only=True)
    if coders is not None:
        codings = codings[codings["coder"].isin(list(coders))]
    return from_documents(documents, project.codebook, codings, name=Path(project.path).stem)


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


def code_keys(refi: RefiProject) -> dict[str, str]:
    """Code GUID → a unique qualkit code name: the ``qualkit-kode`` of the description, else a slug of the
    code's name (``Husleie og økonomi`` → ``husleie_og_økonomi``), numbered when two codes share it."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for code in refi.all_codes():
        key = code.key or _slug(code.name)
        candidate, n = key, 2
        while candidate in taken:
            candidate, n = f"{key}_{n}", n + 1
        taken.add(candidate)
        out[code.guid] = candidate
    return out


def codebook_from_refi(refi: RefiProject, name: str | None = None) -> Codebook:
    """A qualkit codebook from the imported code hierarchy (labels = code names, definitions = descriptions)."""
    keys = code_keys(refi)

    def convert(code: RefiCode) -> dict[str, Any]:
        return {"name": keys[code.guid], "label": code.name or keys[code.guid],
                "definition": code.description or code.name or keys[code.guid],
                "subcodes": [convert(child) for child in code.children]}

    if not refi.codes:
        raise RefiError(f"{refi.name or 'the project'}: no codes to make a codebook of")
    return Codebook.model_validate({"name": _slug(name or refi.name or "refi"), "label": name or refi.name or "REFI",
                                    "description": refi.description, "codes": [convert(c) for c in refi.codes]})


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
    """Store an imported project in a qualkit project file (created with a codebook from the imported codes when
    it does not exist). Returns the import report (:func:`report_table`) extended with what the project refused."""
    from qualkit.errors import ProjectError
    from qualkit.project import Project

    path = Path(path)
    project = Project.open(path) if path.exists() else Project.create(path, codebook_from_refi(refi, path.stem))
    with project:
        documents = source_documents(refi)
        added = project.add_documents(documents)
        for row in added[added["status"] == "conflict"].to_dict("records"):
            refi.issue("TextSource", "", row["document"], f"not imported: {row['reason']}")
        keys = code_keys(refi)
        users = refi.user_names()
        for source, document in zip(refi.sources, documents, strict=True):
            for selection in source.selections:
                for coding in selection.codings:
                    coder = users.get(coding.user or "", "") or "ukjent"
                    try:
                        if selection.start == selection.end:
                            raise ProjectError("empty selection")
                        project.code_span(document.name, selection.start, selection.end, keys[coding.code], coder,
                                          memo=selection.description or None)
                    except ProjectError as error:
                        refi.issue("Coding", coding.guid, document.name, f"not stored in the project: {error}")
        _notes_to_memos(refi, project, dict(zip((s.guid for s in refi.sources), documents, strict=True)), keys)
    return report_table(refi)


def _notes_to_memos(refi: RefiProject, project: Project, documents: dict[str, Document],
                    keys: dict[str, str]) -> None:
    """Notes become memos, attached to the document or code they were linked to (qualkit's own model-coding
    marker notes are skipped: the coder name says it already)."""
    selection_source = {sel.guid: src.guid for src in refi.sources for sel in src.selections}
    model_notes = {stable_guid("model-note", user.name) for user in refi.users}
    for note in refi.notes:
        if note.guid in model_notes:
            continue
        for target in note.targets or [""]:
            source = selection_source.get(target, target)
            document = documents[source].name if source in documents else ""
            code = keys.get(target, "")
            text = f"{note.name}\n\n{note.text}" if note.name and note.name not in note.text else note.text
            try:
                project.add_memo(text, document=document, code=code)
            except QualkitError as error:
                refi.issue("Note", note.guid, note.name, f"not stored as a memo: {error}")


def report_table(refi: RefiProject) -> pd.DataFrame:
    """The import report as a table: element, guid, name, reason, imported (True: imported with a change)."""
    return pd.DataFrame([vars(issue) for issue in refi.issues], columns=["element", "guid", "name", "reason",
                                                                        "imported"])
