"""Reports for people: the theme heatmap, representative quotes and a Markdown summary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from qualkit.aggregate import by_name, groups_by_name, pivot_themes
from qualkit.export import write_atomic

MAX_HEATMAP_COLUMNS = 12


def heatmap_figure(table: pd.DataFrame, value: str = "share", title: str | None = None):
    """The matplotlib figure of :func:`heatmap`, not yet saved.

    Themes are rows and kommuner columns; with more than ``MAX_HEATMAP_COLUMNS`` kommuner the map is transposed
    (kommuner as rows), so that it grows downwards and stays readable at page width. Shares use a fixed 0–100 %
    colour scale, so that colours can be compared between reports.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = pivot_themes(table, value, use_labels=True)  # kommuner × themes
    counts = pivot_themes(table, "segments", use_labels=True)
    transposed = len(wide.index) > MAX_HEATMAP_COLUMNS
    data = wide if transposed else wide.T
    width = 3.5 + 1.15 * data.shape[1] + (1.5 if transposed else 0)
    fig, ax = plt.subplots(figsize=(max(6.0, width), 1.2 + (0.4 if transposed else 0.6) * data.shape[0]))
    values = data.to_numpy(dtype=float)
    top = 1.0 if value == "share" else float(np.nanmax(values, initial=0) or 1)
    image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0, vmax=top)
    ax.set_xticks(range(data.shape[1]), data.columns, rotation=35, ha="right")
    ax.set_yticks(range(data.shape[0]), data.index)
    for i, row in enumerate(data.index):
        for j, column in enumerate(data.columns):
            kommune, theme = (row, column) if transposed else (column, row)
            v = float(data.loc[row, column])
            text = f"{v:.0%}\n({int(counts.loc[kommune, theme])})" if value == "share" else f"{int(v)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if transposed else 8,
                    color="white" if v > 0.6 * top else "black")
    label = "Andel av kommunens segmenter (skala 0–100 %)" if value == "share" else "Antall segmenter"
    fig.colorbar(image, ax=ax, label=label, format=_percent if value == "share" else None)
    ax.set_title(title or "Tema per kommune")
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, path: str | Path, value: str = "share", title: str | None = None) -> Path:
    """A themes × kommune heatmap (PNG) of shares (default) or counts, annotated with the numbers."""
    import matplotlib.pyplot as plt

    fig = heatmap_figure(table, value, title)
    write_atomic(path, lambda p: fig.savefig(p, dpi=150, format="png"))
    plt.close(fig)
    return Path(path)


def bar_chart_figure(table: pd.DataFrame, title: str | None = None):
    """One panel per theme: each kommune's share with its interval (``share_low``/``share_high`` when present,
    at ``table.attrs["level"]``, named in the title); thin cells (``few_segments``) are drawn pale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(table["label"]))
    kommuner = by_name(table["kommune"])
    fig, axes = plt.subplots(len(labels), 1, figsize=(7.5, 0.6 + (0.32 * len(kommuner) + 0.7) * len(labels)),
                             squeeze=False, layout="constrained")  # constrained: the suptitle gets its own space
    top = float(table.get("share_high", table["share"]).max() or 1)
    error = None
    for ax, label in zip(axes[:, 0], labels, strict=True):
        part = table[table["label"] == label].set_index("kommune").reindex(kommuner)
        shares = part["share"].to_numpy(dtype=float)
        colours = ["#c6d7ea" if flag else "#2f6fad" for flag in part.get("few_segments", [False] * len(part))]
        error = None
        if "share_low" in part and part["share_low"].notna().all():
            low, high = part["share_low"].to_numpy(dtype=float), part["share_high"].to_numpy(dtype=float)
            error = [(shares - low).clip(min=0), (high - shares).clip(min=0)]
        ax.barh(range(len(kommuner)), shares, xerr=error, color=colours, ecolor="#555555", capsize=2)
        ax.set_yticks(range(len(kommuner)), kommuner, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, min(1.0, top * 1.1 + 0.02))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_percent))
        ax.set_title(label, fontsize=10, loc="left")
    level = table.attrs.get("level")
    interval = f", med {level:.0%} intervall".replace("%", " %") if error is not None and level else ""
    fig.suptitle(title or f"Andel av kommunens segmenter{interval}", fontsize=11)
    return fig


def figure_png(fig, dpi: int = 120) -> bytes:
    """The figure as PNG bytes (and closed)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def _percent(value, _position=None) -> str:
    return f"{value:.0%}"


def representative_quotes(
    segments: pd.DataFrame, code: str, n: int = 2, min_chars: int = 60, max_chars: int = 600
) -> pd.DataFrame:
    """The ``n`` most representative segments coded with ``code``: highest score first, with documents,
    kommuner and speakers varied, and of a length that can be quoted."""
    score = f"{code}_score"
    coded = segments[segments[code].astype(int) == 1].copy()
    if coded.empty:
        return coded
    length = coded["text"].str.len()
    coded["_fits"] = (length >= min_chars) & (length <= max_chars)
    coded["_score"] = coded[score] if score in coded else 1.0
    coded = coded.sort_values(["_fits", "_score", "start"], ascending=[False, False, True])
    chosen, seen = [], set()
    for _, row in coded.iterrows():  # first pass: one quote per document and speaker
        key = (row["document"], row["speaker"])
        if row["document"] in {k[0] for k in seen} or key in seen:
            continue
        chosen.append(row)
        seen.add(key)
        if len(chosen) == n:
            break
    if len(chosen) < n:
        taken = {row.name for row in chosen}
        chosen += [row for idx, row in coded.iterrows() if idx not in taken][: n - len(chosen)]
    return pd.DataFrame(chosen).drop(columns=["_fits", "_score"])


def summary_markdown(
    segments: pd.DataFrame,
    table: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str],
    title: str = "Tema per kommune",
    coder_name: str = "",
    skipped: Sequence[tuple[str, str]] = (),
    quotes_per_theme: int = 2,
) -> str:
    """A Markdown report: what was analysed, the theme table, and quotes per theme."""
    wide = pivot_themes(table, "segments", use_labels=True)
    shares = pivot_themes(table, "share", use_labels=True)
    totals = table.drop_duplicates("kommune").set_index("kommune")["kommune_segments"]
    lines = [f"# {title}", ""]
    lines.append(
        f"{segments['document'].nunique()} dokumenter, {len(segments)} segmenter, "
        f"{segments['kommune'].nunique()} kommuner."
        + (f" Koder: `{coder_name}`." if coder_name else "")
    )
    lines += ["", "## Segmenter per tema og kommune", ""]
    header = ["Kommune", "Segmenter", *wide.columns]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for kommune in wide.index:
        cells = [f"{int(wide.loc[kommune, c])} ({shares.loc[kommune, c]:.0%})" for c in wide.columns]
        lines.append(f"| {kommune} | {int(totals[kommune])} | " + " | ".join(cells) + " |")
    lines += ["", "Tall i parentes: andel av kommunens segmenter.", "", "## Sitater per tema", ""]
    for code in codes:
        lines += [f"### {labels.get(code, code)}", ""]
        quotes = representative_quotes(segments, code, n=quotes_per_theme)
        if quotes.empty:
            lines += ["_Ingen segmenter kodet med dette temaet._", ""]
            continue
        for _, row in quotes.iterrows():
            text = " ".join(str(row["text"]).split())
            who = f"{row['speaker']}, " if row.get("speaker") else ""
            lines.append(f"> {text}")
            lines.append(f">\n> — {who}{row['document']} ({row['kommune']}), tegn {row['start']}–{row['end']}")
            lines.append("")
    if skipped:
        lines += ["## Hoppet over", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in skipped]
        lines.append("")
    return "\n".join(lines)


# --- quotes with line references ------------------------------------------------------------------------------


def line_number(text: str, offset: int) -> int:
    """The 1-based line of character ``offset`` in ``text``."""
    return text.count("\n", 0, max(0, int(offset))) + 1


def document_texts(source: str | Path | Iterable) -> dict[str, str]:
    """Document name → text (the text all segment offsets refer to), from a corpus folder, a project file
    (``.qualkit``) or an iterable of :class:`qualkit.ingest.Document`."""
    if isinstance(source, str | Path):
        path = Path(source)
        if path.suffix == ".qualkit":
            from qualkit.project.store import Project

            with Project.open(path) as project:
                return {name: project.document(name).text for name in project.documents()["document"]}
        from qualkit.ingest import read_corpus

        source = read_corpus(path).documents
    return {document.name: document.text for document in source}


def add_line_numbers(segments: pd.DataFrame, texts: Mapping[str, str] | None) -> pd.DataFrame:
    """``line`` and ``line_end`` (1-based, in the document text) for each segment whose document text is known."""
    out = segments.copy()
    texts = texts or {}

    def lines(row: pd.Series) -> tuple[float, float]:
        text = texts.get(row["document"])
        if text is None:
            return float("nan"), float("nan")
        return line_number(text, row["start"]), line_number(text, max(int(row["start"]), int(row["end"]) - 1))

    pairs = [lines(row) for _, row in out.iterrows()] if len(out) else []
    out["line"] = pd.array([p[0] for p in pairs], dtype="Int64") if pairs else pd.array([], dtype="Int64")
    out["line_end"] = pd.array([p[1] for p in pairs], dtype="Int64") if pairs else pd.array([], dtype="Int64")
    return out


def _pick_varied(coded: pd.DataFrame, n: int) -> list:
    """Up to ``n`` row labels of ``coded`` (already in order of preference), varying documents and speakers:
    first new documents and new speakers, then new speakers, then the rest."""
    chosen: list = []
    if n <= 0:
        return chosen
    for rule in ("document", "speaker", "any"):
        for idx, row in coded.iterrows():
            if len(chosen) == n:
                return chosen
            if idx in chosen:
                continue
            docs = {coded.loc[i, "document"] for i in chosen}
            speakers = {(coded.loc[i, "document"], coded.loc[i, "speaker"]) for i in chosen}
            key = (row["document"], row["speaker"])
            if rule == "document" and (row["document"] in docs or key in speakers):
                continue
            if rule == "speaker" and key in speakers:
                continue
            chosen.append(idx)
    return chosen


def citation(row: Mapping, by_label: str = "") -> str:
    """A quote ready to paste: «text» — speaker (role), document, linje a–b (kommune)."""
    text = " ".join(str(row["text"]).split())
    who = str(row.get("speaker") or "").strip()
    role = str(row.get("role") or "").strip()
    if role and role.lower() != who.lower():
        who = f"{who} ({role})" if who else role
    line, line_end = row.get("line"), row.get("line_end")
    if line is not None and not pd.isna(line):
        where = f"linje {int(line)}" if pd.isna(line_end) or int(line_end) == int(line) else (
            f"linje {int(line)}–{int(line_end)}")
    else:
        where = f"tegn {int(row['start'])}–{int(row['end'])}"
    parts = [p for p in (who, str(row["document"]), where) if p]
    return f"«{text}» — {', '.join(parts)}" + (f" ({by_label})" if by_label else "")


QUOTE_COLUMNS = ["kommune", "code", "label", "rank", "document", "speaker", "role", "line", "line_end", "start",
                 "end", "score", "text", "citation"]


def quotes_table(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    texts: Mapping[str, str] | None = None,
    n: int = 2,
    min_chars: int = 60,
    max_chars: int = 600,
) -> pd.DataFrame:
    """For each theme × kommune the ``n`` most representative segments: highest score first (segments of a
    quotable length first), speakers and documents varied, with document, speaker, line reference (when the
    document ``texts`` are given; character offsets otherwise) and a ``citation`` ready to paste."""
    from qualkit.aggregate import keyed_segments, resolve_by

    by = resolve_by(by)
    labels = labels or {}
    keyed = keyed_segments(segments, by)
    rows = []
    for kommune, group in groups_by_name(keyed, by):
        for code in codes:
            coded = group[group[code].fillna(0).astype(int) == 1].copy()
            if coded.empty:
                continue
            length = coded["text"].astype(str).str.len()
            coded["_fits"] = (length >= min_chars) & (length <= max_chars)
            score = f"{code}_score"
            coded["_score"] = coded[score].astype(float) if score in coded else 1.0
            coded = coded.sort_values(["_fits", "_score", "start"], ascending=[False, False, True])
            picked = add_line_numbers(coded.loc[_pick_varied(coded, n)], texts)
            for rank, (_, row) in enumerate(picked.iterrows(), start=1):
                record = {"kommune": kommune, "code": code, "label": labels.get(code, code), "rank": rank,
                          "document": row["document"], "speaker": row.get("speaker", ""),
                          "role": row.get("role", ""), "line": row["line"], "line_end": row["line_end"],
                          "start": int(row["start"]), "end": int(row["end"]),
                          "score": float(row[score]) if score in row else float("nan"), "text": row["text"]}
                record["citation"] = citation(record, str(kommune))
                rows.append(record)
    table = pd.DataFrame(rows, columns=QUOTE_COLUMNS)
    table["line"] = table["line"].astype("Int64")
    table["line_end"] = table["line_end"].astype("Int64")
    return table
