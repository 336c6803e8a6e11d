"""Coded material in: labels CSV files (``text`` or ``segment_id`` + ``codes``) and gold JSON-lines files."""

from __future__ import annotations

import csv
import difflib
import io
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.classify.context import CONTEXT_COLUMNS, add_context, has_context
from qualkit.errors import QualkitError

_CODE_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def resolve_code(name: str, code_names: Sequence[str] | Mapping[str, str]) -> str | None:
    """The codebook's name for ``name``: exact, case-insensitive, or with æ/ø/å spelt ae/o/a (økonomi).

    ``code_names`` is a list of code names, or a mapping from every name a code may go by to the code
    (:func:`code_lookup`: names, aliases and sub-code names, which stand for their top-level code).
    """
    lookup = code_names if isinstance(code_names, Mapping) else {code: code for code in code_names}
    known = _known_name(name, lookup)
    return None if known is None else lookup[known]


def _known_name(name: str, lookup: Mapping[str, str]) -> str | None:
    """The key of ``lookup`` that ``name`` spells: exactly, case-insensitively or with æ/ø/å folded."""
    if name in lookup:
        return name
    wanted = str(name).strip().lower().translate(_CODE_FOLD)
    for known in lookup:
        if known.lower().translate(_CODE_FOLD) == wanted:
            return known
    return None


def code_lookup(codebook: Any) -> dict[str, str]:
    """Every name a labels or gold file may use for a code, mapped to the top-level code (a table column):
    the code's name and aliases, and the names and aliases of its sub-codes at any depth."""
    from qualkit.code import descendants

    lookup: dict[str, str] = {}
    for code in codebook.codes:
        for member in (code, *descendants(code)):
            for name in (member.name, *getattr(member, "aliases", [])):
                lookup.setdefault(name, code.name)
    return lookup


def _subcode_names(codebook: Any) -> set[str]:
    """Names and aliases of the sub-codes (for the note that they count as their top-level code)."""
    top = {name for code in codebook.codes for name in (code.name, *getattr(code, "aliases", []))}
    return set(code_lookup(codebook)) - top


def unknown_code(name: str, code_names: Sequence[str] | Mapping[str, str]) -> str:
    """The message for a code name the codebook does not have, with the closest name when one is close
    (a Nynorsk spelling, a typo: ``brukarmedverknad`` → brukermedvirkning)."""
    known = list(code_names)
    folded = {code.lower().translate(_CODE_FOLD): code for code in known}
    close = difflib.get_close_matches(str(name).strip().lower().translate(_CODE_FOLD), list(folded), n=1, cutoff=0.6)
    hint = f"did you mean {folded[close[0]]}? " if close else ""
    codes = list(dict.fromkeys(code_names.values())) if isinstance(code_names, Mapping) else known
    return f"unknown code {name!r}; {hint}the codebook has {', '.join(codes)}"


def _subcode_note(source: Any, used: dict[str, list[Any]], lookup: Mapping[str, str]) -> None:
    """Warn once that sub-code names in a labels/gold file were read as their top-level codes."""
    if not used:
        return
    uses = "; ".join(f"{name} → {lookup[name]} (line{'s' if len(lines) > 1 else ''} "
                     f"{', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''})"
                     for name, lines in used.items())
    warnings.warn(f"{source}: sub-codes count as their top-level code, which is what is coded: {uses}",
                  stacklevel=3)


class LabelsError(QualkitError, ValueError):
    """A labels file (``text``/``segment_id`` + ``codes``) that cannot be used for training."""

def demo_gold_paths(root: str | Path | None = None) -> list[Path]:
    """The coded demo material shipped for the default codebook (``corpora/demo/gold*.jsonl``)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[2] / "corpora" / "demo"
    return sorted(root.glob("gold*.jsonl")) if root.is_dir() else []


def read_gold_jsonl(paths: Iterable[str | Path], codebook: Any) -> pd.DataFrame:
    """Coded units from JSON-lines gold files (``text``, ``codes`` and optionally ``document``).

    Returns a table with ``document``, ``text`` and one 0/1 column per code; code names are matched with
    :func:`resolve_code` (so ``okonomi`` and ``økonomi`` are the same code; aliases and sub-code names, which
    stand for their top-level code, are accepted too), unknown names raise.
    """
    import json

    names = list(codebook.code_names)
    lookup = code_lookup(codebook) if hasattr(codebook, "codes") else {name: name for name in names}
    subcodes = _subcode_names(codebook) if hasattr(codebook, "codes") else set()
    rows = []
    for path in paths:
        used: dict[str, list[int]] = {}
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise LabelsError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
                if not isinstance(record, dict) or "text" not in record:
                    raise LabelsError(f"{path}, line {number}: a coded unit needs a 'text' field")
                row = {"document": str(record.get("document", record.get("report", Path(path).stem))),
                       "text": str(record["text"])}
                row.update(dict.fromkeys(names, 0))
                for code in record.get("codes") or []:
                    known = _known_name(code, lookup)
                    if known is None:
                        raise LabelsError(f"{path}, line {number}: {unknown_code(code, lookup)}")
                    if known in subcodes:
                        used.setdefault(known, []).append(number)
                    row[lookup[known]] = 1
                rows.append(row)
        _subcode_note(path, used, lookup)
    return pd.DataFrame(rows, columns=["document", "text", *names])

def read_labels(path: str | Path, segments: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    """Read a labels CSV (``text`` or ``segment_id``, and ``codes``) and match it to the segment table.

    ``codes`` holds code names separated by ``;`` (empty for none). Rows are matched by ``segment_id``
    when that column exists, else (or when the id is unknown, e.g. ids from a run on another folder, since ids
    depend on the document's path) by exact text, then by whitespace-normalised text. Column names are not
    case-sensitive; UTF-8 and Windows-1252 files, with ``,``, ``;`` or tab as delimiter, are read. A code may be
    named by its name, an alias (``økonomi``) or a sub-code (``okonomi_individ``, which stands for its top-level
    code ``okonomi``; a warning says so once). Returns one row per labelled segment: ``line`` (in the file),
    ``segment_id`` and ``document`` (None if unmatched), ``text`` and one 0/1 column per code;
    ``result.attrs["unmatched"]`` lists the lines that matched no segment (a warning says how many). Text rows
    that match no segment can still be trained on; segment_id rows cannot.

    A segment listed more than once (a corrected row appended to the file) counts once, with the codes of its
    last row; a warning names the lines, and ``result.attrs["repeated"]`` lists them per segment.

    Raises :class:`LabelsError` naming the file, line and code for an unknown code name.

    >>> labels = read_labels("labels.csv", segments, codebook)
    >>> model = train_classifier(labels[["document", "text"]].fillna("labels"), labels[codebook.code_names],
    ...                          codebook)
    """
    path = Path(path)
    names = list(codebook.code_names)
    lookup = code_lookup(codebook)
    subcodes, used = _subcode_names(codebook), {}
    records = _read_label_rows(path)
    by_id, by_text, by_norm = _segment_lookups(segments)
    rows = []
    for line, record in records:
        codes = _parse_codes(record.get("codes", ""), lookup, path, line, subcodes, used)
        text = record.get("text", "")
        match = by_id.get(record["segment_id"].strip()) if record.get("segment_id", "").strip() else None
        if match is not None:
            text = match[1]
        elif text.strip():  # no id, or an id from another reading (a subfolder, a moved folder): match the text
            match = by_text.get(text) or by_norm.get(_squash(text))
        rows.append({"line": line, "segment_id": match[0] if match else None,
                     "document": match[2] if match else None, "text": text,
                     **{code: int(code in codes) for code in names}})
    _subcode_note(path, used, lookup)
    rows, repeated = _last_row_wins(rows, names)
    if repeated:
        _warn_repeated(path, repeated)
    unmatched = [row["line"] for row in rows if row["segment_id"] is None]
    result = pd.DataFrame(rows, columns=["line", "segment_id", "document", "text", *names])
    _add_segment_context(result, segments)
    result.attrs["unmatched"] = unmatched
    result.attrs["repeated"] = repeated
    if unmatched:
        shown = ", ".join(str(n) for n in unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
        warnings.warn(f"{path}: {len(unmatched)} of {len(rows)} label rows match no segment (lines {shown})",
                      stacklevel=2)
    return result


def _last_row_wins(rows: list[dict[str, Any]], names: list[str]) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """Keep the last row of each segment (its ``segment_id``, or its whitespace-normalised text when it matched
    no segment), in the order of the file; also return the lines of every segment listed more than once."""
    last: dict[tuple[str, str], int] = {}
    lines: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        key = ("id", row["segment_id"]) if row["segment_id"] is not None else ("text", _squash(row["text"]))
        if not key[1]:
            continue
        last[key] = i
        lines.setdefault(key, []).append(row["line"])
    keep = set(last.values()) | {i for i, row in enumerate(rows)
                                   if row["segment_id"] is None and not _squash(row["text"])}
    repeated = [group for group in lines.values() if len(group) > 1]
    return [row for i, row in enumerate(rows) if i in keep], repeated


def _warn_repeated(path: Path, repeated: list[list[int]]) -> None:
    groups = "; ".join(" and ".join(map(str, group)) for group in repeated[:10]) + ("; ..." if len(repeated) > 10
                                                                                      else "")
    warnings.warn(f"{path}: {len(repeated)} segment{'s are' if len(repeated) > 1 else ' is'} listed more than "
                  f"once; the last row counts (lines {groups})", stacklevel=3)


def _add_segment_context(labels: pd.DataFrame, segments: pd.DataFrame) -> None:
    """Give matched label rows the neighbours their segment has in its document (unmatched rows: none)."""
    if "text" not in segments.columns:
        for column in CONTEXT_COLUMNS:
            labels[column] = ""
        return
    table = segments if has_context(segments) else add_context(segments)
    ids = table["segment_id"].astype(str) if "segment_id" in table.columns else table.index.astype(str)
    for column in CONTEXT_COLUMNS:
        lookup = dict(zip(ids, table[column], strict=True))
        labels[column] = [lookup.get(sid, "") if sid is not None else "" for sid in labels["segment_id"]]


def _read_label_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a labels CSV as (line number, {column: value}), column names lower-cased.

    Reads what spreadsheets write: UTF-8 (with or without BOM), else Windows-1252 (Excel on Norwegian Windows,
    with a warning); ``,``, tab or ``;`` as the delimiter. With ``;``, unquoted codes (``bolig;okonomi``) in a
    last ``codes`` column spill into extra fields: they are taken as more codes.
    """
    text, encoding = _read_text(path)
    header = text.split("\n", 1)[0]
    delimiter = _header_delimiter(header)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, restkey=_EXTRA)
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "codes" not in fields or not ({"text", "segment_id"} & set(fields)):
        raise LabelsError(f"{path}, line 1: the header needs 'codes' and 'text' or 'segment_id' "
                          f"(found: {', '.join(fields) or 'nothing'})")
    reader.fieldnames = fields
    codes_last = fields[-1] == "codes"
    rows, line = [], 1
    for record in reader:
        extra = [v for v in record.pop(_EXTRA, None) or [] if v and v.strip()]
        if extra and not (codes_last and delimiter == ";"):
            raise LabelsError(f"{path}, line {line + 1}: more fields than the header has columns "
                              f"({', '.join(extra)}); put codes in one field, e.g. \"bolig;okonomi\"")
        row = {k: (v or "") for k, v in record.items() if k is not None}
        if extra:
            row["codes"] = ";".join([row.get("codes", ""), *extra])
        rows.append((line + 1, row))
        line = reader.line_num
    if encoding != "utf-8":
        warnings.warn(f"{path}: not UTF-8; read as {encoding} (as Excel on Windows saves CSV)", stacklevel=3)
    return rows


_EXTRA = "\x00extra"


def _read_text(path: Path) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (BOM removed) or, failing that, Windows-1252."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LabelsError(f"{path}: labels file not found") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError as error:
            raise LabelsError(f"{path}: neither UTF-8 nor Windows-1252 text (byte {error.start})") from None


def _header_delimiter(header: str) -> str:
    """The delimiter that makes the header name the ``codes`` column (``,``, ``;`` or tab).

    Decided from the header alone: the ``codes`` column itself holds ``;``-separated names, which would
    mislead a sniffer looking at the data rows.
    """
    for delimiter in (",", "\t", ";"):
        if "codes" in [field.strip().strip('"').lower() for field in header.split(delimiter)]:
            return delimiter
    return ","


def _parse_codes(value: str, lookup: Mapping[str, str], path: Path, line: int, subcodes: set[str] = frozenset(),
                 used: dict[str, list[int]] | None = None) -> set[str]:
    """The top-level codes a ``codes`` field names (names, aliases or sub-codes; sub-code uses noted in ``used``)."""
    codes = set()
    for raw in str(value or "").replace(",", ";").split(";"):
        if not raw.strip():
            continue
        known = _known_name(raw.strip(), lookup)
        if known is None:
            raise LabelsError(f"{path}, line {line}: {unknown_code(raw.strip(), lookup)}")
        if known in subcodes and used is not None:
            used.setdefault(known, []).append(line)
        codes.add(lookup[known])
    return codes


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _segment_lookups(segments: pd.DataFrame) -> tuple[dict, dict, dict]:
    """segment_id, exact text and whitespace-normalised text → (segment_id, text, document)."""
    ids = segments["segment_id"].astype(str) if "segment_id" in segments.columns else segments.index.astype(str)
    texts = segments["text"].fillna("").astype(str) if "text" in segments.columns else pd.Series("", index=ids)
    documents = segments["document"].astype(str) if "document" in segments.columns else pd.Series(None, index=ids)
    by_id, by_text, by_norm = {}, {}, {}
    for sid, text, document in zip(ids, texts, documents, strict=True):
        entry = (sid, text, document)
        by_id.setdefault(sid, entry)
        by_text.setdefault(text, entry)
        by_norm.setdefault(_squash(text), entry)
    return by_id, by_text, by_norm
