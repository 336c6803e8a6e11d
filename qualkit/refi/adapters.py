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

from qualkit.codebook import DEFAULT_CODEBOOK, Code, Codebook, load_codebook
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
    RefiSource,
    RefiUser,
    RefiVariable,
    is_model_coder,
    stable_guid,
)
from qualkit.segment import ATTRIBUTION_COLUMNS, EXTRA_COLUMNS, SEGMENT_COLUMNS

if TYPE_CHECKING:
    from qualkit.project import Project

CODING_COLUMNS = ["document", "start", "end", "code", "coder"]
#: Metadata key keeping an imported source's GUID, so that a re-export (also via a project) keeps it.
SOURCE_GUID_KEY = "refi_guid"
TABLE_COLUMNS = ["source", "selection", "start", "end", "code", "code_path", "coder", "text"]


# qualkit → REFI ------------------------------------------------------------------------------------------------
def from_documents(documents: Sequence[Document], codebook: Codebook | None = None,
                   codings: pd.DataFrame | None = None, name: str = "qualkit",
                   memos: pd.DataFrame | None = None) -> RefiProject:
    """A REFI project from documents, a codebook and a coding table (columns ``document, start, end, code,
    coder``; optional ``memo`` and ``coded_at``). Every GUID is derived from qualkit ids, so exports are stable.

    A coding table may hold the same span, code and coder twice (a segment coding and a span coding of the same
    span): it becomes one ``Coding``. A coding's memo becomes a ``Note`` linked from that coding only, so it stays
    with its coder. ``memos`` (:meth:`Project.memos`'s columns ``coder, document, code, start, end, text``) become
    notes linked from the project, a source, a code or a selection.
    """
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
        _report_not_xml(refi, source)
    table = codings if codings is not None else pd.DataFrame(columns=CODING_COLUMNS)
    missing = [c for c in CODING_COLUMNS if c not in table.columns]
    if missing:
        raise RefiError(f"the coding table lacks column(s) {', '.join(missing)}")
    users: dict[str, RefiUser] = {}

    def user(coder: str) -> RefiUser:
        if coder not in users:
            users[coder] = RefiUser(stable_guid("user", coder), coder)
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
            by_key[key] = RefiCode(stable_guid("code", key), key, key=key)
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
    refi.users = list(users.values())
    return refi


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
    """A REFI project from a qualkit :class:`~qualkit.project.Project`: every stored document, every applied
    coding (segment codings become selections of the segment's span) and every memo (as a note). With
    ``coders``, only their codings and memos (memos without a coder are left out then)."""
    names = project.documents()["document"].tolist()
    documents = [project.document(name) for name in names]
    codings = project.codings(applied_only=True)
    memos = project.memos()
    if coders is not None:
        codings = codings[codings["coder"].isin(list(coders))]
        memos = memos[memos["coder"].isin(list(coders))]
    return from_documents(documents, project.codebook, codings, name=Path(project.path).stem, memos=memos)


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


#: Columns of qualkit's segment and coded tables. A code becomes a column of its own in those tables, so an
#: imported code named like one of these (or ``…_score``) is renamed with :data:`RESERVED_SUFFIX`.
RESERVED_NAMES = frozenset([*SEGMENT_COLUMNS, *EXTRA_COLUMNS, *ATTRIBUTION_COLUMNS, "reviewed"])
RESERVED_SUFFIX = "_kode"


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


def codebook_from_refi(refi: RefiProject, name: str | None = None) -> Codebook:
    """A qualkit codebook from the imported code hierarchy (labels = code names, definitions = descriptions).
    Codes renamed because their name is a segment-table column are reported in ``refi.issues``."""
    keys = code_keys(refi)

    def convert(code: RefiCode) -> dict[str, Any]:
        return {"name": keys[code.guid], "label": code.name or keys[code.guid],
                "definition": code.description or code.name or keys[code.guid],
                "subcodes": [convert(child) for child in code.children]}

    if not refi.codes:
        raise RefiError(f"{refi.name or 'the project'}: no codes to make a codebook of")
    _report_renamed_codes(refi, keys)
    return Codebook.model_validate({"name": _slug(name or refi.name or "refi"), "label": name or refi.name or "REFI",
                                    "description": refi.description, "codes": [convert(c) for c in refi.codes]})


#: Fields of a code that REFI-QDA has no place for; :func:`merge_codebook` keeps them from the current codebook.
QUALKIT_ONLY_FIELDS = ("aliases", "include", "exclude", "examples", "keywords", "parts", "not_keywords")


def merge_codebook(current: Codebook, imported: Codebook) -> tuple[Codebook, list[str]]:
    """The codebook to use after importing ``imported`` (from a ``.qdc``/``.qdpx``) into a project using
    ``current``, and what a user should be told.

    REFI-QDA carries only names, labels, definitions and the hierarchy. When every imported code is in the
    current codebook with the same label and definition, ``current`` is kept as it is. Otherwise the imported
    hierarchy is used, and codes of the same name keep their keywords, examples, include/exclude and aliases
    from ``current``, so the keyword coder and models still work; codes without keywords are named.
    """
    known = {code.name: code for code in current.all_codes()}
    imported_codes = imported.all_codes()
    if all(c.name in known and (c.label, c.definition.strip()) == (known[c.name].label,
                                                                   known[c.name].definition.strip())
           for c in imported_codes):
        return current, [f"codebook {current.name} kept: it has all {len(imported_codes)} imported codes "
                         "(keywords and examples unchanged)"]
    names = {c.name for c in imported_codes}

    def convert(code) -> dict[str, Any]:
        data = code.model_dump(exclude_defaults=True)
        old = known.get(code.name)
        if old is not None:
            for field in QUALKIT_ONLY_FIELDS:
                data[field] = getattr(old, field)
            data["aliases"] = [a for a in old.aliases if a not in names]
        data["subcodes"] = [convert(child) for child in code.subcodes]
        return data

    merged = Codebook.model_validate({**imported.model_dump(exclude_defaults=True),
                                      "codes": [convert(c) for c in imported.codes]})
    kept = [c.name for c in merged.all_codes() if c.name in known]
    bare = [c.name for c in merged.all_codes() if not c.keywords and not c.examples]
    notes = [f"codebook {merged.name} set; {len(kept)} code(s) kept their keywords and examples from "
             f"{current.name}"]
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
