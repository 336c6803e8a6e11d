"""Coded material in: labels CSV files (``text`` or ``segment_id`` + ``codes``) and gold JSON-lines files."""

from __future__ import annotations

import csv
import difflib
import io
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.classify.context import CONTEXT_COLUMNS, add_context, has_context
from qualkit.errors import QualkitError

_CODE_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def resolve_code(name: str, code_names: Sequence[str]) -> str | None:
    """The codebook's name for ``name``: exact, case-insensitive, or with æ/ø/å spelt ae/o/a (økonomi)."""
    if name in code_names:
        return name
    wanted = str(name).strip().lower().translate(_CODE_FOLD)
    for code in code_names:
        if code.lower().translate(_CODE_FOLD) == wanted:
            return code
    return None

def unknown_code(name: str, code_names: Sequence[str]) -> str:
    """The message for a code name the codebook does not have, with the closest name when one is close
    (a Nynorsk spelling, a typo: ``brukarmedverknad`` → brukermedvirkning)."""
    folded = {code.lower().translate(_CODE_FOLD): code for code in code_names}
    close = difflib.get_close_matches(str(name).strip().lower().translate(_CODE_FOLD), list(folded), n=1, cutoff=0.6)
    hint = f"did you mean {folded[close[0]]}? " if close else ""
    return f"unknown code {name!r}; {hint}the codebook has {', '.join(code_names)}"


class LabelsError(QualkitError, ValueError):
    """A labels file (``text``/``segment_id`` + ``codes``) that cannot be used for training."""

def demo_gold_paths(root: str | Path | None = None) -> list[Path]:
    """The coded demo material shipped for the default codebook (``corpora/demo/gold*.jsonl``)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[2] / "corpora" / "demo"
    return sorted(root.glob("gold*.jsonl")) if root.is_dir() else []


def read_gold_jsonl(paths: Iterable[str | Path], codebook: Any) -> pd.DataFrame:
    """Coded units from JSON-lines gold files (``text``, ``codes`` and optionally ``document``).

    Returns a table with ``document``, ``text`` and one 0/1 column per code; code names are matched with
    :func:`resolve_code` (so ``okonomi`` and ``økonomi`` are the same code), unknown names raise.
    """
    import json

    names = list(codebook.code_names)
    rows = []
    for path in paths:
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
                    resolved = resolve_code(code, names)
                    if resolved is None:
                        raise LabelsError(f"{path}, line {number}: {unknown_code(code, names)}")
                    row[resolved] = 1
                rows.append(row)
    return pd.DataFrame(rows, columns=["document", "text", *names])

def read_labels(path: str | Path, segments: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    """Read a labels CSV (``text`` or ``segment_id``, and ``codes``) and match it to the segment table.

    ``codes`` holds code names separated by ``;`` (empty for none). Rows are matched by ``segment_id``
    when that column exists, else (or when the id is unknown, e.g. ids from a run on another folder, since ids
    depend on the document's path) by exact text, then by whitespace-normalised text. Column names are not
    case-sensitive; UTF-8 and Windows-1252 files, with ``,``, ``;`` or tab as delimiter, are read. Returns one row per
    label row: ``line`` (in the file), ``segment_id`` and ``document`` (None if unmatched), ``text`` and one
    0/1 column per code; ``result.attrs["unmatched"]`` lists the lines that matched no segment (a warning
    says how many). Text rows that match no segment can still be trained on; segment_id rows cannot.

    Raises :class:`LabelsError` naming the file, line and code for an unknown code name.

    >>> labels = read_labels("labels.csv", segments, codebook)
    >>> model = train_classifier(labels[["document", "text"]].fillna("labels"), labels[codebook.code_names],
    ...                          codebook)
    """
    path = Path(path)
    names = list(codebook.code_names)
    records = _read_label_rows(path)
    by_id, by_text, by_norm = _segment_lookups(segments)
    rows, unmatched = [], []
    for line, record in records:
        codes = _parse_codes(record.get("codes", ""), names, path, line)
        text = record.get("text", "")
        match = by_id.get(record["segment_id"].strip()) if record.get("segment_id", "").strip() else None
        if match is not None:
            text = match[1]
        elif text.strip():  # no id, or an id from another reading (a subfolder, a moved folder): match the text
            match = by_text.get(text) or by_norm.get(_squash(text))
        if match is None:
            unmatched.append(line)
        rows.append({"line": line, "segment_id": match[0] if match else None,
                     "document": match[2] if match else None, "text": text,
                     **{code: int(code in codes) for code in names}})
    result = pd.DataFrame(rows, columns=["line", "segment_id", "document", "text", *names])
    _add_segment_context(result, segments)
    result.attrs["unmatched"] = unmatched
    if unmatched:
        shown = ", ".join(str(n) for n in unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
        warnings.warn(f"{path}: {len(unmatched)} of {len(rows)} label rows match no segment (lines {shown})",
                      stacklevel=2)
    return result


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


def _parse_codes(value: str, names: list[str], path: Path, line: int) -> set[str]:
    codes = set()
    for raw in str(value or "").replace(",", ";").split(";"):
        if not raw.strip():
            continue
        code = resolve_code(raw.strip(), names)
        if code is None:
            raise LabelsError(f"{path}, line {line}: {unknown_code(raw.strip(), names)}")
        codes.add(code)
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
