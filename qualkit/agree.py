"""Agreement between coders: percent agreement, Cohen's kappa, Krippendorff's alpha.

The functions take plain arrays so that they work on any coding, human or model. The tidy helpers at the end
take the segment-level coding tables qualkit produces and report agreement per code.

Krippendorff's alpha follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": values are
paired within units (coincidence matrix), units coded by fewer than two coders are left out, and
``alpha = 1 - D_o / D_e``.

Missing values are ``None``, NaN, ``pd.NA`` and ``pd.NaT`` (never a category). When the data have no variation
(every coder gave every unit the same value, e.g. a code nobody used) agreement is undefined: alpha is 0/0 and
kappa's expected agreement is 1. Both then return NaN, as Krippendorff (2011) and scikit-learn's
``cohen_kappa_score`` do, instead of a perfect score that would flatter an average over codes.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def percent_agreement(a: Sequence, b: Sequence) -> float:
    """Share of units on which two coders gave the same value (units missing in either are left out)."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not _missing(x) and not _missing(y)]
    if not pairs:
        return float("nan")
    return sum(x == y for x, y in pairs) / len(pairs)


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa for two coders on nominal values (units missing in either are left out).

    Returns NaN when there is nothing to compare, and when both coders use one and the same value throughout:
    chance agreement is then 1 and kappa is 0/0 (undefined, as in scikit-learn's ``cohen_kappa_score``).
    """
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not _missing(x) and not _missing(y)]
    if not pairs:
        return float("nan")
    values = sorted({v for pair in pairs for v in pair}, key=str)
    index = {v: i for i, v in enumerate(values)}
    table = np.zeros((len(values), len(values)))
    for x, y in pairs:
        table[index[x], index[y]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float((table.sum(axis=1) @ table.sum(axis=0)) / n**2)
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1 - expected))


def krippendorff_alpha(
    data: Sequence[Sequence] | np.ndarray, level: str = "nominal", order: Sequence | None = None
) -> float:
    """Krippendorff's alpha for reliability data of shape (coders, units); None, NaN or ``pd.NA`` marks a
    missing value.

    ``order`` gives the ranks of the values for the ordinal level (e.g. ``["lav", "middels", "høy"]``); without
    it numbers are ordered by value and other values alphabetically. Returns NaN when no unit was coded by two
    coders or when the data have no variation (alpha is then 0/0, undefined).

    >>> round(krippendorff_alpha([[1, 0, 1, 1], [1, 0, 1, 0]]), 3)
    0.533
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    matrix = _as_object_matrix(data)
    units = [[v for v in matrix[:, u] if not _missing(v)] for u in range(matrix.shape[1])]
    units = [values for values in units if len(values) >= 2]
    if not units:
        return float("nan")
    values = _ordered_values({v for unit in units for v in unit}, order)
    index = {v: i for i, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in units:
        m = len(unit)
        for i, j in ((i, j) for i in range(m) for j in range(m) if i != j):
            coincidence[index[unit[i]], index[unit[j]]] += 1 / (m - 1)
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    delta = _distance_matrix(values, marginals, level)
    observed = (coincidence * delta).sum() / n
    expected = (np.outer(marginals, marginals) * delta).sum() / (n * (n - 1))
    if expected == 0:  # one value only: no variation, alpha undefined
        return float("nan")
    return float(1 - observed / expected)


def agreement_by_code(codings: Mapping[str, pd.DataFrame], codes: Sequence[str]) -> pd.DataFrame:
    """Agreement per code between coders, each given as a 0/1 table (rows: units, columns: codes).

    ``codings`` maps a coder name to its table; rows are aligned on the index, and units a coder has not
    coded are missing for that coder. Returns one row per code (plus ``overall``) with ``units`` (units coded
    by at least two coders: the units alpha is computed on), ``percent_agreement`` (share of those units on
    which every coder who coded it gave the same value), Krippendorff's ``alpha`` and, for exactly two coders,
    Cohen's ``kappa``.

    A code without variation (e.g. nobody used it) has alpha and kappa NaN (undefined) and a ``note`` saying
    so; ``overall`` is the mean over the codes where each measure is defined, and its ``note`` names the codes
    left out (also in ``table.attrs["undefined"]``).
    """
    if len(codings) < 2:
        raise ValueError("agreement needs at least two coders")
    names = list(codings)
    index = sorted(set().union(*(frame.index for frame in codings.values())), key=str)
    rows = []
    for code in codes:
        matrix = np.array(
            [pd.to_numeric(codings[name].reindex(index)[code], errors="coerce").to_numpy(dtype=float)
             for name in names], dtype=float
        )
        pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
        same = np.nanmax(matrix[:, pairable], axis=0) == np.nanmin(matrix[:, pairable], axis=0)
        row = {
            "code": code,
            "units": int(pairable.sum()),
            "percent_agreement": float(same.mean()) if pairable.any() else float("nan"),
            "alpha": krippendorff_alpha(matrix),
        }
        if len(names) == 2:
            row["kappa"] = cohen_kappa(matrix[0], matrix[1])
        row["note"] = _note(row)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["code", "units", "percent_agreement", "alpha",
                                        *(["kappa"] if len(names) == 2 else []), "note"])
    undefined = table.loc[table["alpha"].isna() & (table["units"] > 0), "code"].tolist()
    overall = table.drop(columns=["code", "note"]).mean(numeric_only=True).to_dict()  # NaN (undefined) skipped
    overall["units"] = int(table["units"].max()) if len(table) else 0
    defined = len(table) - len(undefined)
    overall["note"] = (f"mean over the {defined} of {len(table)} codes where alpha is defined; left out "
                       f"(no variation): {', '.join(undefined)}") if undefined else ""
    table = pd.concat([table, pd.DataFrame([{"code": "overall", **overall}])], ignore_index=True)
    table = table.set_index("code")
    table.attrs["undefined"] = undefined
    return table


def _note(row: Mapping) -> str:
    if row["units"] == 0:
        return "no unit coded by two coders"
    if np.isnan(row["alpha"]):
        return "undefined: no variation (every coder gave every unit the same value)"
    return ""


def pairwise_agreement(codings: Mapping[str, pd.DataFrame], codes: Sequence[str]) -> pd.DataFrame:
    """Agreement per code for every pair of coders (tidy: one row per pair and code).

    This is how a model coder is reported next to human coders: ``model:… vs A`` beside ``A vs B``.
    """
    frames = []
    for first, second in combinations(codings, 2):
        table = agreement_by_code({first: codings[first], second: codings[second]}, codes).reset_index()
        table.insert(0, "coder_b", second)
        table.insert(0, "coder_a", first)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def disagreements(codings: Mapping[str, pd.DataFrame], codes: Sequence[str]) -> pd.DataFrame:
    """The units and codes on which coders differ (tidy: unit, code, and each coder's value)."""
    names = list(codings)
    index = sorted(set().union(*(frame.index for frame in codings.values())), key=str)
    rows = []
    for code in codes:
        values = pd.DataFrame({name: codings[name].reindex(index)[code] for name in names}, index=index)
        complete = values.dropna()
        differing = complete[complete.nunique(axis=1) > 1]
        for unit, row in differing.iterrows():
            rows.append({"unit": unit, "code": code, **{name: int(row[name]) for name in names}})
    return pd.DataFrame(rows, columns=["unit", "code", *names])


def _missing(value: object) -> bool:
    """None, NaN (Python or NumPy), ``pd.NA`` and ``pd.NaT``: missing, never a category."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _as_object_matrix(data: Sequence[Sequence] | np.ndarray) -> np.ndarray:
    matrix = np.array(data, dtype=object)
    if matrix.ndim != 2:
        raise ValueError("reliability data must be two-dimensional: (coders, units)")
    return matrix


def _sort_key(value: object) -> tuple[int, object]:
    """Numbers (including NumPy scalars) by value, then everything else as text."""
    return (0, float(value)) if isinstance(value, numbers.Real) else (1, str(value))


def _ordered_values(values: set, order: Sequence | None) -> list:
    """The distinct values in rank order: ``order`` when given (it must cover every value), else :func:`_sort_key`."""
    if order is None:
        return sorted(values, key=_sort_key)
    unknown = [v for v in values if v not in set(order)]
    if unknown:
        raise ValueError(f"order does not rank the value(s) {', '.join(map(repr, sorted(unknown, key=_sort_key)))}")
    return [v for v in dict.fromkeys(order) if v in values]


def _distance_matrix(values: list, marginals: np.ndarray, level: str) -> np.ndarray:
    k = len(values)
    delta = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            if level == "nominal":
                delta[i, j] = 1.0
            elif level == "interval":
                delta[i, j] = (float(values[i]) - float(values[j])) ** 2
            elif level == "ratio":
                a, b = float(values[i]), float(values[j])
                delta[i, j] = ((a - b) / (a + b)) ** 2 if a + b else 0.0
            else:  # ordinal: squared sum of marginals between the two ranks
                low, high = min(i, j), max(i, j)
                between = marginals[low : high + 1].sum() - (marginals[low] + marginals[high]) / 2
                delta[i, j] = between**2
    return delta
