"""Readers per file format. Each returns the document's plain text (not yet normalised) and its encoding.

Word and OpenDocument files become one paragraph per line with blank lines between paragraphs, so that the
segmenter sees the same structure as in a text file. Subtitles (.vtt, .srt) become one line per cue:
``[hh:mm:ss] Speaker: text`` when a speaker is known (vtt voice tags ``<v Name>`` or ``Name:`` in the cue).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from qualkit.errors import IngestError
from qualkit.ingest.text import DecodedText, decode

MAX_BYTES = 50 * 1024 * 1024


def read_plain(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    return decode(_read_bytes(path, max_bytes), path)


def read_docx(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    import docx  # python-docx

    _require_zip(path, "Word (.docx)", max_bytes)
    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises several types for broken packages
        raise IngestError(path, f"not a readable Word document: {error}") from None
    paragraphs = []
    for paragraph in document.paragraphs:
        text = paragraph.text
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        if style.startswith("heading") or style.startswith("overskrift"):
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            text = "#" * int(level[0]) + " " + text
        elif "list" in style or "liste" in style:
            text = "- " + text
        paragraphs.append(text)
    return DecodedText("\n\n".join(p for p in paragraphs if p.strip()), "docx")


def read_odt(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    from odf import teletype
    from odf.opendocument import load
    from odf.text import P

    _require_zip(path, "OpenDocument (.odt)", max_bytes)
    try:
        document = load(str(path))
    except Exception as error:
        raise IngestError(path, f"not a readable OpenDocument text: {error}") from None
    blocks = []
    for element in document.text.childNodes:
        if element.tagName == "text:h":
            level = int(element.getAttribute("outlinelevel") or 1)
            blocks.append("#" * level + " " + teletype.extractText(element))
        elif element.tagName == "text:p":
            blocks.append(teletype.extractText(element))
        elif element.tagName == "text:list":
            for item in element.getElementsByType(P):
                blocks.append("- " + teletype.extractText(item))
    return DecodedText("\n\n".join(b for b in blocks if b.strip()), "odt")


_TIMING = re.compile(r"^(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}\s*-->\s*(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")


def read_subtitles(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    """Read .vtt or .srt cues into one line per cue: ``[hh:mm:ss] Speaker: text``."""
    decoded = decode(_read_bytes(path, max_bytes), path)
    lines = decoded.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip().lstrip("\ufeff")
        if _TIMING.match(line):
            start = _timestamp(line.split("-->")[0].strip())
            body = []
            i += 1
            while i < len(lines) and lines[i].strip():
                body.append(lines[i].strip())
                i += 1
            cues.append(_cue_line(start, " ".join(body)))
        i += 1
    if not cues:
        raise IngestError(path, "no subtitle cues found (expected lines like 00:00:01.000 --> 00:00:04.000)")
    return DecodedText("\n\n".join(cues), decoded.encoding)


def _cue_line(start: str, body: str) -> str:
    voice = _VOICE.search(body)
    text = _TAG.sub("", body).strip()
    if voice:
        return f"[{start}] {voice.group(1).strip()}: {text}"
    return f"[{start}] {text}"


def _timestamp(value: str) -> str:
    value = value.replace(",", ".").split(".")[0]
    parts = value.split(":")
    if len(parts) == 2:
        parts.insert(0, "00")
    return ":".join(p.zfill(2) for p in parts)


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError(
            path, f"file too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB, see max_bytes)"
        )


def _read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    _check_size(path, max_bytes)
    return path.read_bytes()


def _require_zip(path: Path, kind: str, max_bytes: int = MAX_BYTES) -> None:
    _check_size(path, max_bytes)
    if not zipfile.is_zipfile(path):
        raise IngestError(path, f"not a {kind} file: it is not a zip package (renamed or damaged?)")


READERS: dict[str, Callable[..., DecodedText]] = {
    ".txt": read_plain,
    ".md": read_plain,
    ".markdown": read_plain,
    ".docx": read_docx,
    ".odt": read_odt,
    ".vtt": read_subtitles,
    ".srt": read_subtitles,
}
