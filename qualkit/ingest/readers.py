"""Readers per file format. Each returns the document's plain text (not yet normalised) and its encoding.

Word and OpenDocument files become one paragraph per line with blank lines between paragraphs, so that the
segmenter sees the same structure as in a text file. Subtitles (.vtt, .srt) become one paragraph per cue and
speaker: ``[hh:mm:ss] Speaker: text`` when a speaker is known (vtt voice tags ``<v Name>`` or ``Name:`` in the
cue), ``[hh:mm:ss] text`` when not (see :func:`read_subtitles`).
"""

from __future__ import annotations

import html
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
    """Read a Word document in reading order: paragraphs, tables (rows as in :func:`table_row`) and content
    controls (``w:sdt``). An unaccepted tracked insertion (``w:ins``) is read as part of the text, a tracked
    deletion (``w:del``) is not: the text is read as it would be with all changes accepted."""
    import docx  # python-docx

    _require_zip(path, "Word (.docx)", max_bytes)
    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises several types for broken packages
        raise IngestError(path, f"not a readable Word document: {error}") from None
    blocks = _docx_blocks(document.element.body, document)
    return DecodedText("\n\n".join(b for b in blocks if b.strip()), "docx")


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


_DOCX_CONTAINERS = {_w("sdt"), _w("sdtContent"), _w("customXml"), _w("ins"), _w("moveTo"), _w("smartTag"),
                    _w("hyperlink"), _w("fldSimple"), _w("txbxContent")}
"""Elements whose content is read as if it stood in their place."""
_DOCX_SKIPPED = {_w("del"), _w("moveFrom"), _w("sdtPr"), _w("sdtEndPr"), _w("pPr"), _w("rPr"), _w("instrText"),
                 _w("delText")}
"""Tracked deletions, moved-away text, properties and field codes: not text of the document."""


def _docx_blocks(element, document) -> list[str]:
    """The paragraphs under a body, table cell or content control, one string each, in reading order."""
    blocks: list[str] = []
    for child in element:
        if child.tag == _w("p"):
            blocks.append(_docx_paragraph(child, document))
        elif child.tag == _w("tbl"):
            for row in (r for r in child if r.tag == _w("tr")):
                cells = ["\n".join(b for b in _docx_blocks(cell, document) if b.strip())
                         for cell in row if cell.tag == _w("tc")]
                blocks.append(table_row(cells))
        elif child.tag in _DOCX_CONTAINERS:
            blocks += _docx_blocks(child, document)
    return blocks


def _docx_paragraph(p, document) -> str:
    from docx.text.paragraph import Paragraph

    text = _docx_inline(p)
    paragraph = Paragraph(p, document._body)
    style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
    if style.startswith("heading") or style.startswith("overskrift"):
        level = "".join(ch for ch in style if ch.isdigit()) or "1"
        return "#" * int(level[0]) + " " + text
    if "list" in style or "liste" in style:
        return "- " + text
    return text


def _docx_inline(element) -> str:
    """The text of a paragraph's runs, including runs inside insertions, hyperlinks and content controls."""
    parts: list[str] = []
    for child in element:
        tag = child.tag
        if tag in _DOCX_SKIPPED:
            continue
        if tag == _w("t"):
            parts.append(child.text or "")
        elif tag == _w("tab"):
            parts.append("\t")
        elif tag in (_w("br"), _w("cr")):
            parts.append("\n")
        elif tag == _w("noBreakHyphen"):
            parts.append("-")
        elif tag == _w("r") or tag in _DOCX_CONTAINERS:
            parts.append(_docx_inline(child))
    return "".join(parts)


def table_row(cells: list[str]) -> str:
    """One paragraph per table row. A two-column row whose first cell is a short label (``Moderator``,
    ``D1``, ``Kari:``) becomes ``Label: text``, the usual layout of transcripts kept as tables; any other
    row keeps its non-empty cells separated by `` | ``, so a row stays one unit."""
    cells = [cell.strip() for cell in cells]
    filled = [cell for cell in cells if cell]
    if len(cells) == 2 and all(filled) and len(filled) == 2 and _label_cell(cells[0]):
        return f"{cells[0].rstrip(':').strip()}: {cells[1]}"
    return " | ".join(filled)


def _label_cell(cell: str) -> bool:
    return (len(cell) <= 40 and "\n" not in cell and len(cell.split()) <= 4
            and not cell.rstrip(":").endswith((".", "!", "?", ",", ";")))


def read_odt(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    """Read an OpenDocument text in reading order, including sections and tables (rows as in
    :func:`table_row`). The record of tracked changes (``text:tracked-changes``, where deleted text is kept)
    is not read."""
    from odf.opendocument import load

    _require_zip(path, "OpenDocument (.odt)", max_bytes)
    try:
        document = load(str(path))
    except Exception as error:
        raise IngestError(path, f"not a readable OpenDocument text: {error}") from None
    blocks = _odt_blocks(document.text)
    return DecodedText("\n\n".join(b for b in blocks if b.strip()), "odt")


_ODT_CONTAINERS = {"text:section", "text:list-item", "text:list-header", "table:table-cell", "text:index-body",
                   "table:table-header-rows", "table:table-row-group"}


def _odt_blocks(element) -> list[str]:
    from odf import teletype

    blocks: list[str] = []
    for child in element.childNodes:
        tag = getattr(child, "tagName", "")
        if tag == "text:h":
            level = int(child.getAttribute("outlinelevel") or 1)
            blocks.append("#" * level + " " + teletype.extractText(child))
        elif tag == "text:p":
            blocks.append(teletype.extractText(child))
        elif tag == "text:list":
            for item in _odt_blocks_of_list(child):
                blocks.append(item if item.startswith(("- ", "#")) else "- " + item)
        elif tag == "table:table":
            for row in _odt_rows(child):
                cells = ["\n".join(b for b in _odt_blocks(cell) if b.strip())
                         for cell in row.childNodes if getattr(cell, "tagName", "") == "table:table-cell"]
                blocks.append(table_row(cells))
        elif tag in _ODT_CONTAINERS:
            blocks += _odt_blocks(child)
    return blocks


def _odt_blocks_of_list(element) -> list[str]:
    blocks: list[str] = []
    for item in element.childNodes:
        if getattr(item, "tagName", "") in ("text:list-item", "text:list-header"):
            blocks += _odt_blocks(item)
    return blocks


def _odt_rows(table) -> list:
    rows = []
    for child in table.childNodes:
        tag = getattr(child, "tagName", "")
        if tag == "table:table-row":
            rows.append(child)
        elif tag in ("table:table-header-rows", "table:table-rows", "table:table-row-group"):
            rows += _odt_rows(child)
    return rows


_TIMING = re.compile(r"^(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}\s*-->\s*(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}")
_VOICE_TAG = re.compile(r"<v(?:\.[\w.-]+)?(?:\s+([^>]*))?>|</v>")
_TAG = re.compile(r"</?[^>]+>")
_DASH = re.compile(r"^[-–—](?:[ \t]+|(?=[^\W\d_]))")
_PLAIN_NAME = re.compile(r"[A-ZÆØÅ0-9][\wÆØÅæøå .'’/()\-]{0,39}")


def read_subtitles(path: Path, max_bytes: int = MAX_BYTES) -> DecodedText:
    """Read .vtt or .srt cues into paragraphs ``[hh:mm:ss] Speaker: text``, one per speaker's line.

    A cue is cut where its speaker changes: every voice span of a vtt cue (``<v Kari>Hei</v> <v Ola>Hallo</v>``)
    is a paragraph with its own speaker (consecutive spans of one voice are one), and in a cue without voices
    every dash-prefixed line (``- Ja.`` / ``- Nei.``, the subtitle convention for a second speaker in one cue)
    starts a paragraph of its own, without the dash. Each paragraph carries the cue's start time. A cue without
    a voice gets no speaker here (the segmenter reads a ``Name:`` in its text as one). A speaker name that would
    not read back as a plain label (``Nordmann, Kari``) is written ``[Nordmann, Kari]:``. A cue number is not
    text, also when the blank line before the next cue is missing.
    """
    decoded = decode(_read_bytes(path, max_bytes), path)
    vtt = path.suffix.lower() == ".vtt"
    lines = decoded.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip().lstrip("\ufeff")
        i += 1
        if not _TIMING.match(line):
            continue
        start = _timestamp(line.split("-->")[0].strip())
        body = []
        while i < len(lines) and lines[i].strip() and not _TIMING.match(lines[i].strip()):
            body.append(lines[i].strip())
            i += 1
        if i < len(lines) and lines[i].strip() and body and body[-1].isdigit():
            body.pop()  # the next cue's number: its blank line is missing
        paragraphs += [f"[{start}] {_label(voice)}{text}" for voice, text in cue_lines(body, vtt)]
    if not paragraphs:
        raise IngestError(path, "no subtitle cues found (expected lines like 00:00:01.000 --> 00:00:04.000)")
    return DecodedText("\n\n".join(paragraphs), decoded.encoding)


def cue_lines(body: list[str], vtt: bool = True) -> list[tuple[str, str]]:
    """The ``(speaker, text)`` lines of one cue's text lines; speaker ``""`` when the cue names none.

    >>> cue_lines(["<v Kari>Hei</v> <v Ola>Hallo</v>"])
    [('Kari', 'Hei'), ('Ola', 'Hallo')]
    >>> cue_lines(["- Ja.", "- Nei."])
    [('', 'Ja.'), ('', 'Nei.')]
    """
    pieces: list[tuple[str, str]] = []
    voice, position, text = "", 0, "\n".join(body)
    for tag in _VOICE_TAG.finditer(text):
        pieces.append((voice, text[position : tag.start()]))
        voice = "" if tag.group(0) == "</v>" else (tag.group(1) or "").strip()
        position = tag.end()
    pieces.append((voice, text[position:]))
    out: list[tuple[str, str]] = []
    for voice, piece in pieces:
        piece = _TAG.sub("", piece)
        if vtt:
            piece = html.unescape(piece)
        piece_lines = [line.strip() for line in piece.split("\n") if line.strip()]
        if not piece_lines:
            continue
        if voice:  # the voice names the speaker of all its lines
            said = [(voice, " ".join(piece_lines))]
        else:
            said = []
            for line in piece_lines:
                dash = _DASH.match(line)
                if dash or not said:
                    said.append(("", line[dash.end() :] if dash else line))
                else:
                    said[-1] = ("", f"{said[-1][1]} {line}")
        for speaker, words in said:
            if out and speaker and out[-1][0] == speaker:
                out[-1] = (speaker, f"{out[-1][1]} {words}")
            elif words:
                out.append((speaker, words))
    return out


def _label(voice: str) -> str:
    if not voice:
        return ""
    if _PLAIN_NAME.fullmatch(voice):
        return f"{voice}: "
    return f"[{voice.replace('[', '(').replace(']', ')')[:40].strip()}]: "


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
