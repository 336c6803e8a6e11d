"""Co-occurrence, profiles, quotes and the report files, checked against hand counts and by opening the files."""

import base64
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from qualkit.cooccurrence import (
    compare_profiles,
    cooccurrence,
    cooccurrence_segments,
    cooccurrence_tidy,
    jensen_shannon_distance,
    profile_distances,
)
from qualkit.report import add_line_numbers, line_number, quotes_table
from qualkit.report_build import build_report, people_tables, write_report

TEXTS = {
    "a.md": "D1: Vi mangler boliger.\nD2: Husleia er for høy for mange av dem vi følger opp i kommunen vår.\n"
    "D1: Og budsjettet strekker ikke til.\n",
    "b.md": "Intervjuer: Hva med bolig?\nI: Ventelista er lang,\nsærlig for små leiligheter.\n",
}


def _offsets(document, snippet):
    start = TEXTS[document].index(snippet)
    return start, start + len(snippet)


ROWS = [  # document, kommune, speaker, role, snippet, bolig, okonomi, bolig_score
    ("a.md", "Bergen", "D1", "NAV-veileder", "Vi mangler boliger.", 1, 0, 0.9),
    ("a.md", "Bergen", "D2", "boligkonsulent",
     "Husleia er for høy for mange av dem vi følger opp i kommunen vår.", 1, 1, 0.7),
    ("a.md", "Bergen", "D1", "NAV-veileder", "Og budsjettet strekker ikke til.", 0, 1, 0.1),
    ("b.md", "Askøy", "Intervjuer", "intervjuer", "Hva med bolig?", 0, 0, 0.4),
    ("b.md", "Askøy", "I", "beboer", "Ventelista er lang,\nsærlig for små leiligheter.", 1, 0, 0.8),
]
FIXTURE = pd.DataFrame(
    [
        {"document": d, "kommune": k, "speaker": s, "role": r, "text": t, "start": _offsets(d, t)[0],
         "end": _offsets(d, t)[1], "segment_id": f"s{i}", "bolig": b, "okonomi": o, "bolig_score": sc,
         "okonomi_score": float(o), "kilde": "fokusgruppe", "dato": "2025-01-01", "fylke": "Vestland"}
        for i, (d, k, s, r, t, b, o, sc) in enumerate(ROWS)
    ]
)
CODES = ["bolig", "okonomi"]
LABELS = {"bolig": "Bolig", "okonomi": "Økonomi"}


def test_cooccurrence_matrix_and_segments_behind_a_cell():
    matrix = cooccurrence(FIXTURE, CODES)
    assert matrix.loc["bolig", "bolig"] == 3 and matrix.loc["okonomi", "okonomi"] == 2
    assert matrix.loc["bolig", "okonomi"] == matrix.loc["okonomi", "bolig"] == 1
    assert cooccurrence_segments(FIXTURE, "bolig", "okonomi")["segment_id"].tolist() == ["s1"]
    pair = cooccurrence_tidy(FIXTURE, CODES, LABELS).iloc[0]
    assert pair["both"] == 1 and pair["jaccard"] == pytest.approx(1 / 4)
    assert pair["lift"] == pytest.approx(1 * 5 / (3 * 2)) and pair["segment_ids"] == ["s1"]
    assert cooccurrence(FIXTURE, CODES, LABELS).index.tolist() == ["Bolig", "Økonomi"]


def test_profiles_against_the_rest():
    table = compare_profiles(FIXTURE, CODES, LABELS).set_index(["kommune", "code"])
    row = table.loc[("Bergen", "okonomi")]
    # Bergen: okonomi in 2 of 3; the rest (Askøy): 0 of 2.
    assert row["share"] == pytest.approx(2 / 3) and row["share_rest"] == 0.0
    assert row["difference"] == pytest.approx(2 / 3)
    assert row["diff_low"] < row["difference"] < row["diff_high"]
    assert 0 < row["p_value"] < 1
    assert table.loc[("Askøy", "bolig"), "difference"] == pytest.approx(1 / 2 - 2 / 3)


def test_jensen_shannon_distance_and_most_different_kommune():
    assert jensen_shannon_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon_distance([2, 2], [1, 1]) == pytest.approx(0.0)
    distances = profile_distances(FIXTURE, CODES, LABELS)
    # Bergen codes: bolig 2, okonomi 2 -> (0.5, 0.5); Askøy: bolig 1 -> (1, 0).
    expected = jensen_shannon_distance([0.5, 0.5], [1.0, 0.0])
    assert distances["js_distance"].tolist() == pytest.approx([expected, expected])
    # Both themes differ by 0.5 in profile share; the first in codebook order is named.
    assert distances["most_different_code"].tolist() == ["bolig", "bolig"]
    assert distances.set_index("kommune").loc["Askøy", ["profile_share", "rest_profile_share"]].tolist() == [1.0, 0.5]


def test_line_numbers_from_offsets():
    assert line_number("a\nb\nc", 0) == 1 and line_number("a\nb\nc", 2) == 2 and line_number("a\nb\nc", 4) == 3
    lines = add_line_numbers(FIXTURE, TEXTS)
    assert lines["line"].tolist() == [1, 2, 3, 1, 2]
    assert lines["line_end"].tolist() == [1, 2, 3, 1, 3]
    assert add_line_numbers(FIXTURE, {})["line"].isna().all()


def test_quotes_by_score_with_speakers_varied_and_line_references():
    quotes = quotes_table(FIXTURE, CODES, LABELS, texts=TEXTS, n=2, min_chars=0)
    bergen = quotes[(quotes["kommune"] == "Bergen") & (quotes["code"] == "bolig")]
    assert bergen["speaker"].tolist() == ["D1", "D2"]  # 0.9 before 0.7
    first = bergen.iloc[0]
    assert first["line"] == 1 and first["citation"] == (
        "«Vi mangler boliger.» — D1 (NAV-veileder), a.md, linje 1 (Bergen)")
    askoy = quotes[(quotes["kommune"] == "Askøy") & (quotes["code"] == "bolig")].iloc[0]
    assert askoy["citation"].endswith("b.md, linje 2–3 (Askøy)")
    # Without texts the reference is the character range.
    plain = quotes_table(FIXTURE, ["okonomi"], n=1, min_chars=0).iloc[0]
    assert "tegn" in plain["citation"]


def test_quotes_vary_speakers_before_taking_a_second_quote_from_one():
    many = pd.concat([FIXTURE.iloc[[0]]] * 3 + [FIXTURE.iloc[[1]]], ignore_index=True)
    many["bolig_score"] = [0.99, 0.98, 0.97, 0.5]
    quotes = quotes_table(many, ["bolig"], n=2, min_chars=0)
    assert quotes["speaker"].tolist() == ["D1", "D2"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    built = build_report(FIXTURE, CODES, LABELS, texts=TEXTS, agreement={"measure": "alpha", "overall": 0.74},
                         min_segments=2, n_boot=100, title="Testrapport", coder_name="model:test")
    out = tmp_path_factory.mktemp("rapport")
    return built, write_report(built, out)


def test_report_tables_and_norwegian_sheets(report):
    built, _ = report
    assert set(built.tables) >= {"themes", "overview", "cooccurrence", "profiles", "distances", "quotes"}
    sheets = people_tables(built)
    themes = sheets["Tema per kommune"].set_index(["Kommune", "Tema"])
    assert themes.loc[("Bergen", "Bolig"), ["Segmenter", "Andel"]].tolist() == [2, pytest.approx(2 / 3)]
    assert themes.loc[("Askøy", "Økonomi"), "Få segmenter"] == "ja"
    about = sheets["Om tabellene"].set_index("Hva")["Verdi"]
    assert "0.74" in about["Samsvar"]


def test_xlsx_has_formatted_sheets(report):
    from openpyxl import load_workbook

    _, paths = report
    workbook = load_workbook(paths["xlsx"])
    expected = {"Tema per kommune", "Oversikt", "Samforekomst", "Profiler", "Avstand", "Sitater", "Om tabellene"}
    assert expected <= set(workbook.sheetnames)
    sheet = workbook["Tema per kommune"]
    assert sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=1, column=1).font.bold
    share = header.index("Andel") + 1
    assert sheet.cell(row=2, column=share).number_format == "0.0%"
    assert workbook["Profiler"].cell(row=2, column=[c.value for c in workbook["Profiler"][1]].index("Differanse") + 1
                                     ).number_format == "0.0%"
    assert sheet.column_dimensions["B"].width >= 8


def test_csv_files_read_back(report):
    built, paths = report
    themes = pd.read_csv(paths["csv:themes"])
    assert themes[["kommune", "code", "segments"]].values.tolist() == built.tables["themes"][
        ["kommune", "code", "segments"]].values.tolist()
    pairs = pd.read_csv(paths["csv:cooccurrence_pairs"])
    assert pairs.loc[0, "segment_ids"] == "s1"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.images, self.headings, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag in ("h1", "h2", "h3"):
            self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.headings.append(data)


def test_html_is_self_contained_with_tables_and_images(report):
    _, paths = report
    text = paths["html"].read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    assert parser.tags.count("table") >= 5
    assert len(parser.images) == 2 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert base64.b64decode(parser.images[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Sitater" in parser.headings and "Tema per kommune" in parser.headings
    assert "http://" not in text and "https://" not in text and "<link" not in text and "<script" not in text
    assert "«Vi mangler boliger.»" in text


def test_docx_has_headings_tables_figures_and_quotes(report):
    from docx import Document

    _, paths = report
    document = Document(str(paths["docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "Testrapport" and "Sitater" in headings and "Tema per kommune" in headings
    assert len(document.tables) >= 4
    assert document.tables[0].rows[0].cells[0].text == "Kommune"
    assert len(document.inline_shapes) == 2
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert any("linje 1" in q for q in quotes)


def test_markdown_report(report):
    _, paths = report
    text = paths["md"].read_text(encoding="utf-8")
    assert text.startswith("# Testrapport")
    assert "| Bergen | 3 | 2 (67%" in text
    assert "Krippendorffs α = 0.74" in text
    assert "> «Vi mangler boliger.» — D1 (NAV-veileder), a.md, linje 1 (Bergen)" in text


def test_said_about_table_when_attribution_present():
    about = FIXTURE.assign(attributed_kommune=["Bergen", "Askøy", "", "Askøy", "Askøy"])
    built = build_report(about, CODES, LABELS, n_boot=50, figures=False)
    table = built.tables["themes_about"].set_index(["kommune", "code"])
    assert table.loc[("Askøy", "bolig"), ["segments", "kommune_segments"]].tolist() == [2, 3]
    assert "Tema omtalt kommune" in people_tables(built)


def test_cli_report_from_csv(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli.report_cmd import app

    csv = tmp_path / "segments.csv"
    FIXTURE.to_csv(csv, index=False)
    codebook = tmp_path / "book.yaml"
    codebook.write_text(
        "name: test\nlabel: Test\nversion: '1'\ncodes:\n"
        "  - {name: bolig, label: Bolig, definition: x, keywords: [bolig]}\n"
        "  - {name: okonomi, label: Økonomi, definition: x, keywords: [budsjett]}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [str(csv), "--out", str(out), "--codebook", str(codebook),
                                      "--formats", "xlsx,md,html", "--exclude-role", "intervjuer"])
    assert result.exit_code == 0, result.output
    assert (out / "rapport.xlsx").exists() and (out / "rapport.html").exists() and not (out / "rapport.docx").exists()
    assert "4 segments" in result.output
    assert np.isfinite(pd.read_excel(out / "rapport.xlsx", sheet_name="Tema per kommune")["Andel"]).all()


def test_cli_report_from_project_file(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli.report_cmd import app
    from qualkit.code import KeywordCoder
    from qualkit.project.store import Project

    if not hasattr(Project, "coded_table"):
        pytest.skip("the project API has no coded_table yet")
    from conftest import TRANSCRIPT

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sola.md").write_text(TRANSCRIPT, encoding="utf-8")
    path = tmp_path / "p.qualkit"
    with Project.create(path) as project:
        project.add_documents(corpus)
        project.segment("turn")
        project.run_coder(KeywordCoder(project.codebook))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [str(path), "--out", str(out), "--formats", "md,csv"])
    assert result.exit_code == 0, result.output
    text = (out / "rapport.md").read_text(encoding="utf-8")
    assert "| Sola |" in text and "linje" in text


def test_report_from_several_coders_uses_consensus_and_compares_coders():
    anna = FIXTURE.assign(bolig=[1, 1, 0, 0, 1])
    bo = FIXTURE.assign(bolig=[1, 0, 0, 0, 1])
    cai = FIXTURE.assign(bolig=[0, 1, 1, 0, 0])
    from qualkit.aggregate import coded_tables

    tables = coded_tables({"anna": anna, "bo": bo, "cai": cai, "model": FIXTURE}, CODES)
    built = build_report(tables, CODES, LABELS, n_boot=50, figures=False)
    assert built.meta["coder"] == "consensus"
    themes = built.tables["themes"].set_index(["kommune", "code"])
    assert themes.loc[("Bergen", "bolig"), "segments"] == 2  # majority: [1, 1, 0] in Bergen
    assert themes.loc[("Askøy", "bolig"), "segments"] == 1
    sheet = people_tables(built)["Tema per koder"].set_index(["Koder", "Kommune", "Tema"])
    assert sheet.loc[("cai", "Bergen", "Bolig"), "Segmenter"] == 2
    assert sheet.loc[("bo", "Bergen", "Bolig"), "Segmenter"] == 1


def test_cli_report_names_the_file_when_it_is_missing_or_not_a_segment_table(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli.report_cmd import app

    missing = CliRunner().invoke(app, [str(tmp_path / "finnes_ikke.csv"), "--out", str(tmp_path / "out")])
    assert missing.exit_code == 2 and "finnes_ikke.csv: no such segment table" in missing.output
    other = tmp_path / "annet.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(app, [str(other), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "annet.csv: not a coded segment table" in result.output and "document, kommune, text" in result.output
    assert not (tmp_path / "out").exists()
