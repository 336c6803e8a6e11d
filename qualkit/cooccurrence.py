"""Themes together and kommuner compared: co-occurrence of themes, and theme profiles per kommune.

- :func:`cooccurrence` — theme × theme matrix of segments coded with both (diagonal: with the theme at all);
  :func:`cooccurrence_segments` — the segments behind one cell; :func:`cooccurrence_tidy` — one row per pair
  with the count, Jaccard index and lift.
- :func:`compare_profiles` — each kommune's share per theme against the rest of the material: difference,
  95 % interval (Newcombe's hybrid Wilson score) and a two-proportion z-test; :func:`profile_distances` —
  the Jensen–Shannon distance between a kommune's theme profile and the rest's, to see which kommune differs most.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from qualkit.aggregate import keyed_segments, resolve_by
from qualkit.uncertainty import wilson_score


def _binary(segments: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    return segments[list(codes)].fillna(0).astype(int).clip(0, 1)


def cooccurrence(segments: pd.DataFrame, codes: Sequence[str], labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Theme × theme matrix: the number of segments coded with both themes (diagonal: with the theme)."""
    values = _binary(segments, codes).to_numpy()
    matrix = pd.DataFrame(values.T @ values, index=list(codes), columns=list(codes))
    if labels:
        matrix = matrix.rename(index=dict(labels), columns=dict(labels))
    return matrix


def cooccurrence_segments(segments: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """The segments coded with both ``first`` and ``second`` (the segments behind one cell of the matrix)."""
    both = (segments[first].fillna(0).astype(int) == 1) & (segments[second].fillna(0).astype(int) == 1)
    return segments[both]


def cooccurrence_tidy(
    segments: pd.DataFrame, codes: Sequence[str], labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per pair of themes: segments with both, with each, Jaccard index (both / either) and lift
    (observed / expected if independent), plus the ``segment_id`` list behind the cell."""
    binary = _binary(segments, codes)
    labels = labels or {}
    total = len(segments)
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            both = (binary[a] == 1) & (binary[b] == 1)
            n_a, n_b, n_ab = int(binary[a].sum()), int(binary[b].sum()), int(both.sum())
            either = n_a + n_b - n_ab
            rows.append({
                "code_a": a, "code_b": b, "label_a": labels.get(a, a), "label_b": labels.get(b, b),
                "both": n_ab, "segments_a": n_a, "segments_b": n_b,
                "jaccard": n_ab / either if either else 0.0,
                "lift": n_ab * total / (n_a * n_b) if n_a and n_b else float("nan"),
                "segment_ids": list(segments.loc[both, "segment_id"]) if "segment_id" in segments else [],
            })
    return pd.DataFrame(rows)


# --- profiles -----------------------------------------------------------------------------------------------


def _wilson(k: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for ``k / n`` with quantile ``z``, within [0, 1]."""
    return (0.0, 1.0) if n == 0 else wilson_score(k / n, n, z)


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def compare_profiles(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    level: float = 0.95,
) -> pd.DataFrame:
    """Each kommune against the rest, per theme: the share of the kommune's segments with the theme, the share
    of all other segments, the difference with a Newcombe (Wilson) interval and a two-sided two-proportion
    z-test p-value. Sorted by the absolute difference, largest first.

    Segments within a conversation are not independent, so read the p-values as a screening aid, not proof.
    """
    by = resolve_by(by)
    labels = labels or {}
    z = _z(level)
    keyed = keyed_segments(segments, by)
    binary = _binary(keyed, codes)
    groups = keyed[by]
    rows = []
    for kommune in sorted(groups.unique()):
        inside = (groups == kommune).to_numpy()
        n1, n2 = int(inside.sum()), int((~inside).sum())
        for code in codes:
            k1, k2 = int(binary.loc[inside, code].sum()), int(binary.loc[~inside, code].sum())
            p1, p2 = k1 / n1 if n1 else 0.0, k2 / n2 if n2 else 0.0
            l1, u1 = _wilson(k1, n1, z)
            l2, u2 = _wilson(k2, n2, z)
            diff = p1 - p2
            low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
            high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
            pooled = (k1 + k2) / (n1 + n2) if n1 + n2 else 0.0
            se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if n1 and n2 else 0.0
            p_value = 2 * _normal_sf(abs(diff) / se) if se > 0 else 1.0
            rows.append({"kommune": kommune, "code": code, "label": labels.get(code, code),
                         "share": p1, "share_rest": p2, "difference": diff, "diff_low": low, "diff_high": high,
                         "p_value": min(p_value, 1.0), "segments": k1, "kommune_segments": n1})
    table = pd.DataFrame(rows)
    if len(table):
        table = table.reindex(table["difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    table.attrs.update({"by": by, "level": level})
    return table


def _z(level: float) -> float:
    """The standard normal quantile for a two-sided interval of ``level`` (bisection on erfc; no SciPy needed)."""
    target = (1 - level) / 2
    low, high = 0.0, 10.0
    for _ in range(80):
        mid = (low + high) / 2
        if _normal_sf(mid) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def jensen_shannon_distance(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, between 0 and 1) of two distributions (normalised here)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    return float(np.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2)))


def profile_distances(
    segments: pd.DataFrame, codes: Sequence[str], labels: Mapping[str, str] | None = None, by: str = "kommune"
) -> pd.DataFrame:
    """Per kommune: the Jensen–Shannon distance between its theme profile (how its coded segments are spread over
    the themes) and the rest's, and the theme that contributes most to the difference. Largest distance first."""
    by = resolve_by(by)
    labels = labels or {}
    keyed = keyed_segments(segments, by)
    binary = _binary(keyed, codes)
    rows = []
    for kommune in sorted(keyed[by].unique()):
        inside = (keyed[by] == kommune).to_numpy()
        p = binary.loc[inside].sum().to_numpy(dtype=float)
        q = binary.loc[~inside].sum().to_numpy(dtype=float)
        pn = p / p.sum() if p.sum() else p
        qn = q / q.sum() if q.sum() else q
        top = int(np.argmax(np.abs(pn - qn))) if len(codes) else 0
        rows.append({"kommune": kommune, "js_distance": jensen_shannon_distance(p, q),
                     "most_different_code": codes[top], "most_different_label": labels.get(codes[top], codes[top]),
                     "profile_share": pn[top] if p.sum() else 0.0, "rest_profile_share": qn[top] if q.sum() else 0.0,
                     "coded_segments": int(p.sum())})
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values("js_distance", ascending=False, na_position="last").reset_index(drop=True)
    return table
