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


@dataclass
class Document:
    """A source document after ingestion.

    ``text`` is normalised once (NFC, LF, no BOM, front matter removed); every segment offset refers to it.
    ``name`` is the path relative to the corpus folder and identifies the document in all tables.
    """

    name: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"
    source: str = ""
    speakers: dict[str, Speaker] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def kommune(self) -> str:
        return str(self.metadata.get("kommune", "") or "")

    @property
    def kilde(self) -> str:
        return str(self.metadata.get("kilde", "") or "")

    @property
    def n_words(self) -> int:
        return len(self.text.split())
