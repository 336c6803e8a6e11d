"""The report as a Word document for report writers: headings, tables, figures and quotes (python-docx)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from qualkit.aggregate import groups_by_name
from qualkit.export import write_atomic
from qualkit.report_build import Report, interval_sentences, people_tables, percent_columns, unassigned_text

DOCX_SHEETS = ("Tema per kommune", "Tema omtalt kommune", "Tema per koder", "Samforekomst", "Profiler", "Avstand",
               "Om tabellene")


def _text(value: object, percent: bool) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if percent and isinstance(value, int | float):
        return f"{float(value):.1%}".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.3f}".replace(".", ",") if not value.is_integer() else f"{int(value)}"
    return str(value)


def add_table(document, frame: pd.DataFrame, percent: list[str] | None = None, max_rows: int = 200) -> None:
    """A Word table of ``frame`` with a bold header row."""
    percent = percent or []
    frame = frame.head(max_rows)
    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = str(column)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for _, row in frame.iterrows():
        cells = table.add_row().cells
        for cell, column in zip(cells, frame.columns, strict=True):
            cell.text = _text(row[column], column in percent)


def report_document(report: Report):
    """The python-docx ``Document`` of the report."""
    from docx import Document
    from docx.shared import Cm

    document = Document()
    document.add_heading(report.title, level=0)
    m = report.meta
    document.add_paragraph(f"{m['documents']} dokumenter, {m['segments']} segmenter, {m['groups']} grupper "
                           f"({m['by_label']}).{unassigned_text(report)} {report.agreement_text}")
    sheets = people_tables(report)
    percent = percent_columns(sheets)
    if "heatmap" in report.figures:
        document.add_heading("Tema per kommune — varmekart", level=1)
        document.add_picture(io.BytesIO(report.figures["heatmap"]), width=Cm(16))
    for name in DOCX_SHEETS:
        if name not in sheets:
            continue
        document.add_heading(name, level=1)
        table = sheets[name]
        if name == "Tema per kommune":
            document.add_paragraph(f"Merket «ja» under Få segmenter: færre enn {m['min_segments']} segmenter. "
                                   + " ".join(interval_sentences(report)))
        add_table(document, table, percent.get(name))
        if name == "Tema per kommune" and "bars" in report.figures:
            document.add_picture(io.BytesIO(report.figures["bars"]), width=Cm(15))
    document.add_heading("Sitater", level=1)
    quotes = report.tables["quotes"]
    for code in report.codes:
        document.add_heading(report.labels.get(code, code), level=2)
        part = quotes[quotes["code"] == code]
        if part.empty:
            document.add_paragraph("Ingen segmenter kodet med dette temaet.")
        for kommune, group in groups_by_name(part, "kommune"):
            document.add_heading(str(kommune), level=3)
            for quote in group["citation"]:
                document.add_paragraph(quote, style="Quote")
    return document


def write_docx(report: Report, path: str | Path) -> Path:
    """Write the report as ``.docx`` (atomically)."""
    document = report_document(report)
    return write_atomic(path, lambda p: document.save(str(p)))
