"""Document metadata: YAML front matter in the file, or a sidecar ``metadata.csv`` in the folder."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from qualkit.errors import IngestError
from qualkit.ingest.text import decode, normalise

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
SIDECAR = "metadata.csv"


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML as people write front matter: a number with a leading zero stays text.

    YAML 1.1 reads ``kommune: 0301`` (Oslo's number) as the octal number 193 and ``dato: 010`` as 8;
    kommunenummer, postnummer and case numbers are codes, not quantities.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)


def split_front_matter(text: str, path: object) -> tuple[dict[str, Any], str]:
    """Return (metadata, body). The body is the text after the closing ``---`` line."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    raw = match.group(1) or ""
    try:
        data = yaml.load(raw, Loader=_FrontMatterLoader) or {}  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the opening ---
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise IngestError(path, f"front matter is not valid YAML: {problem}", line) from None
    if not isinstance(data, dict):
        raise IngestError(path, "front matter must be a mapping of fields (kommune: ..., kilde: ...)", 2)
    return {str(k): _plain(v) for k, v in data.items()}, text[match.end() :]


def read_sidecar(folder: Path) -> dict[str, dict[str, Any]]:
    """Read ``metadata.csv`` (column ``document`` or ``fil``, then any columns) keyed by file name.

    The file is read as spreadsheets save it: in any encoding :func:`~qualkit.ingest.text.decode` knows
    (UTF-8 with or without BOM, UTF-16, Windows-1252 from Excel on Norwegian Windows), separated by ``,``,
    ``;`` (Excel where the comma is the decimal sign, as in Norway) or TAB, with column names in any case
    (``Kommune`` is ``kommune``). Raises :class:`IngestError` naming the file (and line) when it cannot be read.
    """
    path = folder / SIDECAR
    if not path.exists():
        return {}
    text = normalise(decode(path.read_bytes(), path).text)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    found = [(name or "").strip().lower() for name in reader.fieldnames or []]
    reader.fieldnames = found
    key = next((k for k in ("document", "dokument", "fil", "file") if k in found), None)
    if key is None:
        columns = ", ".join(name for name in found if name) or "none"
        raise IngestError(path, f"metadata.csv needs a column 'document' naming the file (columns found: {columns})", 1)
    rows: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        name = (row.pop(key) or "").strip()
        if not name:
            raise IngestError(path, f"empty '{key}' value", line)
        rows[name] = {k: v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
    return rows


def _delimiter(header: str) -> str:
    """The separator the header line uses most: ``,``, ``;`` or TAB (``,`` when there is none)."""
    return max((",", ";", "\t"), key=header.count) if any(c in header for c in ",;\t") else ","


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value
