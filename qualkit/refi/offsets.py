"""Map vendor offsets to offsets in qualkit's normalised text (NFC, LF, no BOM).

REFI-QDA positions are codepoints in the source's plain text *as the vendor stored it*: with CRLF line ends a
line break counts two, a leading BOM may count one, decomposed ``å`` (``a`` + ring) counts two. Some tools count
UTF-16 code units instead (an emoji counts two). :func:`offset_map` returns the normalised text and, per
convention, a table from vendor offset to normalised offset.

Conventions: ``raw`` (codepoints of the text as stored), ``lf`` (codepoints of the LF text), ``utf16`` (UTF-16
code units of the text as stored); for a file that had a BOM each also with ``+bom``: the tool counted the BOM
(U+FEFF) as the first character, so every position is one more (a tool that reads the file as plain ``utf-8``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from qualkit.ingest.text import normalise


@dataclass
class OffsetMap:
    text: str  # normalised
    raw: list[int]  # raw codepoint offset → normalised offset (len(raw_text) + 1 entries)
    utf16: list[int] | None  # raw UTF-16 code unit offset → normalised offset, when that differs from ``raw``
    bom: bool = False  # the file had a byte order mark (not part of ``raw``), which a tool may have counted

    def convert(self, position: int, convention: str) -> int | None:
        """Normalised offset for a vendor ``position`` under ``convention`` (raw, lf, utf16, each optionally with
        ``+bom``); None if outside."""
        convention, _, bom = convention.partition("+")
        if bom:  # position 0 is before the BOM, 1 after it: both are the start of the text
            position = position - 1 if position > 0 else 0
        if convention == "lf":
            return position if 0 <= position <= len(self.text) else None
        table = self.utf16 if convention == "utf16" and self.utf16 is not None else self.raw
        return table[position] if 0 <= position < len(table) else None

    @property
    def conventions(self) -> list[str]:
        """Conventions that give different results for this text (``raw`` first: the spec's reading)."""
        out = ["raw"]
        if self.raw != list(range(len(self.text) + 1)):
            out.append("lf")
        if self.utf16 is not None:
            out.append("utf16")
        return out + [f"{convention}+bom" for convention in out] if self.bom else out


def offset_map(raw: str, bom: bool = False) -> OffsetMap:
    """The normalised text of ``raw`` (a source's text as decoded) and its position tables. ``bom``: the file
    started with a byte order mark that decoding removed; the ``+bom`` conventions count it."""
    lf_chars: list[str] = []
    to_lf = [0] * (len(raw) + 1)
    i = 0
    while i < len(raw):
        ch = raw[i]
        to_lf[i] = len(lf_chars)
        if ch == "\ufeff" and i == 0:
            i += 1
            continue
        if ch == "\r":
            if i + 1 < len(raw) and raw[i + 1] == "\n":
                to_lf[i + 1] = len(lf_chars)
                i += 1
            lf_chars.append("\n")
        else:
            lf_chars.append(ch)
        i += 1
    to_lf[len(raw)] = len(lf_chars)
    lf = "".join(lf_chars)
    text, to_nfc = _nfc_map(lf)
    table = [to_nfc[p] for p in to_lf]
    utf16 = None
    if any(ord(ch) > 0xFFFF for ch in raw):
        utf16 = []
        for index, ch in enumerate(raw):
            utf16.append(table[index])
            if ord(ch) > 0xFFFF:
                utf16.append(table[index + 1])  # the low surrogate: a position inside the character
        utf16.append(table[len(raw)])
    return OffsetMap(text, table, utf16, bom)


def _nfc_map(lf: str) -> tuple[str, list[int]]:
    """NFC per cluster (a starter and its combining marks), keeping a position map."""
    full = normalise(lf)
    if full == lf:
        return lf, list(range(len(lf) + 1))
    pieces: list[str] = []
    table = [0] * (len(lf) + 1)
    out = 0
    start = 0
    for end in range(1, len(lf) + 1):
        if end == len(lf) or unicodedata.combining(lf[end]) == 0:
            piece = unicodedata.normalize("NFC", lf[start:end])
            for k in range(start, end):
                table[k] = out + min(k - start, len(piece))
            pieces.append(piece)
            out += len(piece)
            start = end
    table[len(lf)] = out
    if "".join(pieces) != full:  # composition across clusters (rare, e.g. Hangul jamo): keep text right
        scale = len(full) / max(len(lf), 1)
        return full, [min(round(k * scale), len(full)) for k in range(len(lf) + 1)]
    return full, table
