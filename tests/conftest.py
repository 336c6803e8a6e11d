"""Shared fixtures. Material in ../shared is read in place, never copied; tests that need it skip without it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEMO = REPO / "corpora" / "demo"
DEFAULT_CODEBOOK = REPO / "codebooks" / "boligsosialt.yaml"

needs_shared = pytest.mark.skipif(
    not (SHARED / "data").exists(), reason=f"needs the shared material at {SHARED} (present in CI)"
)


@pytest.fixture(scope="session")
def codebook():
    from qualkit.codebook import load_codebook

    return load_codebook(DEFAULT_CODEBOOK)


@pytest.fixture(scope="session")
def demo_corpus():
    from qualkit.ingest import read_corpus

    return read_corpus(DEMO)


@pytest.fixture(scope="session")
def demo_project_template(tmp_path_factory) -> Path:
    """A segmented project of the demo corpus, built once; tests that change a project copy it first."""
    from qualkit.project import Project

    path = tmp_path_factory.mktemp("template") / "demo.qualkit"
    with Project.create(path) as project:
        project.add_documents(DEMO)
        project.segment("turn")
    return path


TRANSCRIPT = """---
kommune: Sola
fylke: Rogaland
kilde: fokusgruppe
dato: 2025-02-03
syntetisk: true
deltakere:
  - {label: Moderator, rolle: moderator}
  - {label: D1, rolle: NAV-veileder}
  - {label: D2, rolle: boligkonsulent}
---
# Innledning

Moderator: Velkommen, alle sammen. Vi starter med en runde rundt bordet.

D1: Jeg jobber på NAV og følger opp unge som står uten bolig.

D2: Vi har for få kommunale utleieboliger, og ventelistene blir lengre.
Det gjelder særlig små leiligheter.

Og så må jeg si at husleien er for høy for mange.

# Økonomi

Moderator: Hva med budsjettet?

D1: Kommunen har ikke midler til flere stillinger.
"""


@pytest.fixture
def transcript_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "korpus"
    folder.mkdir()
    (folder / "sola_fokusgruppe.md").write_text(TRANSCRIPT, encoding="utf-8")
    return folder
