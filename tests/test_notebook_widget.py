"""The coding widget without a browser: its methods, its real ipywidgets, and the displaCy rendering."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qualkit.errors import ProjectError
from qualkit.notebook import CodingView, coded_doc, render_document
from qualkit.project import Project

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "corpora" / "demo"
DOCUMENT = "alta_intervju.md"


@pytest.fixture
def project(demo_project_template: Path, tmp_path: Path):
    path = tmp_path / "widget.qualkit"
    shutil.copy(demo_project_template, path)
    with Project.open(path) as opened:
        yield opened


def test_toggle_saves_at_once_and_next_records_the_decision(project: Project):
    view = CodingView(project, "A", documents=[DOCUMENT])
    state = view.state
    assert state["position"] == 0 and state["document"] == DOCUMENT and state["kommune"] == "Alta"
    assert state["applied"] == [] and not state["reviewed"]
    first = state["segment_id"]
    assert view.toggle("bolig") is True
    assert project.decisions(first, "A") == {"bolig": 1}  # in the file already, before any Save
    view.toggle("okonomi")
    view.toggle("okonomi")
    assert project.decisions(first, "A") == {"bolig": 1, "okonomi": 0}
    assert view.next() is True
    assert view.state["position"] == 1
    assert project.decisions(first, "A") == {"bolig": 1, "tjenester": 0, "organisering": 0, "okonomi": 0,
                                              "brukermedvirkning": 0}
    view.previous()
    assert view.state["applied"] == ["bolig"] and view.state["reviewed"]


def test_a_new_view_resumes_at_the_first_unreviewed_segment(project: Project):
    view = CodingView(project, "A", documents=[DOCUMENT])
    view.next()
    view.next()
    again = CodingView(project, "A", documents=[DOCUMENT])
    assert again.state["position"] == 2
    other = CodingView(project, "B", documents=[DOCUMENT])
    assert other.state["position"] == 0


def test_keyboard_commands(project: Project):
    view = CodingView(project, "A", documents=[DOCUMENT])
    first = view.state["segment_id"]
    view.command("13n")
    assert project.decisions(first, "A")["bolig"] == 1 and project.decisions(first, "A")["organisering"] == 1
    assert view.state["position"] == 1
    view.command("2")
    view.command("u")  # undo the toggle of code 2
    assert view.state["applied"] == []
    view.command("p")
    assert view.state["segment_id"] == first
    view.command("x")
    assert "Ukjent tast: x" in view.state["message"]


def test_last_segment_and_go_to(project: Project):
    view = CodingView(project, "A", documents=[DOCUMENT])
    total = view.state["total"]
    view.go_to(total - 1)
    assert view.next() is False and view.state["position"] == total - 1
    view.go_to(view.segments.iloc[3]["segment_id"])
    assert view.state["position"] == 3
    with pytest.raises(IndexError):
        view.go_to(total)
    with pytest.raises(ProjectError):
        view.go_to("no-such-segment")


def test_suggestions_from_stored_model_codings_and_from_a_suggester(project: Project, codebook):
    from qualkit.code import KeywordCoder

    keywords = KeywordCoder(codebook)
    project.run_coder(keywords)
    view = CodingView(project, "A", documents=[DOCUMENT])
    coded = project.coded_table(keywords.name, documents=[DOCUMENT]).set_index("segment_id")
    hit = coded.index[coded["okonomi"] == 1][0]
    view.go_to(hit)
    assert view.state["suggestions"]["okonomi"] == pytest.approx(coded.at[hit, "okonomi_score"])
    custom = CodingView(project, "A", documents=[DOCUMENT], suggester=lambda row: {"bolig": 0.9, "x": 1.0})
    assert custom.state["suggestions"] == {"bolig": 0.9}


def test_the_widgets_drive_the_same_logic(project: Project):
    import ipywidgets as w

    view = CodingView(project, "A", documents=[DOCUMENT])
    box = view.widget
    assert isinstance(box, w.VBox)
    buttons = view._widgets["buttons"]
    labels = project.codebook.labels
    assert [b.description for b in buttons.values()] == [
        f"{i} {labels[code]}" for i, code in enumerate(project.codebook.code_names, start=1)
    ]
    assert buttons["okonomi"].description == "4 Økonomi og finansiering"
    first = view.state["segment_id"]
    buttons["bolig"].value = True  # what a click does
    assert project.decisions(first, "A") == {"bolig": 1}
    assert buttons["bolig"].button_style == "success"
    view._widgets["keys"].value = "4"  # typing 4 + Enter in the Tast field
    assert project.decisions(first, "A")["okonomi"] == 1
    assert view._widgets["keys"].value == ""
    view._widgets["next"].click()
    assert view.state["position"] == 1
    assert buttons["bolig"].value is False  # the buttons show the new segment
    assert "Alta" in view._widgets["header"].value
    assert view._widgets["previous"].disabled is False
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_render_document_highlights_codings(project: Project):
    segments = project.segments(documents=[DOCUMENT])
    row = segments.iloc[4]
    project.code(row["segment_id"], "bolig", "A")
    project.code_span(DOCUMENT, int(row["start"]) + 1, int(row["start"]) + 9, "okonomi", "A")  # mid-word: expanded
    project.code(segments.iloc[5]["segment_id"], "tjenester", "B")
    doc = coded_doc(project, DOCUMENT, coder="A")
    labels = sorted(span.label_ for span in doc.spans["qualkit"])
    assert labels == sorted([project.codebook.labels["bolig"], project.codebook.labels["okonomi"]])
    bolig = next(s for s in doc.spans["qualkit"] if s.label_ == project.codebook.labels["bolig"])
    assert bolig.start_char == row["start"] and bolig.end_char == row["end"]
    html = render_document(project, DOCUMENT, coder="A", jupyter=False)
    assert "span" in html and project.codebook.labels["okonomi"] in html
    both = coded_doc(project, DOCUMENT)
    assert any(span.label_.endswith("(B)") for span in both.spans["qualkit"])
