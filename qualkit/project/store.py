"""The :class:`Project`: one SQLite file with documents, segments, codebook versions, coders, codings and memos.

Every write is one ``BEGIN IMMEDIATE … COMMIT`` transaction on a WAL-mode file with a busy timeout, so a process
killed mid-write leaves the last committed state, and two processes coding at once queue instead of failing.
Every coding write is also an *action* in a log that :meth:`Project.undo` walks back, per coder.

>>> with Project.create("studie.qualkit") as project:          # doctest: +SKIP
...     project.add_documents("corpora/demo")
...     project.segment("turn")
...     project.code("alta_intervju-ta4dddcb5bf", "bolig", coder="A")
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.codebook import DEFAULT_CODEBOOK, Codebook, parse_codebook
from qualkit.errors import ProjectError
from qualkit.ingest import Document, Speaker, has_kommune_from_folder, read_corpus
from qualkit.project.schema import SCHEMA_VERSION, connect, migrate, schema_version, write_error
from qualkit.segment import EXTRA_COLUMNS, SEGMENT_COLUMNS, segment_documents

SEGMENT_TABLE_COLUMNS = SEGMENT_COLUMNS + EXTRA_COLUMNS
CODING_COLUMNS = [
    "coder", "kind", "code", "document", "segment_id", "start", "end", "value", "score", "memo", "codebook", "coded_at"
]
_KEY = ("coder", "code", "document", "segment_id", "start", "end")
_MODEL_PREFIXES = ("model:", "keywords:", "classifier:")
_SAVEPOINTS = itertools.count()


def text_hash(text: str) -> str:
    """A short content hash, used to check that two copies of a project hold the same text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def coder_kind(name: str) -> str:
    """``model`` for machine coders (``model:…``, ``keywords:…``), else ``human``."""
    return "model" if name.startswith(_MODEL_PREFIXES) else "human"


class Project:
    """A qualkit project file. Use :meth:`create` or :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._codebook: Codebook | None = None
        self._codebook_fp: str | None = None
        self._file_version = SCHEMA_VERSION  # older only for a file opened read-only that could not be migrated

    # -- opening and closing ------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, codebook: Codebook | str | Path | None = None) -> Project:
        """Create a new project file at ``path`` (refused if the file exists) with ``codebook`` (default:
        qualkit's ``boligsosialt.yaml``). The file appears complete or not at all (see :meth:`build`)."""
        with cls.build(path, codebook):
            pass
        return cls.open(path)

    @classmethod
    @contextmanager
    def build(cls, path: str | Path, codebook: Codebook | str | Path | None = None) -> Iterator[Project]:
        """Create a project and fill it in the ``with`` block, all or nothing: it is built in a temporary file
        beside ``path`` and moved into place only when the block succeeds. An error or Ctrl-C leaves no file,
        so the next attempt is not refused with "file exists already". The project is closed at the end.

        >>> with Project.build("studie.qualkit") as project:    # doctest: +SKIP
        ...     project.add_documents("corpora/demo")
        ...     project.segment("turn")
        """
        path = Path(path)
        if path.exists() and (path.is_dir() or path.stat().st_size > 0):  # an empty file may be replaced
            raise ProjectError(f"{path}: file exists already; use Project.open to open it")
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
        try:
            connection = connect(temporary, create=True)
            project = cls(path, connection)  # path: error messages name the file the user asked for
            try:
                migrate(connection, path)
                with project._transaction():
                    project._db.execute("INSERT INTO meta VALUES ('project_id', ?)", (uuid.uuid4().hex,))
                    project._db.execute("INSERT INTO meta VALUES ('created_at', ?)", (now(),))
                project.set_codebook(codebook)
                yield project
            finally:
                project.close()  # the last connection folds the WAL into the file
            _move_into_place(temporary, path)
        finally:
            shutil.rmtree(temporary.parent, ignore_errors=True)

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> Project:
        """Open an existing project; an older file is migrated (in one transaction), a newer one refused.

        ``readonly=True`` never writes or locks: for exports and reports, for a project another process is
        writing to, and for a file in a read-only folder. An older file cannot be migrated then (reported).
        """
        path = Path(path)
        connection = connect(path, readonly=readonly)
        try:
            version = schema_version(connection)
            if version == 0:
                raise ProjectError(f"{path}: an SQLite file without a qualkit schema (Project.create makes a project)")
            if readonly and version < SCHEMA_VERSION:
                try:  # an older file is brought up to date once, in its own short transaction …
                    cls.open(path).close()
                except ProjectError:
                    pass  # … unless it cannot be written: then it is read as it is
                else:
                    connection.close()
                    return cls.open(path, readonly=True)
            else:
                migrate(connection, path)
            project = cls(path, connection)
            project._file_version = schema_version(connection)  # after migrating; older only if it could not be
            if project.meta("project_id") is None:
                raise ProjectError(f"{path}: not a qualkit project (no project id)")
        except sqlite3.DatabaseError as error:
            connection.close()
            raise ProjectError(f"{path}: not a usable qualkit project ({error})") from None
        except BaseException:
            connection.close()
            raise
        return project

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ProjectError(f"{self.path}: the project is closed")
        return self._connection

    def close(self) -> None:
        """Close the file (SQLite folds the WAL back into it when the last connection closes)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def backup(self, path: str | Path) -> Path:
        """A consistent copy of the project, safe while it is open and being written (SQLite's backup API).

        Use it to give each coder a copy; copying the file itself while it is open can miss the WAL's content.
        """
        path = Path(path)
        if path.exists():
            raise ProjectError(f"{path}: file exists already")
        target = sqlite3.connect(path)
        try:
            self._db.backup(target)
        finally:
            target.close()
        return path

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def project_id(self) -> str:
        return str(self.meta("project_id"))

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def integrity_check(self) -> str:
        """SQLite's own check of the file: ``"ok"`` or the problems found."""
        return "\n".join(row[0] for row in self._db.execute("PRAGMA integrity_check"))

    @contextmanager
    def transaction(self) -> Iterator[Project]:
        """Group several writes into one all-or-nothing transaction (an import, say): the writes inside (each
        an ordinary method call) commit together at the end of the ``with`` block, or not at all.

        >>> with project.transaction():                         # doctest: +SKIP
        ...     project.add_documents(documents)
        ...     project.code_spans(spans, coder="Kari")
        """
        with self._transaction():
            yield self

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE … COMMIT``; inside an open transaction a savepoint, so that a write that fails (and
        is reported by the caller) is undone alone while the outer transaction goes on."""
        db = self._db
        if db.in_transaction:
            name = f"qualkit_{next(_SAVEPOINTS)}"
            db.execute(f"SAVEPOINT {name}")
            try:
                yield db
            except BaseException:
                db.execute(f"ROLLBACK TO {name}")
                db.execute(f"RELEASE {name}")
                raise
            db.execute(f"RELEASE {name}")
            return
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise write_error(self.path, error) from None
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            db.execute("ROLLBACK")
            raise write_error(self.path, error) from None

    # -- codebook -----------------------------------------------------------------------------------------
    def set_codebook(self, codebook: Codebook | str | Path | None = None) -> Codebook:
        """Store a codebook version (YAML text + fingerprint) and make it the current one."""
        yaml_text = _codebook_yaml(codebook)
        parsed = parse_codebook(yaml_text, source=str(codebook or DEFAULT_CODEBOOK))
        with self._transaction() as db:
            db.execute(
                "INSERT INTO codebooks (fingerprint, name, version, yaml, added_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (fingerprint) DO NOTHING",
                (parsed.fingerprint, parsed.name, parsed.version, yaml_text, now()),
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('codebook', ?)", (parsed.fingerprint,))
        self._codebook, self._codebook_fp = parsed, parsed.fingerprint
        return parsed

    @property
    def codebook(self) -> Codebook:
        """The current codebook version (re-read if another process changed it)."""
        fingerprint = self.meta("codebook")
        if fingerprint is None:
            raise ProjectError(f"{self.path}: the project has no codebook")
        if self._codebook is None or fingerprint != self._codebook_fp:
            row = self._db.execute("SELECT yaml FROM codebooks WHERE fingerprint = ?", (fingerprint,)).fetchone()
            self._codebook = parse_codebook(row["yaml"], source=f"{self.path} (codebook {fingerprint})")
            self._codebook_fp = fingerprint
        return self._codebook

    def codebooks(self) -> pd.DataFrame:
        """All stored codebook versions, oldest first."""
        return pd.read_sql_query(
            "SELECT id, fingerprint, name, version, added_at FROM codebooks ORDER BY id", self._db
        )

    def _code_name(self, code: str) -> str:
        try:
            return self.codebook.code(code).name
        except KeyError as error:
            raise ProjectError(f"{self.path}: {error.args[0]}") from None

    # -- documents and segments ---------------------------------------------------------------------------
    def add_documents(self, documents: Iterable[Document] | str | Path) -> pd.DataFrame:
        """Store documents (or every readable file of a folder). Returns a tidy report: document, status, reason
        (for an added document, a note such as where its kommune came from, or empty).

        A document already stored with the same text is ``unchanged``; with different text it is a ``conflict``
        and the stored text is kept (codings point into it).
        """
        rows = []
        if isinstance(documents, str | Path):
            corpus = read_corpus(documents)
            rows += [{"document": s.path, "status": "skipped", "reason": s.reason} for s in corpus.skipped]
            documents = corpus.documents
        with self._transaction() as db:
            for document in documents:
                digest = text_hash(document.text)
                stored = db.execute("SELECT text_hash FROM documents WHERE name = ?", (document.name,)).fetchone()
                if stored is not None:
                    same = stored["text_hash"] == digest
                    reason = "" if same else "a document of this name with other text is stored; kept the stored one"
                    rows.append({"document": document.name, "status": "unchanged" if same else "conflict",
                                 "reason": reason})
                    continue
                speakers = {k: {"role": s.role, "attributes": s.attributes} for k, s in document.speakers.items()}
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (document.name, document.text, digest, _json(document.metadata), _json(speakers),
                     document.encoding, document.source, now()),
                )
                from_folder = has_kommune_from_folder(document)
                reason = f"kommune {document.kommune} taken from the folder name" if from_folder else ""
                rows.append({"document": document.name, "status": "added", "reason": reason})
        return pd.DataFrame(rows, columns=["document", "status", "reason"])

    def documents(self) -> pd.DataFrame:
        """One row per document: name, kommune, characters, text hash, metadata (dict)."""
        rows = self._db.execute("SELECT name, text, text_hash, metadata, source FROM documents ORDER BY name")
        out = []
        for row in rows:
            metadata = json.loads(row["metadata"])
            out.append({"document": row["name"], "kommune": str(metadata.get("kommune", "") or ""),
                        "chars": len(row["text"]), "text_hash": row["text_hash"], "source": row["source"],
                        "metadata": metadata})
        return pd.DataFrame(out, columns=["document", "kommune", "chars", "text_hash", "source", "metadata"])

    def document(self, name: str) -> Document:
        """The stored document (its text is the one all offsets refer to)."""
        row = self._db.execute("SELECT * FROM documents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no document {name!r}")
        speakers = {k: Speaker(k, v.get("role", ""), v.get("attributes", {}))
                    for k, v in json.loads(row["speakers"]).items()}
        return Document(name=row["name"], text=row["text"], metadata=json.loads(row["metadata"]),
                        encoding=row["encoding"], source=row["source"], speakers=speakers)

    def segment(self, unit: str = "turn", nlp=None, window: int = 3) -> pd.DataFrame:
        """Segment every stored document that has no segments of ``unit`` yet; returns :meth:`segments` of it."""
        done = {r[0] for r in self._db.execute("SELECT DISTINCT document FROM segments WHERE unit = ?", (unit,))}
        names = [r[0] for r in self._db.execute("SELECT name FROM documents ORDER BY name") if r[0] not in done]
        table = segment_documents([self.document(n) for n in names], unit=unit, nlp=nlp, window=window)
        with self._transaction() as db:
            db.executemany(
                'INSERT INTO segments (segment_id, document, unit, idx, start, "end", speaker, role, heading, '
                "kommune, kilde, fylke, dato, text, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.segment_id, r.document, r.unit, int(r.index), int(r.start), int(r.end), r.speaker, r.role,
                     r.heading, r.kommune, r.kilde, r.fylke, r.dato, r.text, text_hash(r.text))
                    for r in table.itertuples(index=False)
                ],
            )
            if self.meta("unit") is None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('unit', ?)", (unit,))
        return self.segments(unit=unit)

    @property
    def default_unit(self) -> str:
        """The unit segmented first; used where no unit is given."""
        return self.meta("unit") or "turn"

    def segments(self, unit: str | None = None, documents: Sequence[str] | None = None) -> pd.DataFrame:
        """The segment table (the columns of :func:`qualkit.segment.segment_documents`) of one unit."""
        unit = unit or self.default_unit
        query = (
            'SELECT document, kommune, segment_id, start, "end", speaker, text, unit, idx AS "index", role, '
            "heading, kilde, fylke, dato FROM segments WHERE unit = ?"
        )
        params: list[Any] = [unit]
        if documents is not None:
            documents = [documents] if isinstance(documents, str) else list(documents)
            if not documents:
                return pd.DataFrame(columns=SEGMENT_TABLE_COLUMNS)
            query += f" AND document IN ({', '.join('?' * len(documents))})"
            params += documents
        table = pd.read_sql_query(query + " ORDER BY document, idx", self._db, params=params)
        return table[SEGMENT_TABLE_COLUMNS]

    def _segment(self, segment_id: str) -> sqlite3.Row:
        row = self._db.execute(
            'SELECT segment_id, document, start, "end", text_hash FROM segments WHERE segment_id = ?', (segment_id,)
        ).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no segment {segment_id!r}")
        return row

    # -- coders -------------------------------------------------------------------------------------------
    def add_coder(self, name: str, kind: str | None = None) -> str:
        """Register a coder (``human`` or ``model``; guessed from the name when not given)."""
        kind = kind or coder_kind(name)
        with self._transaction() as db:
            self._ensure_coder(db, name, kind)
        return name

    def coders(self) -> pd.DataFrame:
        """Coders with their kind and number of applied codings."""
        return pd.read_sql_query(
            "SELECT c.name AS coder, c.kind, c.created_at, COUNT(k.id) AS codings FROM coders c "
            "LEFT JOIN codings k ON k.coder = c.name AND k.value = 1 GROUP BY c.name ORDER BY c.created_at",
            self._db,
        )

    def _ensure_coder(self, db: sqlite3.Connection, name: str, kind: str | None = None) -> None:
        if not name or not str(name).strip():
            raise ProjectError("a coder needs a name")
        kind = kind or coder_kind(name)
        if kind not in ("human", "model"):
            raise ProjectError(f"coder kind must be 'human' or 'model', not {kind!r}")
        db.execute("INSERT INTO coders VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", (name, kind, now()))

    # -- coding -------------------------------------------------------------------------------------------
    def code(self, segment_id: str, code: str, coder: str, score: float | None = None, memo: str | None = None,
             value: int = 1) -> None:
        """Record that ``coder`` applies ``code`` to a segment (``value=0``: decided it does not apply)."""
        segment = self._segment(segment_id)
        key = (coder, self._code_name(code), segment["document"], segment_id, segment["start"], segment["end"])
        with self._action(coder, "code" if value else "uncode") as action:
            action.set(key, int(value), score, memo)

    def uncode(self, segment_id: str | None = None, code: str | None = None, coder: str | None = None, *,
               document: str | None = None, start: int | None = None, end: int | None = None) -> None:
        """Take a code back: on a segment this records the decision *not applied* (value 0, the segment stays
        reviewed); on a span (``document``, ``start``, ``end``) the span coding is removed."""
        if code is None or coder is None:
            raise ProjectError("uncode needs a code and a coder")
        if segment_id is not None:
            self.code(segment_id, code, coder, value=0)
            return
        if document is None or start is None or end is None:
            raise ProjectError("uncode needs a segment_id, or a document with start and end")
        key = (coder, self._code_name(code), document, "", int(start), int(end))
        with self._action(coder, "uncode_span") as action:
            action.delete(key)

    def decide(self, segment_id: str, coder: str, applied: Iterable[str], memo: str | None = None) -> None:
        """Record a full decision on a segment in one action: the codes in ``applied`` apply, all others
        of the codebook do not. This is what the coding widget's *Save* does."""
        segment = self._segment(segment_id)
        applied = {self._code_name(c) for c in applied}
        with self._action(coder, "decide") as action:
            for name in self.codebook.code_names:
                key = (coder, name, segment["document"], segment_id, segment["start"], segment["end"])
                action.set(key, int(name in applied), None, memo if name in applied else None, keep_memo=True)

    def code_span(self, document: str, start: int, end: int, code: str, coder: str, memo: str | None = None,
                  score: float | None = None) -> None:
        """Code a character span ``[start, end)`` of a document's stored text."""
        row = self._db.execute("SELECT length(text) AS n FROM documents WHERE name = ?", (document,)).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no document {document!r}")
        start, end = int(start), int(end)
        if not 0 <= start < end <= row["n"]:
            raise ProjectError(f"{document}: span [{start}, {end}) is outside the text (0–{row['n']}) or empty")
        key = (coder, self._code_name(code), document, "", start, end)
        with self._action(coder, "code_span") as action:
            action.set(key, 1, score, memo)

    def code_spans(self, spans: Iterable[dict[str, Any]], coder: str, kind: str = "code_spans") -> pd.DataFrame:
        """Code many character spans for one coder in one transaction and one undoable action (an import).

        ``spans``: dicts with ``document, start, end, code`` and optionally ``memo`` and ``coded_at``. A span
        that the coder already has as a *segment* coding of the same code and offsets (value 1) is recognised and
        not stored a second time: importing your own export back changes nothing. Returns one row per span:
        ``document, start, end, code, status`` (``added``, ``unchanged`` or ``refused``) and ``reason``.
        """
        rows = []
        lengths: dict[str, int | None] = {}
        with self._action(coder, kind) as action:
            for span in spans:
                document, start, end = span["document"], int(span["start"]), int(span["end"])
                row = {"document": document, "start": start, "end": end, "code": span["code"], "status": "refused",
                       "reason": ""}
                rows.append(row)
                if document not in lengths:
                    found = action.db.execute("SELECT length(text) AS n FROM documents WHERE name = ?",
                                              (document,)).fetchone()
                    lengths[document] = None if found is None else found["n"]
                if lengths[document] is None:
                    row["reason"] = f"no document {document!r}"
                    continue
                if not 0 <= start < end <= lengths[document]:
                    row["reason"] = f"span [{start}, {end}) is outside the text (0–{lengths[document]}) or empty"
                    continue
                try:
                    code = self._code_name(span["code"])
                except ProjectError as error:
                    row["reason"] = str(error)
                    continue
                row["code"] = code
                as_segment = action.db.execute(
                    'SELECT 1 FROM codings WHERE coder = ? AND code = ? AND document = ? AND start = ? AND "end" = ? '
                    "AND segment_id != '' AND value = 1", (coder, code, document, start, end)).fetchone()
                if as_segment is not None:
                    row["status"], row["reason"] = "unchanged", "already coded as a segment"
                    continue
                changed = action.set((coder, code, document, "", start, end), 1, None, span.get("memo"),
                                     coded_at=span.get("coded_at"))
                row["status"] = "added" if changed else "unchanged"
        return pd.DataFrame(rows, columns=["document", "start", "end", "code", "status", "reason"])

    def add_model_codings(self, coded: pd.DataFrame, coder_name: str, codes: Sequence[str] | None = None) -> int:
        """Store a coder's output: a segment table with ``segment_id``, ``<code>`` 0/1 and optionally
        ``<code>_score`` columns (e.g. :func:`qualkit.code.apply_coder`'s result). Returns rows written.

        Every code gets a decision (1 or 0) with its score, so the scores of codes *not* applied are kept for
        suggestions. Previous codings of the same coder on these segments are replaced (one undoable action).
        """
        if "segment_id" not in coded.columns:
            raise ProjectError("the coded table needs a 'segment_id' column (use qualkit.code.apply_coder)")
        codes = list(codes or [c for c in self.codebook.code_names if c in coded.columns])
        if not codes:
            raise ProjectError(f"the coded table has none of the code columns {', '.join(self.codebook.code_names)}")
        rows = self._db.execute('SELECT segment_id, document, start, "end" FROM segments')
        known = {r["segment_id"]: r for r in rows}
        missing = sorted(set(coded["segment_id"]) - set(known))
        if missing:
            raise ProjectError(f"{self.path}: {len(missing)} segment(s) not in the project, e.g. {missing[0]!r}")
        written = 0
        with self._action(coder_name, "model_codings", coder_type="model") as action:
            for record in coded[["segment_id", *codes, *[f"{c}_score" for c in codes if f"{c}_score" in coded]]
                                ].to_dict("records"):
                segment = known[record["segment_id"]]
                for code in codes:
                    score = record.get(f"{code}_score")
                    score = None if score is None or pd.isna(score) else float(score)
                    key = (coder_name, code, segment["document"], segment["segment_id"], segment["start"],
                           segment["end"])
                    written += action.set(key, int(record[code]), score, None)
        return written

    def run_coder(self, coder, unit: str | None = None) -> int:
        """Code the segments of ``unit`` with a coder object (``.name``, ``.code(segments)``) and store the result."""
        from qualkit.code import apply_coder

        segments = self.segments(unit)
        return self.add_model_codings(apply_coder(segments, coder), coder.name)

    @contextmanager
    def _action(self, coder: str, kind: str, coder_type: str | None = None) -> Iterator[_Action]:
        """One transaction that writes codings of ``coder`` and logs them as one undoable action."""
        with self._transaction() as db:
            self._ensure_coder(db, coder, coder_type)
            action = _Action(db, self.meta("codebook") or "")
            yield action
            if action.changes:
                db.execute(
                    "INSERT INTO actions (coder, kind, at, changes) VALUES (?, ?, ?, ?)",
                    (coder, kind, now(), _json(action.changes)),
                )

    def undo(self, coder: str) -> dict[str, Any] | None:
        """Reverse the last not yet undone coding action of ``coder``; returns what was undone (or None)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id, kind, at, changes FROM actions WHERE coder = ? AND undone = 0 ORDER BY id DESC LIMIT 1",
                (coder,),
            ).fetchone()
            if row is None:
                return None
            changes = json.loads(row["changes"])
            for change in reversed(changes):
                key = tuple(change["key"])
                before = change["before"]
                if before is None:
                    db.execute(_DELETE, key)
                else:
                    db.execute(_UPSERT, (*key, before["value"], before["score"], before["memo"], before["codebook"],
                                         before["coded_at"]))
            db.execute("UPDATE actions SET undone = 1 WHERE id = ?", (row["id"],))
        return {"action": row["id"], "kind": row["kind"], "at": row["at"], "rows": len(changes)}

    def actions(self, coder: str | None = None) -> pd.DataFrame:
        """The action log: id, coder, kind, time, rows changed, undone."""
        query = "SELECT id, coder, kind, at, json_array_length(changes) AS rows, undone FROM actions"
        params: tuple = ()
        if coder is not None:
            query, params = query + " WHERE coder = ?", (coder,)
        return pd.read_sql_query(query + " ORDER BY id", self._db, params=params)

    # -- reading codings ----------------------------------------------------------------------------------
    def codings(self, coder: str | None = None, applied_only: bool = False) -> pd.DataFrame:
        """Tidy codings: one row per decision (``value`` 1 applied, 0 not applied); span codings have
        ``segment_id`` ''."""
        query = (
            'SELECT k.coder, c.kind, k.code, k.document, k.segment_id, k.start, k."end", k.value, k.score, k.memo, '
            "k.codebook, k.coded_at FROM codings k JOIN coders c ON c.name = k.coder WHERE 1 = 1"
        )
        params: list[Any] = []
        if coder is not None:
            query += " AND k.coder = ?"
            params.append(coder)
        if applied_only:
            query += " AND k.value = 1"
        table = pd.read_sql_query(query + " ORDER BY k.document, k.start, k.coder, k.code", self._db, params=params)
        return table[CODING_COLUMNS]

    def coded_table(self, coder: str, unit: str | None = None, documents: Sequence[str] | None = None,
                    scores: bool = True) -> pd.DataFrame:
        """The segment table with a 0/1 column per code for one coder (what
        :func:`qualkit.aggregate.themes_by_kommune` takes), plus ``<code>_score`` when the coder has scores and
        a ``reviewed`` column (the coder made a decision on the segment or coded a span overlapping it).

        Span codings count for every segment of ``unit`` they overlap.
        """
        if self._db.execute("SELECT 1 FROM coders WHERE name = ?", (coder,)).fetchone() is None:
            known = ", ".join(self.coders()["coder"]) or "none"
            raise ProjectError(f"{self.path}: no coder {coder!r}; coders are {known}")
        segments = self.segments(unit, documents)
        codes = self.codebook.code_names
        codings = self.codings(coder)
        values = pd.DataFrame(0, index=segments["segment_id"], columns=codes, dtype=int)
        score_table = pd.DataFrame(float("nan"), index=segments["segment_id"], columns=codes)
        reviewed = pd.Series(False, index=segments["segment_id"])
        by_segment = codings[(codings["segment_id"] != "") & codings["segment_id"].isin(values.index)]
        by_segment = by_segment[by_segment["code"].isin(codes)]
        for row in by_segment.itertuples(index=False):
            values.at[row.segment_id, row.code] = int(row.value)
            if row.score is not None and not pd.isna(row.score):
                score_table.at[row.segment_id, row.code] = float(row.score)
        reviewed[by_segment["segment_id"].unique()] = True
        spans = codings[(codings["segment_id"] == "") & (codings["value"] == 1) & codings["code"].isin(codes)]
        for span in spans.itertuples(index=False):
            hit = segments[(segments["document"] == span.document) & (segments["start"] < span.end)
                           & (segments["end"] > span.start)]["segment_id"]
            values.loc[hit, span.code] = 1
            reviewed[hit] = True
        columns = {code: values[code].to_numpy() for code in codes}
        if scores and score_table.notna().any().any():
            columns.update({f"{code}_score": score_table[code].to_numpy() for code in codes})
        columns["reviewed"] = reviewed.to_numpy()
        # all at once: inserting one column per code fragments the frame (pandas warns from about 50 codes)
        added = pd.DataFrame(columns, index=segments.index)
        return pd.concat([segments.drop(columns=[c for c in added.columns if c in segments.columns]), added], axis=1)

    def decisions(self, segment_id: str, coder: str) -> dict[str, int]:
        """The coder's decisions on one segment: code -> 1 (applied) or 0 (not applied); {} if not reviewed."""
        rows = self._db.execute("SELECT code, value FROM codings WHERE segment_id = ? AND coder = ?",
                                (segment_id, coder))
        return {r["code"]: int(r["value"]) for r in rows}

    def reviewed_segments(self, coder: str) -> set[str]:
        """Ids of the segments on which the coder made a decision (spans not counted)."""
        rows = self._db.execute("SELECT DISTINCT segment_id FROM codings WHERE coder = ? AND segment_id != ''",
                                (coder,))
        return {r[0] for r in rows}

    def suggestions(self, segment_id: str, coder: str | None = None) -> dict[str, float]:
        """Scores per code from stored model codings of a segment (the given coder, else the latest model)."""
        query = (
            "SELECT k.code, k.score, k.value, k.coder FROM codings k JOIN coders c ON c.name = k.coder "
            "WHERE k.segment_id = ? AND c.kind = 'model'"
        )
        params: list[Any] = [segment_id]
        if coder is not None:
            query += " AND k.coder = ?"
            params.append(coder)
        rows = self._db.execute(query + " ORDER BY k.coded_at", params).fetchall()
        if not rows:
            return {}
        latest = rows[-1]["coder"]
        return {r["code"]: float(r["score"] if r["score"] is not None else r["value"]) for r in rows
                if r["coder"] == latest}

    # -- memos --------------------------------------------------------------------------------------------
    def add_memo(self, text: str, coder: str = "", document: str = "", segment_id: str = "", code: str = "",
                 start: int | None = None, end: int | None = None, if_new: bool = False) -> int:
        """Store a memo (about the project, a document, a segment, a character span ``[start, end)`` of a
        document, or a code); returns its id. ``if_new=True`` does not store a memo that is already there (same
        coder, place and text) and returns the stored one's id: re-importing a file does not double its memos."""
        if not text.strip():
            raise ProjectError("a memo needs text")
        if segment_id and not document:
            document = self._segment(segment_id)["document"]
        if (start is None) != (end is None) or (start is not None and not document):
            raise ProjectError("a memo on a span needs a document, start and end")
        fields = (coder, document, segment_id, self._code_name(code) if code else "", text, start, end)
        with self._transaction() as db:
            if if_new:
                row = db.execute(
                    "SELECT id FROM memos WHERE coder = ? AND document = ? AND segment_id = ? AND code = ? "
                    'AND text = ? AND start IS ? AND "end" IS ?', fields).fetchone()
                if row is not None:
                    return int(row["id"])
            cursor = db.execute(
                'INSERT INTO memos (coder, document, segment_id, code, text, start, "end", created_at) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*fields, now()))
        return int(cursor.lastrowid)

    def memos(self, coder: str | None = None) -> pd.DataFrame:
        """One row per memo: id, coder, document, segment_id, code, text, created_at, start, end (the span of a
        memo on a span or a segment; else missing)."""
        span = ('COALESCE(m.start, s.start) AS start, COALESCE(m."end", s."end") AS "end"' if self._file_version >= 2
                else 's.start AS start, s."end" AS "end"')  # a schema-1 file (read-only) has no span memos
        query = (
            f"SELECT m.id, m.coder, m.document, m.segment_id, m.code, m.text, m.created_at, {span} "
            "FROM memos m LEFT JOIN segments s ON m.segment_id != '' AND s.segment_id = m.segment_id"
        )
        params: tuple = ()
        if coder is not None:
            query, params = query + " WHERE m.coder = ?", (coder,)
        table = pd.read_sql_query(query + " ORDER BY m.id", self._db, params=params)
        return table.astype({"start": "Int64", "end": "Int64"})

    # -- REFI-QDA identities -----------------------------------------------------------------------------
    def refi_elements(self, kind: str | None = None) -> pd.DataFrame:
        """What REFI-QDA imports brought that qualkit's own tables have no place for, so that an export gives it
        back: one row per ``kind`` (``code``, ``user``, ``variable``, ``case``, ``set``) and ``key`` (code name,
        coder, variable name; the GUID for cases and sets), with the ``guid`` and ``data`` (a dict: a code's
        ``color`` and ``codable``, a variable's ``type``, a case's or set's content)."""
        columns = ["kind", "key", "guid", "data"]
        if self._file_version < 3:  # an older file opened read-only: nothing kept yet
            return pd.DataFrame(columns=columns)
        query, params = "SELECT kind, key, guid, data FROM refi_elements", ()
        if kind is not None:
            query, params = query + " WHERE kind = ?", (kind,)
        rows = [{**dict(row), "data": json.loads(row["data"])}
                for row in self._db.execute(query + " ORDER BY kind, key", params)]
        return pd.DataFrame(rows, columns=columns)

    def keep_refi_elements(self, elements: Iterable[dict[str, Any]]) -> pd.DataFrame:
        """Store REFI-QDA identities (dicts with ``kind, key, guid`` and optionally ``data``; see
        :meth:`refi_elements`). The first GUID stored for a code, user or variable stays: a later import with
        another GUID for the same name is ``refused`` (one qualkit code is one REFI code), and so is a GUID that
        another element has already. The same element again updates its ``data`` (a colour changed in the other
        tool). Returns one row per element: ``kind, key, guid, status`` (``added``, ``updated``, ``unchanged``,
        ``refused``) and ``reason``."""
        rows = []
        with self._transaction() as db:
            for element in elements:
                kind, key, guid = element["kind"], str(element["key"]), str(element["guid"])
                data = _json(element.get("data") or {})
                row = {"kind": kind, "key": key, "guid": guid, "status": "refused", "reason": ""}
                rows.append(row)
                stored = db.execute("SELECT guid, data FROM refi_elements WHERE kind = ? AND key = ?",
                                    (kind, key)).fetchone()
                if stored is not None and stored["guid"] != guid:
                    row["reason"] = f"{kind} {key!r} keeps the GUID {stored['guid']} of an earlier import"
                    continue
                if stored is not None:
                    if stored["data"] != data:
                        db.execute("UPDATE refi_elements SET data = ? WHERE kind = ? AND key = ?", (data, kind, key))
                    row["status"] = "updated" if stored["data"] != data else "unchanged"
                    continue
                other = db.execute("SELECT kind, key FROM refi_elements WHERE guid = ?", (guid,)).fetchone()
                if other is not None:
                    row["reason"] = f"GUID {guid} belongs to {other['kind']} {other['key']!r} already"
                    continue
                db.execute("INSERT INTO refi_elements (kind, key, guid, data, added_at) VALUES (?, ?, ?, ?, ?)",
                           (kind, key, guid, data, now()))
                row["status"] = "added"
        return pd.DataFrame(rows, columns=["kind", "key", "guid", "status", "reason"])

    # -- exchange and reliability (in their own modules) --------------------------------------------------
    def export_coder(self, coder: str, path: str | Path) -> Path:
        """Write one coder's work to a JSONL file (see :mod:`qualkit.project.exchange`)."""
        from qualkit.project.exchange import export_coder

        return export_coder(self, coder, path)

    def import_coder(self, path: str | Path, on_conflict: str = "keep"):
        """Merge a coder's exported work into this project; returns an :class:`ImportReport`."""
        from qualkit.project.exchange import import_coder

        return import_coder(self, path, on_conflict=on_conflict)

    def agreement(self, coders: Sequence[str], documents: Sequence[str] | None = None, unit: str | None = None,
                  codes: Sequence[str] | None = None, scope: str = "reviewed"):
        """Percent agreement, Cohen's κ (two coders), Krippendorff's α per code and overall, and disagreements."""
        from qualkit.project.reliability import agreement

        return agreement(self, coders, documents=documents, unit=unit, codes=codes, scope=scope)


_UPSERT = (
    'INSERT INTO codings (coder, code, document, segment_id, start, "end", value, score, memo, codebook, coded_at) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    'ON CONFLICT (coder, code, document, segment_id, start, "end") DO UPDATE SET '
    "value = excluded.value, score = excluded.score, memo = excluded.memo, codebook = excluded.codebook, "
    "coded_at = excluded.coded_at"
)
_DELETE = (
    "DELETE FROM codings "
    'WHERE coder = ? AND code = ? AND document = ? AND segment_id = ? AND start = ? AND "end" = ?'
)
_SELECT = (
    "SELECT value, score, memo, codebook, coded_at FROM codings "
    'WHERE coder = ? AND code = ? AND document = ? AND segment_id = ? AND start = ? AND "end" = ?'
)


class _Action:
    """The rows one action changes, with their previous state (for undo)."""

    def __init__(self, db: sqlite3.Connection, codebook: str):
        self.db = db
        self.codebook = codebook
        self.changes: list[dict[str, Any]] = []

    def _before(self, key: tuple) -> dict[str, Any] | None:
        row = self.db.execute(_SELECT, key).fetchone()
        return None if row is None else dict(row)

    def set(self, key: tuple, value: int, score: float | None, memo: str | None, keep_memo: bool = False,
            coded_at: str | None = None) -> int:
        """Upsert one decision; returns 1 if it changed anything."""
        before = self._before(key)
        if keep_memo and memo is None and before is not None:
            memo = before["memo"]
        if before is not None and (before["value"], before["score"], before["memo"]) == (value, score, memo):
            return 0
        self.db.execute(_UPSERT, (*key, value, score, memo, self.codebook, coded_at or now()))
        self.changes.append({"key": list(key), "before": before})
        return 1

    def delete(self, key: tuple) -> int:
        before = self._before(key)
        if before is None:
            return 0
        self.db.execute(_DELETE, key)
        self.changes.append({"key": list(key), "before": before})
        return 1


def _move_into_place(temporary: Path, path: Path) -> None:
    """Give the finished file its name; refused (the temporary file is dropped) if ``path`` appeared meanwhile."""
    if path.is_file() and path.stat().st_size == 0:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # unlike a rename, never replaces a file another process created meanwhile
    except FileExistsError:
        raise ProjectError(f"{path}: file exists already (created while this project was being built)") from None
    except OSError:
        if path.exists():
            raise ProjectError(f"{path}: file exists already") from None
        os.replace(temporary, path)  # a file system without hard links


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _codebook_yaml(codebook: Codebook | str | Path | None) -> str:
    """The YAML text to store: the file's own text, or a dump of a :class:`Codebook` object."""
    if isinstance(codebook, Codebook):
        import yaml

        return yaml.safe_dump(codebook.model_dump(exclude_defaults=True), allow_unicode=True, sort_keys=False)
    path = Path(codebook) if codebook is not None else DEFAULT_CODEBOOK
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ProjectError(f"{path}: cannot read the codebook ({error.strerror or error})") from None

