"""Aggregation: themes per municipality from a coded segment table.

Tables are tidy first (one row per theme and kommune) and pivoted for people second.

>>> table = themes_by_kommune(coded, codes=["bolig", "okonomi"])   # doctest: +SKIP
>>> table.columns.tolist()                                          # doctest: +SKIP
['kommune', 'code', 'label', 'segments', 'share', 'documents', 'speakers', 'kommune_segments']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

TIDY_COLUMNS = ["kommune", "code", "label", "segments", "share", "documents", "speakers", "kommune_segments"]


def themes_by_kommune(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
) -> pd.DataFrame:
    """Count segments per theme and kommune.

    ``segments`` is a coded segment table (0/1 column per code). ``by`` is the column to group on:
    ``kommune`` (said in: the document's kommune) or ``attributed_kommune`` (said about), or ``fylke``.
    Returns one row per (kommune, code): ``segments`` coded with the theme, ``share`` of the kommune's
    segments, the number of distinct ``documents`` and ``speakers`` raising it, and ``kommune_segments``.
    """
    missing = [c for c in [by, *codes] if c not in segments.columns]
    if missing:
        raise KeyError(f"the segment table lacks the column(s) {', '.join(missing)}")
    labels = labels or {}
    rows = []
    for kommune, group in segments.groupby(by, sort=True):
        total = len(group)
        for code in codes:
            coded = group[group[code].astype(int) == 1]
            speakers = coded.loc[coded["speaker"].fillna("") != "", ["document", "speaker"]].drop_duplicates()
            rows.append(
                {
                    "kommune": kommune,
                    "code": code,
                    "label": labels.get(code, code),
                    "segments": len(coded),
                    "share": len(coded) / total if total else 0.0,
                    "documents": coded["document"].nunique(),
                    "speakers": len(speakers),
                    "kommune_segments": total,
                }
            )
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


def pivot_themes(table: pd.DataFrame, value: str = "segments", use_labels: bool = False) -> pd.DataFrame:
    """Wide view of :func:`themes_by_kommune`: kommuner as rows, themes as columns."""
    columns = "label" if use_labels else "code"
    order = list(dict.fromkeys(table[columns]))
    wide = table.pivot(index="kommune", columns=columns, values=value)
    return wide[order].rename_axis(columns=None)


def theme_table_for_people(table: pd.DataFrame) -> pd.DataFrame:
    """One row per kommune: for each theme the count and share, plus the kommune's number of segments."""
    counts = pivot_themes(table, "segments", use_labels=True)
    shares = pivot_themes(table, "share", use_labels=True)
    totals = table.drop_duplicates("kommune").set_index("kommune")["kommune_segments"]
    wide = pd.DataFrame(index=counts.index)
    wide["Segmenter"] = totals
    for column in counts.columns:
        wide[f"{column} (antall)"] = counts[column]
        wide[f"{column} (andel)"] = shares[column]
    return wide.rename_axis("Kommune").reset_index()
