"""Ingestion: read files of many formats into normalised :class:`Document` objects with metadata.

>>> from qualkit.ingest import read_corpus
>>> result = read_corpus("corpora/demo")      # doctest: +SKIP
>>> result.documents[0].metadata["kommune"]   # doctest: +SKIP
'Bergen'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import IngestError, KommuneError
from qualkit.ingest.document import Document, Excluded, OcrChange, Speaker
from qualkit.ingest.metadata import SIDECAR, read_sidecar, split_front_matter
from qualkit.ingest.normalise import DEFAULT_NORMALISERS, NORMALISERS, find_excluded, resolve
from qualkit.ingest.ocr import repair_ocr
from qualkit.ingest.readers import MAX_BYTES, READERS
from qualkit.ingest.text import normalise

__all__ = [
    "DEFAULT_NORMALISERS",
    "MAX_BYTES",
    "NORMALISERS",
    "SUPPORTED",
    "CorpusResult",
    "Document",
    "Excluded",
    "OcrChange",
    "Skipped",
    "Speaker",
    "apply_normalisers",
    "has_kommune_from_folder",
    "is_ignored",
    "kommune_from_folders",
    "read_corpus",
    "read_document",
]

SUPPORTED = tuple(READERS)
IGNORED_NAMES = {SIDECAR, "README.md", "gold.jsonl"}
JUNK_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}
JUNK_FOLDERS = {"__macosx"}
FOLDER_NAME = "mappenavn"
"""How ``kommune_fra`` starts when the kommune was taken from a folder name."""


@dataclass
class Skipped:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class CorpusResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def read_document(
    path: str | Path,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    require_kommune: bool = True,
    normalisers: str | Iterable[str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> Document:
    """Read one file into a :class:`Document` (text normalised once; front matter moved to metadata).

    ``metadata`` (e.g. from a sidecar ``metadata.csv``) fills fields the front matter does not set.
    ``normalisers`` chooses the structure normalisers (see :mod:`qualkit.ingest.normalise`; default: all but
    ``ocr``). ``max_bytes`` is the largest file accepted (default 50 MB).
    Raises :class:`IngestError` naming the file (and line) when the file cannot be used.
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        supported = ", ".join(SUPPORTED)
        raise IngestError(path, f"unsupported file type {path.suffix or '(none)'}; qualkit reads {supported}")
    if not path.exists():
        raise IngestError(path, "file not found")
    if path.stat().st_size == 0:
        raise IngestError(path, "empty file")
    enabled = resolve(normalisers)
    decoded = reader(path, max_bytes=max_bytes)
    text = normalise(decoded.text)
    front, body = split_front_matter(text, path)
    meta = {**(metadata or {}), **front}
    if "kommune" in front:  # the file's own kommune wins, and a note of where a supplied one came from goes
        meta.pop("kommune_fra", None)
    if not body.strip():
        raise IngestError(path, "no text (the file is empty apart from front matter)")
    if require_kommune:
        meta["kommune"], fylke = _normalised_kommune(meta, path)
        if fylke:
            meta["fylke"] = fylke
    elif meta.get("fylke"):
        meta["fylke"] = _normalised_fylke(meta["fylke"])
    document = Document(
        name=name or path.name,
        text=body,
        metadata=meta,
        encoding=decoded.encoding,
        source=str(path),
        speakers=_speakers(meta),
    )
    return apply_normalisers(document, enabled)


def apply_normalisers(document: Document, normalisers: str | Iterable[str] | None = None) -> Document:
    """Run the normalisers on a document (in place): OCR repair first (it rewrites the text, reporting each
    change), then the structure normalisers, which only record :class:`Excluded` ranges."""
    enabled = resolve(normalisers)
    document.normalisers = enabled
    if "ocr" in enabled:
        document.text, document.ocr_changes = repair_ocr(document.text)
        if document.ocr_changes:
            document.notes.append(f"ocr: {len(document.ocr_changes)} repairs (see Document.ocr_changes)")
    document.excluded = find_excluded(document.text, enabled)
    kinds = Counter(item.kind for item in document.excluded)
    for kind, n in sorted(kinds.items()):
        document.notes.append(f"{kind}: {n} range(s) kept out of the units")
    return document


def read_corpus(
    folder: str | Path,
    require_kommune: bool = True,
    normalisers: str | Iterable[str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> CorpusResult:
    """Read every supported file under ``folder`` (recursively), skipping and reporting unusable ones.

    ``normalisers`` and ``max_bytes`` are passed on to :func:`read_document`.
    """
    options = {"require_kommune": require_kommune, "normalisers": resolve(normalisers), "max_bytes": max_bytes}
    folder = Path(folder)
    if not folder.exists():
        raise IngestError(folder, "folder not found")
    if folder.is_file():
        return _read_files([folder], folder.parent, {}, options)
    sidecar = read_sidecar(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not is_ignored(p.relative_to(folder)))
    return _read_files(files, folder, sidecar, options)


def is_ignored(relative: Path) -> bool:
    """Whether a file (its path relative to the folder read) is left out of a corpus without a note.

    Hidden files and folders (``.git``, ``.ipynb_checkpoints``, ``.DS_Store``, macOS ``._`` files) hold
    copies and tool data, not documents: a Jupyter checkpoint would count a document twice. Word's lock
    files (``~$rapport.docx``), ``Thumbs.db``, ``desktop.ini`` and ``__MACOSX`` folders are junk that
    operating systems and zip tools leave behind. qualkit's own files (``metadata.csv``, ``README.md``,
    ``gold.jsonl``) are not documents either.
    """
    if any(part.startswith(".") or part.lower() in JUNK_FOLDERS for part in relative.parts[:-1]):
        return True
    name = relative.name
    return name in IGNORED_NAMES or name.startswith((".", "~$")) or name.lower() in JUNK_FILES


def _read_files(files: list[Path], root: Path, sidecar: dict, options: dict[str, Any]) -> CorpusResult:
    result = CorpusResult()
    for path in files:
        name = path.relative_to(root).as_posix()
        if path.suffix.lower() not in READERS:
            if path.suffix.lower() not in {".csv", ".jsonl", ".json", ".yaml", ".yml"}:
                result.skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'}"))
            continue
        try:
            meta = sidecar.get(name) or sidecar.get(path.name) or {}
            if options["require_kommune"] and not meta.get("kommune"):
                meta = {**meta, **kommune_from_folders(path, root)}
            result.documents.append(read_document(path, meta, name=name, **options))
        except (IngestError, KommuneError) as error:
            result.skipped.append(Skipped(str(path), str(error).removeprefix(f"{path}: ")))
        except OSError as error:
            result.skipped.append(Skipped(str(path), f"cannot read: {error.strerror or error}"))
    return result


def kommune_from_folders(path: Path, root: Path) -> dict[str, str]:
    """``{"kommune": name, "kommune_fra": "mappenavn <folder>"}`` when a folder between ``root`` (included)
    and the file is named after one kommune, else ``{}``.

    Material is often filed by kommune (``intervjuer/Volda/fokusgruppe.txt``). The nearest folder whose name
    the register resolves to exactly one kommune wins; names it cannot resolve ("intervjuer"), that stay
    ambiguous ("Herøy") or that contain digits ("2024", "5601": years and project numbers, not kommunenummer)
    are passed over. Front matter and ``metadata.csv`` take precedence over this.
    """
    try:
        from qualkit.kommune import kommune_register
    except ImportError:  # register not installed: no way to tell a kommune from any other folder name
        return {}
    register = kommune_register()
    folders = [path.parent, *path.parent.parents]
    for folder in folders[: len(path.relative_to(root).parts)]:
        if not folder.name or any(character.isdigit() for character in folder.name):
            continue
        kommune = register.get(folder.name)
        if kommune is not None:
            return {"kommune": kommune.navn, "kommune_fra": f"{FOLDER_NAME} {folder.name}"}
    return {}


def has_kommune_from_folder(document: Document) -> bool:
    """Whether the document's kommune was taken from a folder name (:func:`kommune_from_folders`)."""
    return str(document.metadata.get("kommune_fra", "")).startswith(FOLDER_NAME)


def _normalised_kommune(meta: dict[str, Any], path: Path) -> tuple[str, str]:
    """The kommune's register name and its 2024 fylke (``""`` when the register is not installed).

    The fylke comes from the register, so that one fylke is written one way: "akershus", "Viken" (for Bærum)
    and a missing fylke all become "Akershus". A fylke given in the metadata must agree with the kommune.
    """
    value = str(meta.get("kommune", "") or "").strip()
    if not value:
        raise IngestError(
            path, "no kommune in the metadata (front matter 'kommune:', metadata.csv, or a folder named after it)"
        )
    try:
        from qualkit.kommune import kommune_register
    except ImportError:  # register not installed: keep the values as written
        return value, ""
    try:
        fylke = str(meta.get("fylke") or "").strip() or None
        kommune = kommune_register().normalise(value, fylke=fylke)
    except KommuneError as error:
        raise IngestError(path, str(error)) from None
    return kommune.navn, kommune.fylke


def _normalised_fylke(value: object) -> object:
    try:
        from qualkit.kommune import normalise_fylke
    except ImportError:  # register not installed: keep the value as written
        return value
    return normalise_fylke(value)


def _speakers(meta: dict[str, Any]) -> dict[str, Speaker]:
    speakers: dict[str, Speaker] = {}
    for entry in meta.get("deltakere") or []:
        if isinstance(entry, dict) and entry.get("label"):
            label = str(entry["label"])
            role = str(entry.get("rolle", entry.get("role", "")) or "")
            attributes = {k: v for k, v in entry.items() if k not in {"label", "rolle", "role"}}
            speakers[label] = Speaker(label, role, attributes)
    return speakers
