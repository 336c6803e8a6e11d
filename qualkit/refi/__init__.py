"""Exchange projects with NVivo, ATLAS.ti, MAXQDA and QualCoder through REFI-QDA (``.qdpx``, ``.qdc``).

>>> from qualkit.refi import load_qdpx, write_qdpx, codings_to_labels       # doctest: +SKIP
>>> imported = load_qdpx("fra_nvivo.qdpx")                                  # doctest: +SKIP
>>> imported.issues            # what could not be imported as is (REFI-QDA §7)  # doctest: +SKIP
>>> codings_to_labels(imported).to_csv("labels.csv", index=False)          # doctest: +SKIP

See docs/refi.md for the conventions and the vendor quirks handled.
"""

from __future__ import annotations

from qualkit.errors import RefiError
from qualkit.refi.adapters import (
    codebook_from_refi,
    codings_table,
    codings_to_labels,
    from_documents,
    from_folder,
    from_project,
    merge_codebook,
    report_table,
    source_documents,
    to_project,
)
from qualkit.refi.export import codebook_xml, project_xml, write_qdc, write_qdpx
from qualkit.refi.importer import load_qdc, load_qde, load_qdpx
from qualkit.refi.model import ImportIssue, RefiProject, stable_guid
from qualkit.refi.safety import Limits

__all__ = [
    "ImportIssue",
    "Limits",
    "RefiError",
    "RefiProject",
    "codebook_from_refi",
    "codebook_xml",
    "codings_table",
    "codings_to_labels",
    "from_documents",
    "from_folder",
    "from_project",
    "load_qdc",
    "load_qde",
    "load_qdpx",
    "merge_codebook",
    "project_xml",
    "report_table",
    "source_documents",
    "stable_guid",
    "to_project",
    "write_qdc",
    "write_qdpx",
]
