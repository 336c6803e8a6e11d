"""Reports for people: the theme heatmap, representative quotes and a Markdown summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from qualkit.aggregate import pivot_themes
from qualkit.export import write_atomic


def heatmap(table: pd.DataFrame, path: str | Path, value: str = "share", title: str | None = None) -> Path:
    """A themes × kommune heatmap (PNG) of shares (default) or counts, annotated with the numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = pivot_themes(table, value, use_labels=True)
    counts = pivot_themes(table, "segments", use_labels=True)
    data = wide.T  # themes as rows, kommuner as columns
    fig, ax = plt.subplots(figsize=(max(6.0, 3.5 + 1.15 * data.shape[1]), 1.2 + 0.6 * data.shape[0]))
    image = ax.imshow(data.to_numpy(dtype=float), cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(range(data.shape[1]), data.columns, rotation=35, ha="right")
    ax.set_yticks(range(data.shape[0]), data.index)
    top = float(data.to_numpy(dtype=float).max() or 1)
    for i, theme in enumerate(data.index):
        for j, kommune in enumerate(data.columns):
            v = float(data.loc[theme, kommune])
            text = f"{v:.0%}\n({int(counts.loc[kommune, theme])})" if value == "share" else f"{int(v)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if v > 0.6 * top else "black")
    label = "Andel av kommunens segmenter" if value == "share" else "Antall segmenter"
    fig.colorbar(image, ax=ax, label=label, format=_percent if value == "share" else None)
    ax.set_title(title or "Tema per kommune")
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=150, format="png"))
    plt.close(fig)
    return Path(path)


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
