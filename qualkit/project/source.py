"""One entry point for the CLI and notebooks: a segment table and codebook from a project file *or* a folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from qualkit.codebook import Codebook, load_codebook
from qualkit.errors import ProjectError
from qualkit.project.schema import is_project_file


@dataclass
class LoadedSource:
    """What :func:`load_segments` found: the segment table, the codebook, and where they came from."""

    segments: pd.DataFrame
    codebook: Codebook
    kind: str  # "project" or "folder"
    path: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)


def load_segments(source: str | Path, unit: str | None = None, codebook: Codebook | str | Path | None = None,
                  nlp=None) -> LoadedSource:
    """The segment table and codebook of ``source``.

    - a project file: its stored segments of ``unit`` (default: the project's first unit; segmented now if the
      project has none of that unit yet) and its current codebook (unless ``codebook`` is given);
    - a folder (or single document): ingested and segmented with ``unit`` (default ``turn``) and ``codebook``
      (default: qualkit's).
    """
    path = Path(source)
    if not path.exists():
        raise ProjectError(f"{path}: no such project file or folder")
    if is_project_file(path):
        from qualkit.project.store import Project

        with Project.open(path) as project:
            unit = unit or project.default_unit
            segments = project.segments(unit)
            if segments.empty:
                segments = project.segment(unit, nlp=nlp)
            book = project.codebook if codebook is None else _codebook(codebook)
        return LoadedSource(segments, book, "project", path)
    from qualkit.ingest import read_corpus
    from qualkit.segment import segment_documents

    corpus = read_corpus(path)
    segments = segment_documents(corpus.documents, unit=unit or "turn", nlp=nlp)
    return LoadedSource(segments, _codebook(codebook), "folder", path, [(s.path, s.reason) for s in corpus.skipped])


def _codebook(codebook: Codebook | str | Path | None) -> Codebook:
    return codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
