"""Aggregation: themes per municipality from a coded segment table.

Tables are tidy first (one row per theme and kommune) and pivoted for people second.

>>> table = themes_by_kommune(coded, codes=["bolig", "okonomi"])   # doctest: +SKIP
>>> table.columns.tolist()                                          # doctest: +SKIP
['kommune', 'code', 'label', 'segments', 'share', 'documents', 'speakers', 'kommune_segments']

"Said in" groups on the document's kommune (``by="kommune"``), "said about" on ``attributed_kommune``
(``by="attributed_kommune"`` or ``by="about"``), and ``by="fylke"`` gives the county level. Filters
(:func:`filter_segments`) select sources (kilde), speaker roles and a date range; :func:`coded_tables` turns
codings of several coders (human, model) into one coded table per coder, with a majority ``consensus``.

Kommuner (and fylker) come in Norwegian alphabetical order (… Z, Æ, Ø, Å; :func:`qualkit.kommune.sort_key`)
in every table, and in the figures and reports built on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import pandas as pd

from qualkit.kommune import sort_key

TIDY_COLUMNS = ["kommune", "code", "label", "segments", "share", "documents", "speakers", "kommune_segments"]
BY_ALIASES = {"in": "kommune", "said_in": "kommune", "about": "attributed_kommune", "said_about": "attributed_kommune"}
BY_LABELS = {"kommune": "sagt i kommunen", "attributed_kommune": "sagt om kommunen", "fylke": "fylke"}


def resolve_by(by: str) -> str:
    """The grouping column for ``by`` (accepts ``in``/``about`` and ``said_in``/``said_about``)."""
    return BY_ALIASES.get(by, by)


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def filter_segments(
    segments: pd.DataFrame,
    kilde: str | Iterable[str] | None = None,
    role: str | Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kommune: str | Iterable[str] | None = None,
    exclude_roles: Iterable[str] = (),
) -> pd.DataFrame:
    """Segments from the given sources (``kilde``), speaker roles, kommuner and date range (inclusive,
    ISO dates compared on ``dato``); ``exclude_roles`` drops e.g. ``["moderator", "intervjuer"]``.
    Matching of kilde and roles ignores case.

    A ``kilde`` or ``role`` value that no segment has is most likely a typo: it raises ``ValueError`` listing the
    values that exist (``exclude_roles`` may name roles that do not occur, so one list fits every corpus).
    """
    keep = pd.Series(True, index=segments.index)
    for column, wanted in (("kilde", _as_list(kilde)), ("role", _as_list(role)), ("kommune", _as_list(kommune))):
        if wanted is not None:
            if column not in segments:
                raise KeyError(f"the segment table lacks the column {column}")
            values = segments[column].fillna("").astype(str)
            if column != "kommune":
                _check_known(column, wanted, values)
            keep &= values.str.lower().isin([w.lower() for w in wanted]) if column != "kommune" else values.isin(wanted)
    excluded = [r.lower() for r in exclude_roles]
    if excluded:
        keep &= ~segments["role"].fillna("").astype(str).str.lower().isin(excluded)
    if date_from is not None or date_to is not None:
        dates = pd.to_datetime(segments["dato"], errors="coerce")
        if date_from is not None:
            keep &= dates >= pd.Timestamp(date_from)
        if date_to is not None:
            keep &= dates <= pd.Timestamp(date_to)
    return segments[keep]


def _check_known(column: str, wanted: Sequence[str], values: pd.Series) -> None:
    present = sorted(set(values.str.lower()) - {""})
    unknown = [w for w in wanted if w.lower() not in present]
    if unknown:
        raise ValueError(f"no segment has {column} {', '.join(map(repr, unknown))}; "
                         f"{column} values in the table: {', '.join(present) or 'none'}")


def check_codes(segments: pd.DataFrame, codes: Sequence[str]) -> None:
    """Raise ``ValueError`` when a code column has missing values: counting them as 0 while keeping them in
    the denominator would lower every share without a word. A coded table has 0 or 1 for every segment."""
    missing = {code: int(segments[code].isna().sum()) for code in codes if segments[code].isna().any()}
    if missing:
        listed = ", ".join(f"{code} ({n} segments)" for code, n in missing.items())
        raise ValueError(f"missing values in code column(s) {listed}: a coded table needs 0 or 1 for every segment "
                         "(fill with 0 where the code does not apply, or leave those segments out)")


def unique_labels(codes: Sequence[str], labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels per code, made unique: a label shared by several codes gets the code name added,
    «Økonomi (okonomi_stat)», so that wide tables and figures keep one column per code."""
    labels = {code: str((labels or {}).get(code, code)) for code in codes}
    counts = pd.Series(list(labels.values())).value_counts()
    return {code: f"{label} ({code})" if counts[label] > 1 else label for code, label in labels.items()}


def by_name(values: Iterable) -> list:
    """The distinct ``values`` (kommune or fylke names) in Norwegian alphabetical order."""
    return sorted(dict.fromkeys(values), key=sort_key)


def groups_by_name(frame: pd.DataFrame, by: str) -> Iterator[tuple[object, pd.DataFrame]]:
    """``frame.groupby(by)`` with the groups in Norwegian alphabetical order of their names (pandas sorts by
    code point, which puts Å before Ø and Gáivuotna after Guovdageaidnu); missing values are left out."""
    grouped = frame.groupby(by, sort=False)
    for name in sorted(grouped.groups, key=sort_key):
        yield name, grouped.get_group(name)


def keyed_segments(segments: pd.DataFrame, by: str) -> pd.DataFrame:
    """The segments with a (non-blank) value in ``by``: the ones a table grouped on ``by`` counts."""
    values = segments[by]
    return segments[values.notna() & (values.astype(str).str.strip() != "")]


def themes_by_kommune(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    **filters,
) -> pd.DataFrame:
    """Count segments per theme and kommune.

    ``segments`` is a coded segment table (0/1 column per code). ``by`` is the column to group on:
    ``kommune`` (said in: the document's kommune) or ``attributed_kommune`` (said about; alias ``about``), or
    ``fylke``. Segments without a value in ``by`` are left out. ``filters`` go to :func:`filter_segments`.
    Returns one row per (kommune, code): ``segments`` coded with the theme, ``share`` of the kommune's
    segments, the number of distinct ``documents`` and ``speakers`` raising it, and ``kommune_segments``.
    The first column is called ``kommune`` whatever ``by`` is; ``table.attrs["by"]`` says what it holds, and
    ``table.attrs["unassigned"]`` how many segments were left out for lack of a value in ``by``.
    Labels shared by several codes are made unique (:func:`unique_labels`); missing code values raise
    ``ValueError`` (:func:`check_codes`).
    """
    by = resolve_by(by)
    missing = [c for c in [by, "document", "speaker", *codes] if c not in segments.columns]
    if missing:
        raise KeyError(f"the segment table lacks the column(s) {', '.join(missing)}")
    if filters:
        segments = filter_segments(segments, **filters)
    check_codes(segments, codes)
    labels = unique_labels(codes, labels)
    keyed = keyed_segments(segments, by)
    rows = []
    for kommune, group in groups_by_name(keyed, by):
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
    table = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    table.attrs.update({"by": by, "filters": dict(filters), "unassigned": len(segments) - len(keyed)})
    return table


def pivot_themes(table: pd.DataFrame, value: str = "segments", use_labels: bool = False) -> pd.DataFrame:
    """Wide view of :func:`themes_by_kommune`: kommuner as rows (in Norwegian alphabetical order), themes as
    columns (in the table's order)."""
    columns = "label" if use_labels else "code"
    order = list(dict.fromkeys(table[columns]))
    wide = table.pivot(index="kommune", columns=columns, values=value)
    return wide.reindex(index=by_name(table["kommune"]), columns=order).rename_axis(columns=None)


def theme_table_for_people(table: pd.DataFrame) -> pd.DataFrame:
    """One row per kommune: for each theme the count and share, plus the kommune's number of segments."""
    counts = pivot_themes(table, "segments", use_labels=True)
    shares = pivot_themes(table, "share", use_labels=True)
    totals = table.drop_duplicates("kommune").set_index("kommune")["kommune_segments"]
    columns = {"Segmenter": totals.reindex(counts.index)}
    for column in counts.columns:  # built at once: a column at a time fragments the frame (60 codes: warnings)
        columns[f"{column} (antall)"] = counts[column]
        columns[f"{column} (andel)"] = shares[column]
    wide = pd.DataFrame(columns, index=counts.index)
    first = {"kommune": "Kommune", "attributed_kommune": "Kommune (omtalt)", "fylke": "Fylke"}
    return wide.rename_axis(first.get(table.attrs.get("by", "kommune"), "Kommune")).reset_index()


# --- several coders ---------------------------------------------------------------------------------------


def coded_tables(
    codings: Mapping[str, pd.DataFrame] | pd.DataFrame,
    codes: Sequence[str],
    segments: pd.DataFrame | None = None,
    human: Sequence[str] | None = None,
    consensus: bool = True,
) -> dict[str, pd.DataFrame]:
    """One coded segment table per coder, plus ``consensus`` (majority of the human coders).

    ``codings`` is either a dict {coder: coded table} or a tidy frame with columns ``coder``, ``segment_id``,
    ``code`` and optionally ``value`` (default 1) and ``score``; a tidy frame needs ``segments`` (the uncoded
    segment table) to attach the codes to. ``human`` names the human coders (default: every coder whose name
    does not start with ``model``/``keyword``/``auto``). Consensus: a code applies when more than half of the
    human coders who coded the segment applied it; segments no human coded are left out of the consensus.
    """
    if isinstance(codings, pd.DataFrame):
        if segments is None:
            raise ValueError("a tidy codings frame needs the segment table (segments=...)")
        tables = _tables_from_tidy(codings, codes, segments)
    else:
        tables = {name: table for name, table in codings.items()}
    if human is None:
        human = [n for n in tables if not str(n).lower().startswith(("model", "keyword", "auto", "llm"))]
    if consensus and human:
        tables["consensus"] = consensus_table(tables, codes, human)
    return tables


def _tables_from_tidy(codings: pd.DataFrame, codes: Sequence[str], segments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = {}
    base = segments.drop(columns=[c for c in segments.columns if c in codes or c.endswith("_score")])
    for coder, rows in codings.groupby("coder", sort=False):
        rows = rows.assign(value=rows["value"] if "value" in rows else 1)
        seen = set(rows["segment_id"])
        values = rows.pivot_table(index="segment_id", columns="code", values="value", aggfunc="max")
        table = base[base["segment_id"].isin(seen)].copy()
        for code in codes:
            column = values[code] if code in values else pd.Series(dtype=float)
            table[code] = table["segment_id"].map(column).fillna(0).astype(int)
        if "score" in rows and rows["score"].notna().any():
            scores = rows.pivot_table(index="segment_id", columns="code", values="score", aggfunc="max")
            for code in codes:
                column = scores[code] if code in scores else pd.Series(dtype=float)
                table[f"{code}_score"] = table["segment_id"].map(column).fillna(0.0)
        tables[str(coder)] = table.reset_index(drop=True)
    return tables


def consensus_table(tables: Mapping[str, pd.DataFrame], codes: Sequence[str], human: Sequence[str]) -> pd.DataFrame:
    """The majority of ``human`` coders per segment and code (ties count as not applied)."""
    stacked = pd.concat([tables[name].assign(_coder=name) for name in human], ignore_index=True)
    votes = stacked.groupby("segment_id")[list(codes)].agg(["sum", "count"])
    first = stacked.drop_duplicates("segment_id").set_index("segment_id")
    out = first.drop(columns=["_coder", *[c for c in first.columns if str(c).endswith("_score")]])
    for code in codes:
        out[code] = (votes[(code, "sum")] * 2 > votes[(code, "count")]).astype(int).reindex(out.index)
    keep = [c for c in tables[human[0]].columns if not str(c).endswith("_score")]
    return out.reset_index()[keep]


def themes_by_coder(
    tables: Mapping[str, pd.DataFrame],
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    **filters,
) -> pd.DataFrame:
    """:func:`themes_by_kommune` for each coder's table, stacked with a ``coder`` column first."""
    parts = [themes_by_kommune(t, codes, labels, by, **filters).assign(coder=name) for name, t in tables.items()]
    table = pd.concat(parts, ignore_index=True)
    table = table[["coder", *TIDY_COLUMNS]]
    table.attrs.update({"by": resolve_by(by), "filters": dict(filters)})
    return table
