"""A report for report writers: every table of issue 7 built once, written as xlsx, csv, Markdown, HTML and docx.

>>> from qualkit.report_build import build_report, write_report            # doctest: +SKIP
>>> report = build_report(coded, codebook.code_names, codebook.labels, texts=document_texts("corpora/demo"))
>>> write_report(report, "out/rapport")                                     # doctest: +SKIP

``report.tables`` holds the tidy tables (English column names, for analysis); :func:`people_tables` gives the
same tables with Norwegian headings, as written to the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.aggregate import (
    BY_LABELS,
    check_codes,
    filter_segments,
    groups_by_name,
    keyed_segments,
    resolve_by,
    theme_table_for_people,
    themes_by_coder,
    unique_labels,
)
from qualkit.cooccurrence import compare_profiles, cooccurrence, cooccurrence_tidy, profile_distances
from qualkit.export import write_atomic, write_csv, write_xlsx
from qualkit.report import bar_chart_figure, figure_png, heatmap_figure, quotes_table
from qualkit.uncertainty import describe_agreement, theme_intervals

FORMATS = ("xlsx", "csv", "md", "html", "docx")


@dataclass
class Report:
    """The tables and figures of a report, and what they were made from."""

    title: str
    codes: list[str]
    labels: dict[str, str]
    by: str
    tables: dict[str, pd.DataFrame]
    figures: dict[str, bytes] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def agreement_text(self) -> str:
        return describe_agreement(self.meta.get("agreement"))


def build_report(
    segments: pd.DataFrame | Mapping[str, pd.DataFrame],
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    texts: Mapping[str, str] | None = None,
    agreement: Any = None,
    min_segments: int = 5,
    min_documents: int = 3,
    level: float = 0.95,
    quotes_per_cell: int = 2,
    title: str = "Tema per kommune",
    coder_name: str = "",
    figures: bool = True,
    coder: str | None = None,
    **filters,
) -> Report:
    """All tables of the report from one coded segment table.

    Tables (keys of ``report.tables``): ``themes`` (tidy, with intervals and flags), ``themes_about`` (said about,
    when ``by="kommune"`` and the table has ``attributed_kommune`` values), ``overview`` (wide, for people),
    ``cooccurrence`` (matrix) and ``cooccurrence_pairs``, ``profiles`` (each kommune vs the rest),
    ``distances`` (Jensen–Shannon), ``quotes``. ``filters`` go to :func:`qualkit.aggregate.filter_segments`.

    ``segments`` may also be a dict {coder: coded table} (see :func:`qualkit.aggregate.coded_tables`): the report
    is then built on ``coder`` (default ``consensus`` if present, else the first) and gets a ``themes_by_coder``
    table comparing all coders.

    Segments without a value in ``by`` (e.g. an empty kommune) are left out of every table, and the header
    counts only the segments the tables count (``meta["unassigned"]`` says how many were left out). A selection
    that matches no segment raises ``ValueError``. ``coder_name`` decides whether ``<code>_score`` columns are
    read as probabilities (see :func:`qualkit.uncertainty.scores_are_probabilities`): the keyword coder's are not.
    With a single group, the comparisons with "the rest" (``profiles``, ``distances``) are left out.
    """
    by = resolve_by(by)
    labels = dict(labels or {})
    codes = list(codes)
    by_coder = None
    if isinstance(segments, Mapping):
        by_coder = themes_by_coder(segments, codes, labels, by, **filters)
        coder = coder or ("consensus" if "consensus" in segments else next(iter(segments)))
        coder_name = coder_name or coder
        segments = segments[coder]
    if by not in segments:
        raise KeyError(f"the segment table lacks the column {by}")
    check_codes(segments, codes)
    labels = unique_labels(codes, labels)
    filters = {k: v for k, v in filters.items() if v not in (None, (), [])}
    selected = keyed_segments(filter_segments(segments, **filters) if filters else segments, by)
    if selected.empty:
        raise ValueError(_nothing_selected(segments, by, filters))
    options = dict(labels=labels, level=level, min_segments=min_segments, agreement=agreement,
                   min_documents=min_documents, coder_name=coder_name)
    themes = theme_intervals(selected, codes, by=by, **options)
    tables: dict[str, pd.DataFrame] = {"themes": themes}
    if by == "kommune" and "attributed_kommune" in selected and selected["attributed_kommune"].fillna("").ne("").any():
        tables["themes_about"] = theme_intervals(selected, codes, by="attributed_kommune", **options)
    tables["overview"] = theme_table_for_people(themes)
    if by_coder is not None:
        tables["themes_by_coder"] = by_coder
    tables["cooccurrence"] = cooccurrence(selected, codes, labels)
    tables["cooccurrence_pairs"] = cooccurrence_tidy(selected, codes, labels)
    groups = int(themes["kommune"].nunique())
    if groups > 1:
        tables["profiles"] = compare_profiles(selected, codes, labels, by=by, level=level)
        tables["distances"] = profile_distances(selected, codes, labels, by=by)
    tables["quotes"] = quotes_table(selected, codes, labels, by=by, texts=texts, n=quotes_per_cell)
    before_by = filter_segments(segments, **filters) if filters else segments
    meta = {
        "documents": int(selected["document"].nunique()), "segments": len(selected),
        "unassigned": len(before_by) - len(selected),
        "groups": groups, "by": by, "by_label": BY_LABELS.get(by, by),
        "filters": filters, "coder": coder_name,
        "agreement": themes.attrs.get("agreement"), "min_segments": min_segments,
        "min_documents": min_documents, "level": level,
        "method": themes.attrs.get("method"), "scores": themes.attrs.get("scores"),
        "intervals": sorted(set(themes["interval"].dropna())), "line_numbers": bool(texts),
    }
    report = Report(title, codes, labels, by, tables, meta=meta)
    if figures and len(themes):
        report.figures["heatmap"] = figure_png(heatmap_figure(themes, "share", title))
        report.figures["bars"] = figure_png(bar_chart_figure(themes))
    return report


def _nothing_selected(segments: pd.DataFrame, by: str, filters: Mapping[str, Any]) -> str:
    """Why no segment is left: the selection, and the values that exist."""
    chosen = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no selection"
    known = [f"{column}: {', '.join(sorted(set(segments[column].dropna().astype(str)) - {''})) or 'none'}"
             for column in ("kilde", "role") if column in segments]
    if "dato" in segments:
        dates = pd.to_datetime(segments["dato"], errors="coerce").dropna()
        if len(dates):
            known.append(f"dato: {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}")
    return (f"no segment with a value in {by} is left after the selection ({chosen}); "
            + ("; ".join(known) if known else "the table has no segments"))


def interval_sentences(report: Report) -> list[str]:
    """What the intervals are, in Norwegian: only the methods the tables actually used."""
    m = report.meta
    level = f"{m['level']:.0%}"
    sentences = []
    if "korn_graubard" in m.get("intervals", []):
        sentences.append(f"{level} intervall for andelen etter Korn og Graubard: Clopper–Pearson-intervall på "
                         "effektivt antall segmenter (designeffekt fra hvor ulike dokumentene i gruppen er, "
                         "justert for antall dokumenter), brukt der gruppen har minst "
                         f"{m['min_documents']} dokumenter.")
    if "wilson" in m.get("intervals", []):
        sentences.append(f"{level} Wilson-intervall over segmentene der gruppen har under {m['min_documents']} "
                         "dokumenter: segmentene regnes da som uavhengige, så intervallet er trolig for smalt.")
    if m.get("method") == "both":
        sentences.append("«(modell)»: intervall for antallet ut fra modellens skårer (Poisson-binomisk), "
                         "gyldig hvis skårene er kalibrerte sannsynligheter.")
    elif m.get("scores") == "keyword":
        sentences.append("Koderen er nøkkelordkoderen: skårene er antall treff, ikke sannsynligheter, så "
                         "intervallene bygger bare på antallene.")
    return sentences


def unassigned_text(report: Report) -> str:
    """The header's note on segments left out for lack of a value in ``by`` (empty when none were)."""
    n = report.meta.get("unassigned", 0)
    return f" {n} segmenter uten verdi i {report.by} er utelatt fra alle tabellene." if n else ""


# --- Norwegian tables for people ---------------------------------------------------------------------------

FIRST_COLUMN = {"kommune": "Kommune", "attributed_kommune": "Kommune (omtalt)", "fylke": "Fylke"}
THEME_COLUMNS = {
    "label": "Tema", "segments": "Segmenter", "share": "Andel", "share_low": "Andel nedre", "share_high": "Andel øvre",
    "documents": "Dokumenter", "speakers": "Talere", "kommune_segments": "Segmenter i alt",
    "expected_share": "Andel forventet (modell)", "score_low": "Andel nedre (modell)",
    "score_high": "Andel øvre (modell)", "few_segments": "Få segmenter", "few_documents": "Få dokumenter",
    "kommune_documents": "Dokumenter i alt", "interval": "Intervallmetode", "design_effect": "Designeffekt",
    "agreement": "Samsvar modell–menneske",
}
INTERVAL_NAMES = {"korn_graubard": "Korn–Graubard (dokumenter som klynger)",
                  "wilson": "Wilson (segmenter, få dokumenter)"}
SHEET_NAMES = {
    "themes": "Tema per kommune", "themes_about": "Tema omtalt kommune", "overview": "Oversikt",
    "cooccurrence": "Samforekomst", "cooccurrence_pairs": "Samforekomst par", "profiles": "Profiler",
    "distances": "Avstand", "quotes": "Sitater", "about": "Om tabellene", "themes_by_coder": "Tema per koder",
}


def _theme_sheet(table: pd.DataFrame) -> pd.DataFrame:
    first = FIRST_COLUMN.get(table.attrs.get("by", "kommune"), "Kommune")
    columns = ["kommune", *[c for c in THEME_COLUMNS if c in table.columns]]
    out = table[columns].rename(columns={"kommune": first, **THEME_COLUMNS})
    if "Intervallmetode" in out:
        out["Intervallmetode"] = out["Intervallmetode"].map(INTERVAL_NAMES)
    for flag in ("Få segmenter", "Få dokumenter"):
        if flag in out:
            out[flag] = out[flag].map({True: "ja", False: ""})
    return out


def people_tables(report: Report) -> dict[str, pd.DataFrame]:
    """The report's tables with Norwegian headings, keyed by sheet name (as written to xlsx, csv, docx, HTML)."""
    t = report.tables
    first = FIRST_COLUMN.get(report.by, "Kommune")
    out: dict[str, pd.DataFrame] = {SHEET_NAMES["themes"]: _theme_sheet(t["themes"])}
    if "themes_about" in t:
        out[SHEET_NAMES["themes_about"]] = _theme_sheet(t["themes_about"])
    out[SHEET_NAMES["overview"]] = t["overview"]
    if "themes_by_coder" in t:
        coders = t["themes_by_coder"].drop(columns=["code"]).rename(columns={
            "coder": "Koder", "kommune": first, "label": "Tema", "segments": "Segmenter", "share": "Andel",
            "documents": "Dokumenter", "speakers": "Talere", "kommune_segments": "Segmenter i alt"})
        out[SHEET_NAMES["themes_by_coder"]] = coders
    out[SHEET_NAMES["cooccurrence"]] = t["cooccurrence"].rename_axis("Tema").reset_index()
    pairs = t["cooccurrence_pairs"].copy()
    if len(pairs):
        pairs["segment_ids"] = pairs["segment_ids"].map(lambda ids: ", ".join(map(str, ids)))
        pairs = pairs[["label_a", "label_b", "both", "segments_a", "segments_b", "jaccard", "lift", "segment_ids"]]
    out[SHEET_NAMES["cooccurrence_pairs"]] = pairs.rename(columns={
        "label_a": "Tema A", "label_b": "Tema B", "both": "Segmenter med begge", "segments_a": "Segmenter A",
        "segments_b": "Segmenter B", "jaccard": "Jaccard", "lift": "Løft", "segment_ids": "Segment-ID-er"})
    if "profiles" in t:
        out.update(_comparison_sheets(t["profiles"], t["distances"], first))
    quotes = t["quotes"].drop(columns=["code", "start", "end"])
    out[SHEET_NAMES["quotes"]] = quotes.rename(columns={
        "kommune": first, "label": "Tema", "rank": "Nr.", "document": "Dokument", "speaker": "Taler",
        "role": "Rolle", "line": "Linje", "line_end": "Til linje", "score": "Skår", "text": "Tekst",
        "citation": "Sitat til innliming"})
    out[SHEET_NAMES["about"]] = about_table(report)
    return out


def _comparison_sheets(profiles: pd.DataFrame, distances: pd.DataFrame, first: str) -> dict[str, pd.DataFrame]:
    if len(profiles):
        profiles = profiles.drop(columns=["code"])
    if len(distances):
        distances = distances.drop(columns=["most_different_code"])
    return {
        SHEET_NAMES["profiles"]: profiles.rename(columns={
            "kommune": first, "label": "Tema", "share": "Andel", "share_rest": "Andel resten",
            "difference": "Differanse", "diff_low": "Differanse nedre", "diff_high": "Differanse øvre",
            "p_value": "p-verdi", "segments": "Segmenter", "kommune_segments": "Segmenter i alt"}),
        SHEET_NAMES["distances"]: distances.rename(columns={
            "kommune": first, "js_distance": "Jensen–Shannon-avstand", "most_different_label": "Tema som skiller mest",
            "profile_share": "Andel av kodingene", "rest_profile_share": "Andel av kodingene resten",
            "coded_segments": "Kodede segmenter"}),
    }


ONE_GROUP = "Bare én gruppe: sammenligningen med resten (profiler og avstand) er utelatt."


def about_table(report: Report) -> pd.DataFrame:
    """What the tables rest on, as rows of (Hva, Verdi)."""
    m = report.meta
    rows = [
        ("Tittel", report.title), ("Dokumenter", m["documents"]), ("Segmenter", m["segments"]),
        ("Gruppert på", f"{m['by']} ({m['by_label']})"), ("Koder", m.get("coder") or "ikke oppgitt"),
        ("Utvalg", ", ".join(f"{k}={v}" for k, v in m["filters"].items()) or "alle segmenter"),
        ("Intervall", " ".join(interval_sentences(report))),
        ("Utelatt", unassigned_text(report).strip() or "ingen segmenter"),
        ("Få segmenter", f"celler med færre enn {m['min_segments']} segmenter er merket"),
        ("Samsvar", report.agreement_text),
        ("Linjenumre", "fra dokumentteksten" if m["line_numbers"] else "ikke tilgjengelig (tegnposisjoner brukes)"),
    ]
    if "profiles" not in report.tables:
        rows.append(("Sammenligning", ONE_GROUP))
    return pd.DataFrame(rows, columns=["Hva", "Verdi"]).astype({"Verdi": str})


def percent_columns(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Columns shown as percentages: shares (Andel …) and share differences."""
    return {name: [c for c in t.columns if str(c).startswith(("Andel", "Differanse")) or "(andel)" in str(c)]
            for name, t in tables.items()}


# --- Markdown ---------------------------------------------------------------------------------------------


def _cell(row: pd.Series) -> str:
    text = f"{int(row['segments'])} ({row['share']:.0%}"
    if "share_low" in row and pd.notna(row["share_low"]):
        text += f"; {row['share_low']:.0%}–{row['share_high']:.0%}"
    text += ")"
    return text + ("*" if row.get("few_segments") else "")


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (values as they are, index left out)."""
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(str(v).replace("|", "/").replace("\n", " ") for v in row) + " |")
    return "\n".join(lines)


def theme_matrix(themes: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """Kommune × theme cells as text: count (share; interval), * for thin cells."""
    first = FIRST_COLUMN.get(themes.attrs.get("by", "kommune"), "Kommune")
    rows = []
    for kommune, group in groups_by_name(themes, "kommune"):
        row = {first: kommune, "Segmenter": int(group["kommune_segments"].iloc[0])}
        for _, cell in group.iterrows():
            row[cell["label"]] = _cell(cell)
        rows.append(row)
    return pd.DataFrame(rows)


def report_markdown(report: Report) -> str:
    """The report as Markdown: about, theme tables, co-occurrence, profiles and quotes."""
    t, m = report.tables, report.meta
    lines = [f"# {report.title}", "",
             f"{m['documents']} dokumenter, {m['segments']} segmenter, {m['groups']} grupper ({m['by_label']})."
             + unassigned_text(report) + (f" Koder: `{m['coder']}`." if m.get("coder") else ""), "",
             report.agreement_text, ""]
    if m["filters"]:
        lines += ["Utvalg: " + ", ".join(f"{k} = {v}" for k, v in m["filters"].items()) + ".", ""]
    sections = [("themes", "Tema per kommune (sagt i kommunen)" if report.by == "kommune" else "Tema per gruppe"),
                ("themes_about", "Tema per kommune (sagt om kommunen)")]
    for key, heading in sections:
        if key in t:
            lines += [f"## {heading}", "", markdown_table(theme_matrix(t[key], report.labels)), "",
                      "Antall segmenter (andel av gruppens segmenter; intervall). "
                      + " ".join(interval_sentences(report))
                      + f" * = færre enn {m['min_segments']} segmenter.", ""]
    co = t["cooccurrence"].rename_axis("Tema").reset_index()
    lines += ["## Samforekomst av tema", "", markdown_table(co), "",
              "Antall segmenter kodet med begge tema (diagonalen: med temaet).", ""]
    profiles = t["profiles"].head(10) if "profiles" in t else pd.DataFrame()
    if "profiles" not in t:
        lines += ["## Hvor skiller kommunene seg ut?", "", ONE_GROUP, ""]
    if len(profiles):
        shown = pd.DataFrame({
            "Gruppe": profiles["kommune"], "Tema": profiles["label"], "Andel": profiles["share"].map("{:.0%}".format),
            "Andel resten": profiles["share_rest"].map("{:.0%}".format),
            "Differanse (intervall)": [f"{d:+.0%} ({lo:+.0%} til {hi:+.0%})" for d, lo, hi in
                                       profiles[["difference", "diff_low", "diff_high"]].itertuples(index=False)],
            "p": profiles["p_value"].map("{:.3f}".format)})
        lines += ["## Hvor skiller kommunene seg ut?", "", markdown_table(shown), ""]
    distances = t["distances"].dropna(subset=["js_distance"]) if "distances" in t else pd.DataFrame()
    if len(distances):
        top = distances.iloc[0]
        lines += [f"Størst avstand fra resten (Jensen–Shannon): **{top['kommune']}** ({top['js_distance']:.2f}), "
                  f"særlig på «{top['most_different_label']}».", ""]
    lines += ["## Sitater", ""]
    quotes = t["quotes"]
    for code in report.codes:
        part = quotes[quotes["code"] == code]
        lines += [f"### {report.labels.get(code, code)}", ""]
        if part.empty:
            lines += ["_Ingen segmenter kodet med dette temaet._", ""]
        for kommune, group in groups_by_name(part, "kommune"):
            lines += [f"**{kommune}**", ""]
            lines += [f"> {c}\n" for c in group["citation"]]
    return "\n".join(lines)


# --- writing ------------------------------------------------------------------------------------------------


def write_report(
    report: Report, out: str | Path, formats: Sequence[str] = FORMATS, stem: str = "rapport"
) -> dict[str, Path]:
    """Write the report to ``out``: ``rapport.xlsx`` (one formatted sheet per table), one CSV per table in
    ``csv/``, ``rapport.md``, ``rapport.html`` (self-contained) and ``rapport.docx``. Every file is atomic."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    sheets = people_tables(report)
    paths: dict[str, Path] = {}
    if "xlsx" in formats:
        paths["xlsx"] = write_xlsx(sheets, out / f"{stem}.xlsx", percent_columns(sheets))
    if "csv" in formats:
        for key, table in report.tables.items():
            frame = table.copy()
            for column in frame.columns:
                if frame[column].map(lambda v: isinstance(v, list)).any():
                    frame[column] = frame[column].map(lambda ids: " ".join(map(str, ids)))
            paths[f"csv:{key}"] = write_csv(frame, out / "csv" / f"{key}.csv", index=key == "cooccurrence")
    if "md" in formats:
        text = report_markdown(report)
        paths["md"] = write_atomic(out / f"{stem}.md", lambda p: p.write_text(text, encoding="utf-8"))
    if "html" in formats:
        from qualkit.report_html import report_html

        html = report_html(report)
        paths["html"] = write_atomic(out / f"{stem}.html", lambda p: p.write_text(html, encoding="utf-8"))
    if "docx" in formats:
        from qualkit.report_docx import write_docx

        paths["docx"] = write_docx(report, out / f"{stem}.docx")
    return paths
