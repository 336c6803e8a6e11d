"""The CLI end to end: `qualkit run` and `qualkit code` on a small corpus, and their failure modes."""

import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from qualkit.cli import app
from qualkit.ingest import read_corpus

from conftest import DEFAULT_CODEBOOK

runner = CliRunner()


def test_run_writes_every_output(transcript_folder: Path, tmp_path: Path):
    (transcript_folder / "tom.txt").write_bytes(b"")
    out = tmp_path / "ut"
    result = runner.invoke(app, ["run", str(transcript_folder), "--codebook", str(DEFAULT_CODEBOOK), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "tom.txt" in result.output and "empty file" in result.output
    for name in ["segments.csv", "themes_by_kommune.csv", "themes_by_kommune.xlsx", "themes_by_kommune.png",
                 "summary.md"]:
        assert (out / name).stat().st_size > 0, name
    segments = pd.read_csv(out / "segments.csv", keep_default_na=False)
    text = read_corpus(transcript_folder).documents[0].text
    for row in segments.itertuples():
        assert text[row.start : row.end] == row.text
    assert segments["speaker"].tolist() == ["Moderator", "D1", "D2", "Moderator", "D1"]
    assert segments.loc[2, "bolig"] == 1 and segments.loc[4, "okonomi"] == 1
    themes = pd.read_csv(out / "themes_by_kommune.csv")
    assert themes.set_index("code").loc["bolig", "segments"] == segments["bolig"].sum()
    workbook = load_workbook(out / "themes_by_kommune.xlsx")
    assert workbook.sheetnames == ["Tema per kommune", "Tidy"]
    assert workbook["Tema per kommune"].freeze_panes == "B2"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| Sola |" in summary and "### Bolig og botilbud" in summary and "tom.txt" in summary


def test_code_writes_the_segment_table_for_each_unit(transcript_folder: Path, tmp_path: Path):
    for unit in ["turn", "paragraph", "sentence"]:
        out = tmp_path / f"{unit}.csv"
        result = runner.invoke(app, ["code", str(transcript_folder), "--unit", unit, "--out", str(out)])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out, keep_default_na=False)
        assert list(table.columns[:7]) == ["document", "kommune", "segment_id", "start", "end", "speaker", "text"]
        for code in ["bolig", "tjenester", "organisering", "okonomi", "brukermedvirkning"]:
            assert set(table[code]) <= {0, 1}
            assert table[f"{code}_score"].between(0, 1).all()
    lengths = {unit: len(pd.read_csv(tmp_path / f"{unit}.csv")) for unit in ["turn", "paragraph", "sentence"]}
    assert lengths["turn"] < lengths["paragraph"] < lengths["sentence"]


def test_exit_status_is_non_zero_only_when_nothing_could_be_processed(tmp_path: Path):
    folder = tmp_path / "tomt"
    folder.mkdir()
    (folder / "a.txt").write_text("Tekst uten kommune.", encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder), "--out", str(tmp_path / "ut")])
    assert result.exit_code == 1
    assert "no kommune" in result.output and "no document could be processed" in result.output


def test_kommune_from_folder_names_is_used_and_said(tmp_path: Path):
    folder = tmp_path / "materiale" / "Volda"
    folder.mkdir(parents=True)
    (folder / "intervju.txt").write_text("Vi manglar kommunale bustader, og ventelista er lang.\n", encoding="utf-8")
    out = tmp_path / "segments.csv"
    result = runner.invoke(app, ["code", str(tmp_path / "materiale"), "--coder", "keywords", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kommune taken from the folder name" in result.output and "Volda (1)" in result.output
    assert pd.read_csv(out)["kommune"].tolist() == ["Volda"]
    created = ["project", "create", str(tmp_path / "p.qualkit"), "--from", str(tmp_path / "materiale")]
    project = runner.invoke(app, created)
    assert project.exit_code == 0, project.output
    assert "note: kommune Volda taken from the folder name (1 document)" in project.output


def test_bad_codebook_is_reported_with_file_and_line(transcript_folder: Path, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlabel: X\ncodes:\n  - name: bolig\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(transcript_folder), "--codebook", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.yaml, line 4, field codes[0].label: Field required" in result.output


def test_run_and_code_accept_a_project_and_store_the_coders_codings(transcript_folder: Path, tmp_path: Path):
    from qualkit.project import Project

    path = tmp_path / "studie.qualkit"
    with Project.create(path) as project:
        project.add_documents(transcript_folder)
        project.segment("turn")
    result = runner.invoke(app, ["run", str(path), "--coder", "keywords", "--out", str(tmp_path / "ut")])
    assert result.exit_code == 0, result.output
    segments = pd.read_csv(tmp_path / "ut" / "segments.csv", keep_default_na=False)
    assert segments["speaker"].tolist() == ["Moderator", "D1", "D2", "Moderator", "D1"]
    with Project.open(path) as project:
        stored = project.coded_table("keywords:boligsosialt@1.0")
    assert stored.set_index("segment_id")["bolig"].to_dict() == segments.set_index("segment_id")["bolig"].to_dict()
    out = tmp_path / "seg.csv"
    assert runner.invoke(app, ["code", str(path), "--out", str(out)]).exit_code == 0
    assert len(pd.read_csv(out)) == 5


def test_project_create_and_agreement_from_the_command_line(transcript_folder: Path, tmp_path: Path):
    from qualkit.project import Project

    path = tmp_path / "p.qualkit"
    result = runner.invoke(app, ["project", "create", str(path), "--from", str(transcript_folder)])
    assert result.exit_code == 0, result.output
    assert "1 documents, 5 turn segments" in result.output
    with Project.open(path) as project:
        ids = project.segments()["segment_id"].tolist()
        for sid in ids:
            project.code(sid, "bolig", coder="A")
            project.code(sid, "bolig", coder="B") if sid != ids[0] else project.uncode(sid, "bolig", coder="B")
    out = tmp_path / "uenighet.csv"
    result = runner.invoke(app, ["project", "agreement", str(path), "--coder", "A", "--coder", "B",
                                 "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 disagreements" in result.output
    tjenester = next(line for line in result.output.splitlines() if "tjenester" in line and "│" in line)
    assert "–" in tjenester and "nan" not in result.output  # nobody coded tjenester: κ and α are undefined
    assert "note:" in result.output
    assert pd.read_csv(out)["code"].tolist() == ["bolig"]
    again = runner.invoke(app, ["project", "create", str(path), "--from", str(transcript_folder)])
    assert again.exit_code == 2 and "exists" in again.output


def test_a_failed_run_leaves_the_previous_outputs_as_they_were(transcript_folder: Path, tmp_path: Path):
    out = tmp_path / "ut"
    first = runner.invoke(app, ["run", str(transcript_folder), "--coder", "keywords", "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "themes_by_kommune.png").unlink()
    (out / "themes_by_kommune.png").mkdir()  # something in the way of one output file
    (transcript_folder / "ekstra.txt").write_text("---\nkommune: Alta\n---\nD1: Vi mangler boliger.\n",
                                                  encoding="utf-8")
    second = runner.invoke(app, ["run", str(transcript_folder), "--coder", "keywords", "--out", str(out)])
    assert second.exit_code == 2 and "is a folder" in second.output
    for name in ["segments.csv", "themes_by_kommune.csv", "themes_by_kommune.xlsx", "summary.md"]:
        assert (out / name).read_bytes() == before[name], name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_contradictory_or_impossible_options_are_refused_with_a_message(transcript_folder: Path, tmp_path: Path):
    labels = tmp_path / "labels.csv"
    labels.write_text("text,codes\nVi mangler boliger.,bolig\n", encoding="utf-8")
    cases = [
        (["code", str(transcript_folder), "--out", str(tmp_path)], "is a folder; give a file name"),
        (["code", str(transcript_folder), "--coder", "keywords", "--train", str(labels), "--out",
          str(tmp_path / "x.csv")], "leave out --coder keywords"),
        (["code", str(transcript_folder), "--train", str(labels), "--model", str(labels), "--out",
          str(tmp_path / "x.csv")], "not both"),
        (["run", str(transcript_folder), "--out", str(labels)], "is a file, not a folder"),
        (["suggest", str(transcript_folder), "-n", "0", "--out", str(tmp_path / "x.csv")],
         "greater than or equal to 1"),
    ]
    for arguments, message in cases:
        result = runner.invoke(app, arguments)
        assert result.exit_code == 2, (arguments, result.output)
        flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())  # rich may wrap inside a box
        assert message in flat, (arguments, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


def _many_codes(n: int) -> str:
    """A codebook of ``n`` codes whose keywords are words of TRANSCRIPT-like text (some codes never occur)."""
    words = ["bolig", "leilighet", "midler", "stilling", "kommune", "venteliste", "oppfølging", "nav"]
    codes = [f"  - name: tema_{i:02d}\n    label: Tema {i}\n    definition: Tema nummer {i}.\n"
             f"    keywords: [{words[i % len(words)]}*]\n" for i in range(n)]
    return "name: mange\nlabel: Mange tema\ncodes:\n" + "".join(codes)


@pytest.mark.filterwarnings("error::pandas.errors.PerformanceWarning")
def test_a_codebook_of_sixty_codes_gives_a_readable_summary_and_no_pandas_warnings(transcript_folder: Path,
                                                                                   tmp_path: Path):
    """Finding F7: 41 PerformanceWarnings (the wide theme table was built a column at a time) and a terminal
    table squeezed into empty columns."""
    codebook = tmp_path / "mange.yaml"
    codebook.write_text(_many_codes(60), encoding="utf-8")
    out = tmp_path / "ut"
    result = runner.invoke(app, ["run", str(transcript_folder), "--codebook", str(codebook), "--coder", "keywords",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
            if line.count("│") == 3}
    assert rows["(segments)"] == "5" and rows["tema_00"] == "1"  # themes down, the kommune across
    assert len([name for name in rows if name.startswith("tema_")]) == 25
    assert f"the 25 most frequent of 60 themes; every theme is in {out / 'themes_by_kommune.csv'}" in " ".join(
        result.output.split())
    workbook = load_workbook(out / "themes_by_kommune.xlsx")
    assert workbook["Tema per kommune"].max_column == 2 + 2 * 60


def test_the_summary_lists_each_kommunes_top_themes_when_no_table_fits(monkeypatch):
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from qualkit.aggregate import themes_by_kommune
    from qualkit.cli import main

    codes = [f"tema_med_eit_langt_namn_{i:02d}" for i in range(12)]
    segments = pd.DataFrame({"document": ["a.txt"] * 3 + ["b.txt"] * 3, "speaker": "D1",
                             "kommune": ["Nord-Aurdal"] * 3 + ["Sør-Aurdal"] * 3,
                             **{code: [int(i % 3 == j % 3) for j in range(6)] for i, code in enumerate(codes)}})
    table = themes_by_kommune(segments, codes)
    stream = io.StringIO()
    monkeypatch.setattr(main, "console", Console(file=stream, width=40))
    main._print_theme_table(SimpleNamespace(table=table, segments=segments, skipped=[], coder_name="test",
                                            outputs={}))
    text = stream.getvalue()
    assert "the 5 most frequent themes per kommune" in text and "┃" not in text
    assert "Nord-Aurdal (3 segments): tema_med_eit_langt_namn_00 1" in " ".join(text.split())


def test_solver_convergence_warnings_are_not_shown_by_the_commands(monkeypatch, tmp_path, recwarn):
    """Finding F7: training printed scikit-learn's 'lbfgs failed to converge' warnings the user cannot act on."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    import qualkit.classify
    import qualkit.coders

    def train(codebook, segments, labels):
        warnings.warn("lbfgs failed to converge after 100 iteration(s) (status=1)", ConvergenceWarning, stacklevel=1)
        warnings.warn("a warning the user should see", UserWarning, stacklevel=1)
        return object(), ["trained"]

    monkeypatch.setattr(qualkit.coders, "train_from_labels", train)
    monkeypatch.setattr(qualkit.classify, "save_model", lambda model, path: None)
    monkeypatch.setattr(qualkit.classify, "weak_evidence_message", lambda model: None)
    labels = tmp_path / "labels.csv"
    labels.write_text("text,codes\nVi mangler boliger.,bolig\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(labels), "--out", str(tmp_path / "m.joblib")])
    assert result.exit_code == 0, result.output
    shown = [str(w.message) for w in recwarn]
    assert "a warning the user should see" in shown
    assert not [message for message in shown if "converge" in message]
