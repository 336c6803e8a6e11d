"""A segment's neighbours: the texts just before and after it in its document.

Themes run in stretches: a report section, a stretch of a focus group, stays with one topic for several
paragraphs or turns. The classifier therefore looks at the scores of a segment's neighbours as well as its
own (see ``SegmentClassifier(context=True)``). The neighbours must come from the whole document, not
from the coded subset, so the context columns are added to the full segment table *before* it is
filtered to coded rows or split into a pool.

>>> segments = add_context(segments)       # previous_text, next_text
>>> labels = segments[segments.segment_id.isin(coded_ids)]   # keeps each segment's true neighbours
"""

from __future__ import annotations

import pandas as pd

CONTEXT_COLUMNS = ("previous_text", "next_text")
ORDER_COLUMNS = ("start", "index", "line")
"""Columns that give a segment's position in its document, in order of preference."""


def has_context(table: pd.DataFrame) -> bool:
    return all(column in table.columns for column in CONTEXT_COLUMNS)


def add_context(segments: pd.DataFrame, document: str = "document") -> pd.DataFrame:
    """A copy of ``segments`` with ``previous_text`` and ``next_text`` (``""`` at a document's edges).

    Segments are ordered within each ``document`` by the first of ``start`` (character offset), ``index``
    or ``line`` that the table has, else by row order; rows keep their order and index. A table without a
    ``document`` column gets empty context (its rows are not known to be neighbours).
    """
    if "text" not in segments.columns:
        raise ValueError("the segment table needs a 'text' column")
    out = segments.copy()
    if document not in out.columns or out.empty:
        for column in CONTEXT_COLUMNS:
            out[column] = ""
        return out
    order = next((c for c in ORDER_COLUMNS if c in out.columns), None)
    position = pd.RangeIndex(len(out))
    frame = pd.DataFrame(
        {
            "document": out[document].astype(str).to_numpy(),
            "order": out[order].to_numpy() if order else position,
            "row": position,
            "text": out["text"].fillna("").astype(str).to_numpy(),
        }
    )
    frame = frame.sort_values(["document", "order", "row"], kind="stable")
    by_document = frame.groupby("document", sort=False)["text"]
    frame["previous_text"] = by_document.shift(1).fillna("")
    frame["next_text"] = by_document.shift(-1).fillna("")
    frame = frame.sort_values("row")
    for column in CONTEXT_COLUMNS:
        out[column] = frame[column].to_numpy()
    return out


def context_texts(X) -> tuple[list[str | None], list[str | None]] | None:
    """``(previous, next)`` texts of a table that has the context columns (``None`` = no neighbour)."""
    if not isinstance(X, pd.DataFrame) or not has_context(X):
        return None
    return tuple(  # type: ignore[return-value]
        [None if pd.isna(value) or not str(value).strip() else str(value) for value in X[column]]
        for column in CONTEXT_COLUMNS
    )
