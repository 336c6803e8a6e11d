"""The Document: normalised text plus metadata, the unit everything downstream refers to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Speaker:
    """A speaker of a transcript: the label used in the text and what metadata says about them."""

    label: str
    role: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Excluded:
    """A range of ``Document.text`` kept out of every coding unit (``kind``: toc, page_number, page_break, rule,
    running_header, references, participants, footnote). Ranges cover whole lines: ``start`` is a line start,
    ``end`` a line end."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class OcrChange:
    """One OCR repair: ``text[start:start + len(new)] == new`` in the stored text; ``old`` was there before."""

    start: int
    old: str
    new: str
    line: int


@dataclass
class Document:
    """A source document after ingestion.

    ``text`` is normalised once (NFC, LF, no BOM, front matter removed); every segment offset refers to it.
    ``excluded`` lists ranges (tables of contents, page numbers, footnotes, ...) that segmentation leaves out;
    ``ocr_changes`` the repairs made before the text was stored (only with the ``ocr`` normaliser).
    ``name`` is the path relative to the corpus folder and identifies the document in all tables.
    """

    name: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"
    source: str = ""
    speakers: dict[str, Speaker] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    ocr_changes: list[OcrChange] = field(default_factory=list)
    normalisers: frozenset[str] | None = None  # None: not run yet (segmentation then uses the default)

    @property
    def kommune(self) -> str:
        return str(self.metadata.get("kommune", "") or "")

    @property
    def kilde(self) -> str:
        return str(self.metadata.get("kilde", "") or "")

    @property
    def n_words(self) -> int:
        return len(self.text.split())
