"""Move one coder's work between copies of a project: export to JSONL, import with a conflict report.

Typical use: two coders each get a copy of the same project file, code in it, export their work, and the lead
imports both into one copy. Every coding in the file carries the document's text hash and the coded text's
hash, so that an import into a project whose text differs is *reported*, never silently attached to other text.

File format (one JSON object per line): a ``header`` line, then ``coding`` lines, then ``memo`` lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from qualkit.errors import ProjectError
from qualkit.export import write_atomic
from qualkit.project.store import now, text_hash

if TYPE_CHECKING:
    from qualkit.project.store import Project

FORMAT = "qualkit-coder-export"
FORMAT_VERSION = 1
CONFLICT_COLUMNS = ["code", "document", "segment_id", "start", "end", "reason", "theirs", "ours"]


@dataclass
class ImportReport:
    """What an import did. ``conflicts`` lists every coding that was not taken over as it stood (or that
    replaced a different decision with ``on_conflict='replace'``), with the reason."""

    path: str
    coder: str
    added: int = 0
    unchanged: int = 0
    replaced: int = 0
    memos_added: int = 0
    conflicts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CONFLICT_COLUMNS))
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.conflicts.empty

    def __str__(self) -> str:
        lines = [
            f"{self.path}: coder {self.coder!r}: {self.added} added, {self.unchanged} unchanged, "
            f"{self.replaced} replaced, {len(self.conflicts)} conflict(s), {self.memos_added} memo(s) added"
        ]
        lines += [f"  note: {note}" for note in self.notes]
        for reason, n in self.conflicts["reason"].value_counts().items():
            lines.append(f"  conflict: {reason} ({n})")
        return "\n".join(lines)


def export_coder(project: Project, coder: str, path: str | Path) -> Path:
    """Write ``coder``'s codings (decisions 0 and 1, spans) and memos to a JSONL file, atomically."""
    coders = project.coders()
    if coder not in set(coders["coder"]):
        raise ProjectError(f"{project.path}: no coder {coder!r}; coders are {', '.join(coders['coder']) or 'none'}")
    kind = str(coders.set_index("coder").at[coder, "kind"])
    codings = project.codings(coder)
    documents = project.documents().set_index("document")
    texts: dict[str, str] = {}
    lines = []
    for row in codings.itertuples(index=False):
        if row.document not in texts:
            texts[row.document] = project.document(row.document).text
        lines.append({
            "type": "coding", "code": row.code, "document": row.document,
            "document_hash": documents.at[row.document, "text_hash"], "segment_id": row.segment_id,
            "start": int(row.start), "end": int(row.end),
            "text_hash": text_hash(texts[row.document][row.start:row.end]),
            "value": int(row.value), "score": None if pd.isna(row.score) else float(row.score),
            "memo": None if row.memo is None or pd.isna(row.memo) else row.memo, "codebook": row.codebook,
            "coded_at": row.coded_at,
        })
    for memo in project.memos(coder).to_dict("records"):
        lines.append({"type": "memo", **{k: memo[k] for k in ("document", "segment_id", "code", "text", "created_at")},
                      **{k: int(memo[k]) for k in ("start", "end") if not pd.isna(memo[k])}})
    header = {
        "type": "header", "format": FORMAT, "version": FORMAT_VERSION, "project_id": project.project_id,
        "coder": coder, "kind": kind, "codebook": project.codebook.fingerprint, "exported_at": now(),
        "codings": len(codings),
    }
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in [header, *lines]) + "\n"
    return write_atomic(path, lambda p: p.write_text(content, encoding="utf-8"))


def read_export(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the records of an export file; errors name the file and line."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ProjectError(f"{path}: cannot read ({error.strerror or error})") from None
    records = []
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ProjectError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
    if not records or records[0].get("type") != "header" or records[0].get("format") != FORMAT:
        raise ProjectError(f"{path}, line 1: not a qualkit coder export (no '{FORMAT}' header)")
    if int(records[0].get("version", 0)) > FORMAT_VERSION:
        raise ProjectError(f"{path}, line 1: export format version {records[0]['version']} is newer than this qualkit")
    return records[0], records[1:]


def import_coder(project: Project, path: str | Path, on_conflict: str = "keep") -> ImportReport:
    """Merge an exported coder's work into ``project`` in one transaction (one undoable action of that coder).

    A coding whose document or segment is missing here, whose text differs, or whose code is not in the
    codebook is listed as a conflict and not stored. Where the same coder already has a *different* decision
    on the same segment/span and code, ``on_conflict='keep'`` keeps ours and lists it; ``'replace'`` takes
    theirs and lists it too.
    """
    if on_conflict not in ("keep", "replace"):
        raise ProjectError(f"on_conflict must be 'keep' or 'replace', not {on_conflict!r}")
    header, records = read_export(path)
    coder = str(header["coder"])
    report = ImportReport(str(path), coder)
    if header.get("project_id") != project.project_id:
        report.notes.append("the export comes from another project (different project id); texts are checked by hash")
    if header.get("codebook") != project.codebook.fingerprint:
        report.notes.append(f"exported with codebook {header.get('codebook')}, this project uses "
                            f"{project.codebook.fingerprint}")
    documents = project.documents().set_index("document")["text_hash"].to_dict()
    segments = {r["segment_id"]: r for r in project._db.execute(
        'SELECT segment_id, document, start, "end", text_hash FROM segments')}
    texts: dict[str, str] = {}
    conflicts: list[dict[str, Any]] = []
    valid_codes = {c.name for c in project.codebook.all_codes()}

    def conflict(record: dict[str, Any], reason: str, ours: Any = None) -> None:
        conflicts.append({**{k: record.get(k) for k in CONFLICT_COLUMNS[:5]}, "reason": reason,
                          "theirs": _decision(record), "ours": ours})

    with project._action(coder, "import", coder_type=header.get("kind")) as action:
        for record in records:
            if record.get("type") == "memo":
                report.memos_added += _import_memo(action.db, coder, record)
                continue
            if record.get("type") != "coding":
                continue
            document = record["document"]
            if document not in documents:
                conflict(record, "document not in this project")
                continue
            if documents[document] != record["document_hash"]:
                conflict(record, "document text differs")
                continue
            if record["code"] not in valid_codes:
                conflict(record, "code not in this project's codebook")
                continue
            if record["segment_id"]:
                segment = segments.get(record["segment_id"])
                if segment is None:
                    conflict(record, "segment not in this project (segment the documents with the same unit)")
                    continue
                if (segment["start"], segment["end"], segment["text_hash"]) != (
                        record["start"], record["end"], record["text_hash"]):
                    conflict(record, "segment text differs")
                    continue
            else:
                if document not in texts:
                    texts[document] = project.document(document).text
                if text_hash(texts[document][record["start"]:record["end"]]) != record["text_hash"]:
                    conflict(record, "span text differs")
                    continue
            key = (coder, record["code"], document, record["segment_id"], record["start"], record["end"])
            before = action._before(key)
            theirs = (record["value"], record["score"], record["memo"])
            if before is not None and (before["value"], before["score"], before["memo"]) == theirs:
                report.unchanged += 1
                continue
            if before is not None:
                conflict(record, "same coder, different decision", _decision(before))
                if on_conflict == "keep":
                    continue
                report.replaced += 1
            else:
                report.added += 1
            action.codebook = record.get("codebook") or action.codebook
            action.set(key, int(record["value"]), record["score"], record["memo"], coded_at=record.get("coded_at"))
    report.conflicts = pd.DataFrame(conflicts, columns=CONFLICT_COLUMNS)
    return report


def _decision(record: dict[str, Any]) -> str:
    text = f"value={record.get('value')}"
    if record.get("score") is not None:
        text += f", score={record['score']}"
    if record.get("memo"):
        text += f", memo={record['memo']!r}"
    return text


def _import_memo(db, coder: str, record: dict[str, Any]) -> int:
    fields = (coder, record.get("document", ""), record.get("segment_id", ""), record.get("code", ""),
              record["text"], record.get("start"), record.get("end"))
    exists = db.execute(
        "SELECT 1 FROM memos WHERE coder = ? AND document = ? AND segment_id = ? AND code = ? AND text = ? "
        'AND start IS ? AND "end" IS ?', fields
    ).fetchone()
    if exists:
        return 0
    db.execute('INSERT INTO memos (coder, document, segment_id, code, text, start, "end", created_at) '
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*fields, record.get("created_at") or now()))
    return 1
