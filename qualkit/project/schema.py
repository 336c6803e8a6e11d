"""The project file's schema and its migrations.

The schema version lives in ``PRAGMA user_version``. :data:`MIGRATIONS` is a list of steps; step *i* (a list of
SQL statements) takes a file from version *i* to *i + 1*. Opening a file runs the missing steps inside one
``BEGIN IMMEDIATE`` transaction, so a failed or interrupted migration leaves the file as it was; a file that is up
to date is opened without any lock. A file whose version is newer than this qualkit knows is refused.

Statements are run one by one with ``execute`` (never ``executescript``, which would commit on its own).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from qualkit.errors import ProjectError

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0

_V1 = [
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE documents (
        name TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',   -- JSON
        speakers TEXT NOT NULL DEFAULT '{}',   -- JSON: label -> {role, attributes}
        encoding TEXT NOT NULL DEFAULT 'utf-8',
        source TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL
    )""",
    """CREATE TABLE segments (
        segment_id TEXT PRIMARY KEY,
        document TEXT NOT NULL REFERENCES documents(name),
        unit TEXT NOT NULL,
        idx INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        speaker TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT '',
        heading TEXT NOT NULL DEFAULT '',
        kommune TEXT NOT NULL DEFAULT '',
        kilde TEXT NOT NULL DEFAULT '',
        fylke TEXT NOT NULL DEFAULT '',
        dato TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        CHECK (start >= 0 AND "end" > start)
    )""",
    "CREATE UNIQUE INDEX segments_position ON segments(document, unit, idx)",
    """CREATE TABLE codebooks (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        yaml TEXT NOT NULL,
        added_at TEXT NOT NULL
    )""",
    """CREATE TABLE coders (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('human', 'model')),
        created_at TEXT NOT NULL
    )""",
    # One row per decision: ``value`` 1 = the code applies, 0 = the coder decided it does not.
    # Segment codings carry the segment's id and offsets; span codings have segment_id ''.
    """CREATE TABLE codings (
        id INTEGER PRIMARY KEY,
        coder TEXT NOT NULL REFERENCES coders(name),
        code TEXT NOT NULL,
        document TEXT NOT NULL REFERENCES documents(name),
        segment_id TEXT NOT NULL DEFAULT '',
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        value INTEGER NOT NULL DEFAULT 1 CHECK (value IN (0, 1)),
        score REAL,
        memo TEXT,
        codebook TEXT NOT NULL DEFAULT '',
        coded_at TEXT NOT NULL,
        CHECK (start >= 0 AND "end" > start),
        UNIQUE (coder, code, document, segment_id, start, "end")
    )""",
    "CREATE INDEX codings_segment ON codings(segment_id)",
    "CREATE INDEX codings_document ON codings(document, coder)",
    # The action log behind undo: each action lists the rows it changed and what they were before.
    """CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        coder TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        changes TEXT NOT NULL,                  -- JSON list of {key, before}
        undone INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX actions_coder ON actions(coder, undone, id)",
    """CREATE TABLE memos (
        id INTEGER PRIMARY KEY,
        coder TEXT NOT NULL DEFAULT '',
        document TEXT NOT NULL DEFAULT '',
        segment_id TEXT NOT NULL DEFAULT '',
        code TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
]

# Version 2: a memo can be on a character span of a document (a REFI-QDA note on a selection), like a span coding.
_V2 = [
    "ALTER TABLE memos ADD COLUMN start INTEGER",
    'ALTER TABLE memos ADD COLUMN "end" INTEGER',
]

# Version 3: what a REFI-QDA import brings that qualkit's own tables have no place for, kept so that an export
# gives it back (vendor → qualkit → vendor): the GUIDs of codes, users and variables with the code's colour and
# isCodable and the variable's type, and the cases and sets with their members. ``key`` is the qualkit name (code
# name, coder, variable name) or, for cases and sets, the GUID; ``data`` is JSON.
_V3 = [
    """CREATE TABLE refi_elements (
        kind TEXT NOT NULL CHECK (kind IN ('code', 'user', 'variable', 'case', 'set')),
        key TEXT NOT NULL,
        guid TEXT NOT NULL UNIQUE,
        data TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    )""",
]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path, create: bool = False, readonly: bool = False) -> sqlite3.Connection:
    """Open a project file with the settings every connection needs: WAL, busy timeout, foreign keys.

    ``isolation_level=None`` turns off the sqlite3 module's implicit transactions; :class:`Project` opens each
    write with ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of deadlocking.

    ``readonly=True`` never writes and never takes a write lock, so reading works while another process writes.
    Where the file and its folder are writable it is an ordinary connection with ``PRAGMA query_only`` (so the
    ``-wal``/``-shm`` files are removed on close as usual); on a read-only folder or medium SQLite's
    ``mode=ro`` (which leaves empty ``-wal``/``-shm`` files where it can create them).
    """
    path = Path(path)
    if not create:
        if not path.exists():
            raise ProjectError(f"{path}: project file not found")
        _check_header(path)
    elif path.exists() and path.stat().st_size > 0:
        raise ProjectError(f"{path}: file exists already; use Project.open to open it")
    try:
        if readonly and not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
            return _connect_read_only(path)
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        if readonly:
            connection.execute("PRAGMA query_only = ON")
    except sqlite3.OperationalError as error:
        if _is_busy(error):
            raise write_error(path, error) from None
        if not readonly and not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
            raise ProjectError(f"{path}: the project or its folder is read-only, so it cannot be written "
                               f"({error}); reading commands such as export still work") from None
        raise ProjectError(f"{path}: not a usable qualkit project ({error})") from None
    except sqlite3.DatabaseError as error:
        raise ProjectError(f"{path}: not a usable qualkit project ({error})") from None
    if str(mode).lower() != "wal":
        connection.close()
        raise ProjectError(f"{path}: cannot switch the file to WAL journal mode (got {mode!r}); is it read-only?")
    connection.row_factory = sqlite3.Row
    return connection


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection to a file we cannot write. SQLite's ``mode=ro`` needs the ``-shm`` file or a folder it can
    create it in; a cleanly closed project (no ``-wal``: nobody is writing) in a read-only folder is opened as
    ``immutable`` instead."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        if path.with_name(path.name + "-wal").exists():
            raise
        connection = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    connection.row_factory = sqlite3.Row
    return connection


def _is_busy(error: sqlite3.Error) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def write_error(path: str | Path, error: sqlite3.Error) -> ProjectError:
    """A clear message for a write SQLite refused: locked by another process, or a read-only file/folder."""
    if _is_busy(error):
        return ProjectError(f"{path}: the project is locked by another process that is writing to it (waited "
                            f"{BUSY_TIMEOUT_S:.0f} s); try again when it is done")
    if "readonly" in str(error) or "read-only" in str(error):
        return ProjectError(f"{path}: the project cannot be written (opened read-only, or a read-only file or "
                            "folder); reading commands such as export still work")
    return ProjectError(f"{path}: writing failed ({error})")


def _check_header(path: Path) -> None:
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder, not a project file")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header and header != SQLITE_MAGIC:
        raise ProjectError(f"{path}: not a qualkit project (not an SQLite file)")


def is_project_file(path: str | Path) -> bool:
    """True when ``path`` is a file starting with the SQLite header (a project, or at least an SQLite file)."""
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def schema_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, path: str | Path, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> int:
    """Bring the file to ``len(migrations)``; returns the version it had before.

    All steps run in one transaction: on any error the file keeps its old version and tables.
    """
    target = len(migrations)
    version = schema_version(connection)
    if version > target:
        raise _newer(path, version, target)
    if version == target and _has_table(connection, "meta"):
        return version  # nothing to do: no write lock taken, so opening never waits for another writer
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise write_error(path, error) from None
    try:
        version = schema_version(connection)
        if version > target:
            raise _newer(path, version, target)
        if version > 0 and not _has_table(connection, "meta"):
            raise ProjectError(f"{path}: an SQLite file, but not a qualkit project (no 'meta' table)")
        if version == 0 and _has_user_tables(connection):
            raise ProjectError(f"{path}: an SQLite file with tables of its own, not a qualkit project")
        for step in range(version, target):
            for statement in migrations[step]:
                try:
                    connection.execute(statement)
                except sqlite3.Error as error:
                    raise ProjectError(
                        f"{path}: migration to schema version {step + 1} failed ({error}); the file is unchanged"
                    ) from error
        if version != target:
            connection.execute(f"PRAGMA user_version = {target}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return version


def _newer(path: str | Path, version: int, target: int) -> ProjectError:
    return ProjectError(f"{path}: the project was written by a newer qualkit (schema version {version}; "
                        f"this qualkit reads up to version {target}). Update qualkit to open it.")


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _has_user_tables(connection: sqlite3.Connection) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return row.fetchone() is not None
