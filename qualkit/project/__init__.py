"""qualkit projects: one SQLite file that keeps documents, segments, codebook versions, coders and every coding.

>>> from qualkit.project import Project
>>> project = Project.create("studie.qualkit")      # doctest: +SKIP
"""

from __future__ import annotations

from qualkit.errors import ProjectError
from qualkit.project.exchange import ImportReport, export_coder, import_coder
from qualkit.project.reliability import Agreement, agreement
from qualkit.project.schema import MIGRATIONS, SCHEMA_VERSION, is_project_file
from qualkit.project.source import LoadedSource, load_segments
from qualkit.project.store import Project, coder_kind, text_hash

__all__ = [
    "Agreement",
    "ImportReport",
    "LoadedSource",
    "MIGRATIONS",
    "Project",
    "ProjectError",
    "SCHEMA_VERSION",
    "agreement",
    "coder_kind",
    "export_coder",
    "import_coder",
    "is_project_file",
    "load_segments",
    "text_hash",
]
