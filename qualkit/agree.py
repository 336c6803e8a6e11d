"""Agreement between coders: percent agreement, Cohen's kappa, Krippendorff's alpha.

The functions take plain arrays so that they work on any coding, human or model. The tidy helpers at the end
take the segment-level coding tables qualkit produces and report agreement per code.

Krippendorff's alpha follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": values are
paired within units (coincidence matrix), units coded by fewer than two coders are left out, and
``alpha = 1 - D_o / D_e``.
"""

from __future__ import annotations

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

    Returns 1.0 when both coders use one and the same value throughout (perfect, if uninformative, agreement)
    and NaN when there is nothing to compare.
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
        return 1.0 if observed == 1.0 else 0.0
    return float((observed - expected) / (1 - expected))


def krippendorff_alpha(data: Sequence[Sequence] | np.ndarray, level: str = "nominal") -> float:
    """Krippendorff's alpha for reliability data of shape (coders, units); NaN or None marks a missing value.

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
    values = sorted({v for unit in units for v in unit}, key=_sort_key)
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
    if expected == 0:
        return 1.0 if observed == 0 else float("nan")
    return float(1 - observed / expected)


def agreement_by_code(codings: Mapping[str, pd.DataFrame], codes: Sequence[str]) -> pd.DataFrame:
    """Agreement per code between coders, each given as a 0/1 table (rows: units, columns: codes).

    ``codings`` maps a coder name to its table; rows are aligned on the index, and units a coder has not
    coded are missing for that coder. Returns one row per code (plus ``overall`` = mean over codes) with
    the number of units, percent agreement, Krippendorff's alpha and, for exactly two coders, Cohen's kappa.
    """
    if len(codings) < 2:
        raise ValueError("agreement needs at least two coders")
    names = list(codings)
    index = sorted(set().union(*(frame.index for frame in codings.values())), key=str)
    rows = []
    for code in codes:
        matrix = np.array(
            [codings[name].reindex(index)[code].to_numpy(dtype=float) for name in names], dtype=float
        )
        complete = ~np.isnan(matrix).any(axis=0)
        row = {
            "code": code,
            "units": int(complete.sum()),
            "percent_agreement": float(np.mean(np.all(matrix[:, complete] == matrix[0, complete], axis=0)))
            if complete.any()
            else float("nan"),
            "alpha": krippendorff_alpha(matrix),
        }
        if len(names) == 2:
            row["kappa"] = cohen_kappa(matrix[0], matrix[1])
        rows.append(row)
    table = pd.DataFrame(rows)
    overall = table.drop(columns="code").mean(numeric_only=True).to_dict()
    overall["units"] = int(table["units"].max()) if len(table) else 0
    table = pd.concat([table, pd.DataFrame([{"code": "overall", **overall}])], ignore_index=True)
    return table.set_index("code")


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
    return value is None or (isinstance(value, float) and np.isnan(value))


def _as_object_matrix(data: Sequence[Sequence] | np.ndarray) -> np.ndarray:
    matrix = np.array(data, dtype=object)
    if matrix.ndim != 2:
        raise ValueError("reliability data must be two-dimensional: (coders, units)")
    return matrix


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


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
