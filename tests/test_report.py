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
                         min_segments=2, title="Testrapport", coder_name="model:test")
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
    built = build_report(about, CODES, LABELS, figures=False)
    table = built.tables["themes_about"].set_index(["kommune", "code"])
    assert table.loc[("Askøy", "bolig"), ["segments", "kommune_segments"]].tolist() == [2, 3]
    assert "Tema omtalt kommune" in people_tables(built)


def test_cli_report_from_csv(tmp_path):
    out = tmp_path / "out"
    result = _cli(tmp_path, FIXTURE, "--formats", "xlsx,md,html", "--exclude-role", "intervjuer")
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
    built = build_report(tables, CODES, LABELS, figures=False)
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


def _docx_text(path):
    from docx import Document

    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def test_every_report_names_the_interval_method_it_used(report, tmp_path):
    # The fixture has one document per kommune: every interval is Wilson over segments, none uses documents.
    built, paths = report
    assert set(built.tables["themes"]["interval"]) == {"wilson"}
    for text in (paths["md"].read_text(encoding="utf-8"), paths["html"].read_text(encoding="utf-8"),
                 _docx_text(paths["docx"])):
        assert "Wilson-intervall over segmentene" in text
        assert "bootstrap" not in text and "Korn" not in text
    # Three documents in Bergen: Korn–Graubard there, Wilson in Askøy, and both are named.
    three = pd.concat([FIXTURE.assign(document=FIXTURE["document"] + str(i)) for i in range(3)], ignore_index=True)
    three = pd.concat([three[three["kommune"] == "Bergen"], FIXTURE[FIXTURE["kommune"] == "Askøy"]])
    mixed = build_report(three, CODES, LABELS, figures=False, coder_name="model:test")
    paths = write_report(mixed, tmp_path, ["md", "docx"])
    for text in (paths["md"].read_text(encoding="utf-8"), _docx_text(paths["docx"])):
        assert "Korn og Graubard" in text and "Wilson-intervall over segmentene" in text


def test_keyword_scores_are_not_shown_as_model_probabilities(tmp_path):
    hits = np.array([[1, 0], [2, 1], [0, 1], [0, 0], [1, 0]])
    keyword = FIXTURE.assign(bolig_score=hits[:, 0] / (hits[:, 0] + 1), okonomi_score=hits[:, 1] / (hits[:, 1] + 1))
    for table, coder in ((keyword, ""), (keyword, "keywords:test@1"), (FIXTURE, "keywords:test@1")):
        built = build_report(table, CODES, LABELS, figures=False, coder_name=coder)
        themes = built.tables["themes"]
        assert not {"expected_share", "score_low", "score_high"} & set(themes.columns)
        assert not any("(modell)" in c for c in people_tables(built)["Tema per kommune"].columns)
        text = write_report(built, tmp_path, ["md"])["md"].read_text(encoding="utf-8")
        assert "nøkkelordkoderen" in text and "bygger bare på antallene" in text
    model = build_report(FIXTURE, CODES, LABELS, figures=False, coder_name="model:test").tables["themes"]
    assert model["expected_share"].notna().all()
    from qualkit.uncertainty import theme_intervals

    with pytest.raises(ValueError, match="not probabilities"):
        theme_intervals(keyword, CODES, method="both")


def test_missing_scores_are_left_out_of_the_model_interval_not_counted_as_zero():
    from qualkit.uncertainty import theme_intervals

    scored = FIXTURE.assign(bolig_score=[0.9, np.nan, 0.1, 0.4, 0.8])
    with pytest.warns(UserWarning, match="1 of 3 segments have no bolig_score"):
        table = theme_intervals(scored, CODES).set_index(["kommune", "code"])
    bergen = table.loc[("Bergen", "bolig")]
    assert bergen["expected_share"] == pytest.approx((0.9 + 0.1) / 2)
    assert bergen["unscored_segments"] == 1 and table.loc[("Askøy", "bolig"), "unscored_segments"] == 0


def test_missing_code_values_are_an_error_not_zero():
    from qualkit.aggregate import themes_by_kommune

    holes = FIXTURE.assign(bolig=[1, None, 0, 0, 1])
    with pytest.raises(ValueError, match=r"bolig \(1 segments\)"):
        themes_by_kommune(holes, CODES)
    with pytest.raises(ValueError, match="missing values in code column"):
        build_report(holes, CODES, LABELS, figures=False)


def test_segments_without_kommune_are_left_out_everywhere_and_said_so(tmp_path):
    blank = FIXTURE.assign(kommune=["Bergen", "Bergen", "Bergen", "", " "])
    built = build_report(blank, CODES, LABELS, figures=False, texts=TEXTS)
    assert built.meta["segments"] == 3 == built.tables["themes"]["kommune_segments"].sum() / len(CODES)
    assert built.meta["documents"] == 1 and built.meta["unassigned"] == 2
    assert built.tables["cooccurrence"].loc["Bolig", "Bolig"] == 2  # Askøy's bolig segment is not counted
    text = write_report(built, tmp_path, ["md"])["md"].read_text(encoding="utf-8")
    assert "3 segmenter, 1 grupper" in text and "2 segmenter uten verdi i kommune er utelatt" in text


def test_one_kommune_has_no_comparison_with_an_empty_rest(tmp_path):
    bergen = FIXTURE[FIXTURE["kommune"] == "Bergen"]
    built = build_report(bergen, CODES, LABELS, figures=False)
    assert "profiles" not in built.tables and "distances" not in built.tables
    sheets = people_tables(built)
    assert "Profiler" not in sheets and "Sammenligning" in sheets["Om tabellene"]["Hva"].tolist()
    text = write_report(built, tmp_path, ["md", "html", "docx", "xlsx"])["md"].read_text(encoding="utf-8")
    assert "Andel resten" not in text and "(nan)" not in text and "Bare én gruppe" in text


def test_codes_sharing_a_label_get_the_code_name_added(tmp_path):
    built = build_report(FIXTURE, CODES, {"bolig": "Økonomi", "okonomi": "Økonomi"})
    assert built.labels == {"bolig": "Økonomi (bolig)", "okonomi": "Økonomi (okonomi)"}
    overview = built.tables["overview"]
    assert {"Økonomi (bolig) (antall)", "Økonomi (okonomi) (antall)"} <= set(overview.columns)
    assert set(write_report(built, tmp_path)) >= {"xlsx", "md", "html", "docx"}


def _cli(tmp_path, table, *options):
    from typer.testing import CliRunner

    from qualkit.cli.report_cmd import app

    csv = tmp_path / "segments.csv"
    table.to_csv(csv, index=False)
    codebook = tmp_path / "book.yaml"
    codebook.write_text(
        "name: test\nlabel: Test\nversion: '1'\ncodes:\n"
        "  - {name: bolig, label: Bolig, definition: x, keywords: [bolig]}\n"
        "  - {name: okonomi, label: Økonomi, definition: x, keywords: [budsjett]}\n", encoding="utf-8")
    return CliRunner().invoke(app, [str(csv), "--out", str(tmp_path / "out"), "--codebook", str(codebook), *options])


def test_cli_filter_that_matches_nothing_is_an_error_and_writes_nothing(tmp_path):
    result = _cli(tmp_path, FIXTURE, "--kilde", "fokusgrupper")
    assert result.exit_code == 2
    assert "'fokusgrupper'" in result.output and "kilde values in the table: fokusgruppe" in result.output
    assert not (tmp_path / "out").exists()
    result = _cli(tmp_path, FIXTURE, "--from", "2026-01-01")
    assert result.exit_code == 2 and "dato: 2025-01-01 to 2025-01-01" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_names_missing_speaker_and_offset_columns_and_rejects_nonsense_options(tmp_path):
    result = _cli(tmp_path, FIXTURE.drop(columns=["speaker", "start"]))
    assert result.exit_code == 2 and "missing column(s) start, speaker" in result.output
    assert _cli(tmp_path, FIXTURE, "--quotes", "-1").exit_code == 2
    assert _cli(tmp_path, FIXTURE, "--agreement", "1.7").exit_code == 2
    result = _cli(tmp_path, FIXTURE, "--level", "0.9", "--formats", "md")
    assert result.exit_code == 0, result.output
    assert "90% Wilson-intervall" in (tmp_path / "out" / "rapport.md").read_text(encoding="utf-8")


def _many_kommuner(n=40):
    from qualkit.uncertainty import theme_intervals

    rng = np.random.default_rng(0)
    rows = [{"document": f"k{k}_{d}.md", "kommune": f"Kommune {k:02d}", "speaker": "D1",
             "bolig": int(rng.random() < .3), "okonomi": int(rng.random() < .2)}
            for k in range(n) for d in range(3) for _ in range(10)]
    return theme_intervals(pd.DataFrame(rows), CODES, LABELS, level=0.90)


def test_bar_chart_title_states_the_level_used_and_sits_above_the_panels():
    from qualkit.report import bar_chart_figure

    fig = bar_chart_figure(_many_kommuner())
    assert fig._suptitle.get_text() == "Andel av kommunens segmenter, med 90 % intervall"
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    title = fig._suptitle.get_window_extent(renderer)
    first_panel = fig.axes[0].get_tightbbox(renderer)
    assert title.y0 >= first_panel.y1  # the title does not overlap the first panel


def test_heatmap_with_many_kommuner_is_transposed_and_uses_a_fixed_scale():
    from qualkit.report import heatmap_figure

    fig = heatmap_figure(_many_kommuner())
    width, height = fig.get_size_inches()
    ax = fig.axes[0]
    assert width <= 12 and height > width  # 40 kommuner as rows, not a 50-inch-wide strip
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["Kommune 00", "Kommune 01"]
    assert ax.images[0].get_clim() == (0.0, 1.0)  # 38 % is not the darkest blue
    small = heatmap_figure(build_report(FIXTURE, CODES, LABELS, figures=False).tables["themes"])
    assert [t.get_text() for t in small.axes[0].get_yticklabels()] == ["Bolig", "Økonomi"]
    assert small.axes[0].images[0].get_clim() == (0.0, 1.0)


# --- Norwegian alphabetical order ------------------------------------------------------------------------------

# By code point: Aremark, Gamvik, Gáivuotna, Oslo, Årdal, Ås, Ørland.
NORWEGIAN_ORDER = ["Aremark", "Gáivuotna", "Gamvik", "Oslo", "Ørland", "Årdal", "Ås"]


def _kommuner_in_reverse():
    text = "Vi har fått flere kommunale utleieboliger, men ventetida er fortsatt lang for enslige."
    rows = [{"document": f"{k}.md", "kommune": k, "speaker": "D1", "role": "", "text": text, "start": 0,
             "end": len(text), "segment_id": f"s{i}", "bolig": 1, "okonomi": i % 2}
            for i, k in enumerate(reversed(NORWEGIAN_ORDER))]
    return pd.DataFrame(rows)


def _quote_headings(markup: str, tag: str) -> list[str]:
    import re

    return [h for h in re.findall(rf"<{tag}>(.*?)</{tag}>", markup) if h in NORWEGIAN_ORDER]


def test_report_tables_figures_and_files_use_norwegian_alphabetical_order(tmp_path):
    from qualkit.report import bar_chart_figure, heatmap_figure
    from qualkit.report_build import report_markdown
    from qualkit.report_docx import report_document
    from qualkit.report_html import report_html

    report = build_report(_kommuner_in_reverse(), CODES, LABELS, figures=False)
    for key in ("themes", "quotes"):
        assert list(dict.fromkeys(report.tables[key]["kommune"])) == NORWEGIAN_ORDER, key
    assert report.tables["overview"]["Kommune"].tolist() == NORWEGIAN_ORDER
    assert people_tables(report)["Tema per kommune"]["Kommune"].drop_duplicates().tolist() == NORWEGIAN_ORDER
    markdown = report_markdown(report)
    in_matrix = [line.split(" | ")[0].strip("| ") for line in markdown.splitlines() if line.startswith("| ")]
    assert [k for k in in_matrix if k in NORWEGIAN_ORDER][: len(NORWEGIAN_ORDER)] == NORWEGIAN_ORDER
    assert [line.strip("*") for line in markdown.splitlines() if line.strip("*") in NORWEGIAN_ORDER
            and line.startswith("**")][: len(NORWEGIAN_ORDER)] == NORWEGIAN_ORDER  # quotes under Bolig
    assert _quote_headings(report_html(report), "h4")[: len(NORWEGIAN_ORDER)] == NORWEGIAN_ORDER
    document = report_document(report)
    docx_headings = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
    assert docx_headings[: len(NORWEGIAN_ORDER)] == NORWEGIAN_ORDER
    bars = bar_chart_figure(report.tables["themes"])
    assert [t.get_text() for t in bars.axes[0].get_yticklabels()] == NORWEGIAN_ORDER
    heat = heatmap_figure(report.tables["themes"])  # 7 kommuner: themes as rows, kommuner as columns
    assert [t.get_text() for t in heat.axes[0].get_xticklabels()] == NORWEGIAN_ORDER
