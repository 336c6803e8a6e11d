"""Decode bytes and normalise text once: NFC, LF line ends, no BOM.

Every offset qualkit stores refers to the text this module returns, so nothing after ingestion may change it.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from qualkit.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode(data: bytes, path: object = "<bytes>") -> DecodedText:
    """Decode file content: a BOM wins, then strict UTF-8, then UTF-16 without BOM, then cp1252/latin-1.

    Binary content (NUL bytes in text that is not UTF-16) is refused with an :class:`IngestError`.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return DecodedText(_decode_or_fail(data, encoding, path), encoding)
    if _looks_like_utf16(data):
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return DecodedText(_decode_or_fail(data, encoding, path), encoding)
    if b"\x00" in data:
        raise IngestError(path, "binary file (contains NUL bytes), not text")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    guess = from_bytes(data).best()
    if guess is not None and guess.encoding in {"cp1252", "latin_1", "iso8859_15", "windows_1252"}:
        return DecodedText(str(guess), "cp1252" if "1252" in guess.encoding else guess.encoding)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise IngestError(
            path, f"undecodable bytes (not UTF-8, UTF-16 or cp1252) at byte {utf8_error.start}", line
        ) from None
    if _control_share(text) > 0.01:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise IngestError(path, f"undecodable bytes at byte {utf8_error.start}: not text in a known encoding", line)
    return DecodedText(text, "cp1252")


def normalise(text: str) -> str:
    """NFC, LF line ends, no BOM, no trailing whitespace at line ends is kept as is (offsets!)."""
    text = text.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _decode_or_fail(data: bytes, encoding: str, path: object) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise IngestError(path, f"undecodable bytes for {encoding} at byte {error.start}") from None


def _looks_like_utf16(data: bytes) -> bool:
    sample = data[:2000]
    if len(sample) < 4:
        return False
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    return max(even_nuls, odd_nuls) > 0.4 * half and min(even_nuls, odd_nuls) < 0.05 * half


def _control_share(text: str) -> float:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return controls / max(len(text), 1)
