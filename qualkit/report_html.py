"""A self-contained HTML report: tables, the heatmap and bar charts as base64 PNG, quotes; no external assets."""

from __future__ import annotations

import base64
import html

import pandas as pd

from qualkit.aggregate import groups_by_name
from qualkit.report_build import Report, interval_sentences, people_tables, percent_columns, unassigned_text

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 0.88em; }
th, td { border: 1px solid #ccd6e0; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #dde6f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { color: #777; font-style: italic; }
blockquote { border-left: 4px solid #2f6fad; margin: 0.6em 0; padding: 0.2em 0.9em; background: #f5f8fb; }
img { max-width: 100%; }
.note { color: #555; font-size: 0.9em; }
"""


def _format(value: object, percent: bool) -> tuple[str, bool]:
    if value is None or (not isinstance(value, str | list) and pd.isna(value)):
        return "", False
    if isinstance(value, bool):
        return ("ja" if value else ""), False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if percent:
            return f"{float(value):.1%}".replace(".", ","), True
        if isinstance(value, float) and not float(value).is_integer():
            return f"{value:.3f}".replace(".", ","), True
        return f"{int(value)}", True
    return str(value), False


def table_html(frame: pd.DataFrame, percent: list[str] | None = None, flag_column: str | None = None) -> str:
    """An HTML table of ``frame`` (Norwegian number format; percentages for ``percent`` columns)."""
    percent = percent or []
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        flagged = flag_column is not None and str(row.get(flag_column, "")) == "ja"
        cells = []
        for column in frame.columns:
            text, numeric = _format(row[column], column in percent)
            attribute = ' class="num"' if numeric else ""
            cells.append(f"<td{attribute}>{html.escape(text)}</td>")
        attribute = ' class="flag"' if flagged else ""
        body.append(f"<tr{attribute}>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def image_html(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as a base64 data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def report_html(report: Report) -> str:
    """The whole report as one HTML document."""
    sheets = people_tables(report)
    percent = percent_columns(sheets)
    m = report.meta
    parts = [f"<h1>{html.escape(report.title)}</h1>",
             f"<p>{m['documents']} dokumenter, {m['segments']} segmenter, {m['groups']} grupper "
             f"({html.escape(m['by_label'])}).{html.escape(unassigned_text(report))}</p>",
             f"<p class=\"note\">{html.escape(report.agreement_text)}</p>"]
    if "heatmap" in report.figures:
        parts += ["<h2>Tema per kommune</h2>", image_html(report.figures["heatmap"], "Varmekart: tema per kommune")]
    for name, table in sheets.items():
        if name == "Sitater":
            continue
        parts.append(f"<h2>{html.escape(name)}</h2>")
        flag = "Få segmenter" if "Få segmenter" in table else None
        parts.append(table_html(table, percent.get(name), flag))
        if name == "Tema per kommune":
            intervals = html.escape(" ".join(interval_sentences(report)))
            parts.append(f"<p class=\"note\">Grå kursiv: færre enn {m['min_segments']} segmenter. {intervals}</p>")
            if "bars" in report.figures:
                parts.append(image_html(report.figures["bars"], "Søylediagram: andel per tema og kommune"))
    parts.append("<h2>Sitater</h2>")
    quotes = report.tables["quotes"]
    for code in report.codes:
        parts.append(f"<h3>{html.escape(report.labels.get(code, code))}</h3>")
        part = quotes[quotes["code"] == code]
        if part.empty:
            parts.append("<p><em>Ingen segmenter kodet med dette temaet.</em></p>")
        for kommune, group in groups_by_name(part, "kommune"):
            parts.append(f"<h4>{html.escape(str(kommune))}</h4>")
            parts += [f"<blockquote>{html.escape(c)}</blockquote>" for c in group["citation"]]
    body = "\n".join(parts)
    head = f'<meta charset="utf-8">\n<title>{html.escape(report.title)}</title>\n<style>{STYLE}</style>'
    return f'<!DOCTYPE html>\n<html lang="no">\n<head>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n'
