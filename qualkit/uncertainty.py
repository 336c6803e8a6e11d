"""Uncertainty of theme tables: intervals per theme × kommune cell and flags for thin cells.

Two sources of uncertainty, each giving an interval for the share (and count) of a kommune's segments:

- **bootstrap over documents** (``share_low``/``share_high``): documents are resampled with replacement within
  each kommune, so that segments from the same conversation are not treated as independent;
- **the model's scores** (``score_low``/``score_high``, only when ``<code>_score`` columns exist): if the scores
  are calibrated probabilities, the true number of segments with the theme follows a Poisson-binomial
  distribution; its central interval is reported, with the expected count (sum of scores).

Cells that rest on fewer than ``min_segments`` coded segments are flagged (``few_segments``). The model's
agreement with human coders, when known, is stored in ``table.attrs["agreement"]`` (and per code in the
column ``agreement`` when given per code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qualkit.aggregate import filter_segments, resolve_by, themes_by_kommune

INTERVAL_COLUMNS = ["share_low", "share_high", "segments_low", "segments_high"]
SCORE_COLUMNS = ["expected_segments", "expected_share", "score_low", "score_high"]


def poisson_binomial_pmf(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """Distribution of the number of successes of independent Bernoulli trials with the given probabilities
    (exact, by convolution): element ``k`` is P(k successes)."""
    pmf = np.zeros(len(probabilities) + 1)
    pmf[0] = 1.0
    for i, p in enumerate(np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0), start=1):
        pmf[1 : i + 1] = pmf[1 : i + 1] * (1 - p) + pmf[0:i] * p
        pmf[0] *= 1 - p
    return pmf


def poisson_binomial_interval(probabilities: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[int, int]:
    """Central interval ``(low, high)`` of the Poisson-binomial count: P(count < low) ≤ α/2, P(count > high) ≤ α/2."""
    pmf = poisson_binomial_pmf(probabilities)
    cdf = np.cumsum(pmf)
    alpha = 1 - level
    low = int(np.searchsorted(cdf, alpha / 2 - 1e-12, side="right"))
    high = int(np.searchsorted(cdf, 1 - alpha / 2 - 1e-12, side="left"))
    return low, min(high, len(probabilities))


def bootstrap_documents(
    group: pd.DataFrame, codes: Sequence[str], n_boot: int = 1000, level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Percentile bootstrap over the documents of one kommune: one row per code with share and count bounds."""
    rng = rng or np.random.default_rng(0)
    per_document = group.groupby("document")[list(codes)].agg(lambda s: int(s.fillna(0).astype(int).sum()))
    sizes = group.groupby("document").size().reindex(per_document.index).to_numpy(dtype=float)
    counts = per_document.to_numpy(dtype=float)  # documents × codes
    draws = rng.integers(0, len(sizes), size=(n_boot, len(sizes)))
    totals = sizes[draws].sum(axis=1)  # n_boot
    coded = counts[draws].sum(axis=1)  # n_boot × codes
    shares = coded / totals[:, None]
    alpha = 1 - level
    lo, hi = np.quantile(shares, [alpha / 2, 1 - alpha / 2], axis=0)
    c_lo, c_hi = np.quantile(coded, [alpha / 2, 1 - alpha / 2], axis=0)
    return pd.DataFrame(
        {"code": list(codes), "share_low": lo, "share_high": hi, "segments_low": c_lo, "segments_high": c_hi}
    )


def wilson_interval(k: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (segments treated as independent)."""
    from qualkit.cooccurrence import _wilson, _z

    return _wilson(k, n, _z(level))


def wilson_bounds(group: pd.DataFrame, codes: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Wilson intervals per code for one kommune: the fallback when it has too few documents to resample."""
    n = len(group)
    rows = []
    for code in codes:
        k = int(group[code].fillna(0).astype(int).sum())
        low, high = wilson_interval(k, n, level)
        rows.append({"code": code, "share_low": low, "share_high": high, "segments_low": low * n,
                     "segments_high": high * n})
    return pd.DataFrame(rows)


def theme_intervals(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    method: str = "auto",
    level: float = 0.95,
    n_boot: int = 1000,
    min_segments: int = 5,
    agreement: Any = None,
    seed: int = 0,
    min_documents: int = 3,
    **filters,
) -> pd.DataFrame:
    """:func:`qualkit.aggregate.themes_by_kommune` with an interval per cell and a flag for thin cells.

    ``method``: ``bootstrap`` (documents resampled within kommune; for a kommune with fewer than ``min_documents``
    documents a Wilson interval over its segments is used instead, see the ``interval`` column), ``scores``
    (Poisson-binomial of the model's scores), ``both``, or ``auto`` (bootstrap, plus scores when ``<code>_score``
    columns are present).
    ``min_segments``: cells with fewer coded segments get ``few_segments = True``; kommuner with fewer than
    ``min_documents`` documents get ``few_documents = True`` (a bootstrap over one or two documents says little).
    ``agreement``: the model's
    agreement with human coders on this codebook — a number, a dict {code: value}, or the frame of
    :func:`qualkit.agree.agreement_by_code` (its ``alpha`` column, else ``kappa``); kept in
    ``table.attrs["agreement"]`` and, when given per code, in an ``agreement`` column.
    """
    by = resolve_by(by)
    if filters:
        segments = filter_segments(segments, **filters)
    table = themes_by_kommune(segments, codes, labels, by)
    has_scores = all(f"{code}_score" in segments for code in codes)
    if method == "auto":
        method = "both" if has_scores else "bootstrap"
    if method in ("scores", "both") and not has_scores:
        raise KeyError("score intervals need a <code>_score column for every code (codes from a model)")
    rng = np.random.default_rng(seed)
    keyed = segments[segments[by].notna() & (segments[by].astype(str) != "")]
    parts = []
    for kommune, group in keyed.groupby(by, sort=True):
        part = pd.DataFrame({"kommune": kommune, "code": list(codes)})
        if method in ("bootstrap", "both"):
            if group["document"].nunique() >= min_documents:
                bounds = bootstrap_documents(group, codes, n_boot, level, rng).assign(interval="bootstrap")
            else:
                bounds = wilson_bounds(group, codes, level).assign(interval="wilson")
            part = part.merge(bounds, on="code")
        if method in ("scores", "both"):
            rows = []
            for code in codes:
                scores = group[f"{code}_score"].fillna(0.0).to_numpy(dtype=float)
                low, high = poisson_binomial_interval(scores, level)
                rows.append({"code": code, "expected_segments": scores.sum(), "expected_share": scores.mean(),
                             "score_low": low / len(scores), "score_high": high / len(scores)})
            part = part.merge(pd.DataFrame(rows), on="code")
        parts.append(part)
    extra = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["kommune", "code"])
    attrs = dict(table.attrs)
    table = table.merge(extra, on=["kommune", "code"], how="left")
    table["few_segments"] = table["segments"] < min_segments
    documents = keyed.groupby(by)["document"].nunique()
    table["kommune_documents"] = table["kommune"].map(documents).fillna(0).astype(int)
    table["few_documents"] = table["kommune_documents"] < min_documents
    per_code, summary = _agreement(agreement, codes)
    if per_code:
        table["agreement"] = table["code"].map(per_code)
    table.attrs.update(attrs)
    table.attrs.update({"method": method, "level": level, "n_boot": n_boot, "min_segments": min_segments,
                        "min_documents": min_documents,
                        "agreement": summary})
    return table


def _agreement(agreement: Any, codes: Sequence[str]) -> tuple[dict[str, float], Any]:
    """Per-code values (if any) and a summary (overall value, or what was given) of the model's agreement."""
    if agreement is None:
        return {}, None
    if isinstance(agreement, pd.DataFrame):
        column = next((c for c in ("alpha", "kappa", "percent_agreement") if c in agreement), agreement.columns[0])
        values = agreement[column].dropna().astype(float).to_dict()
        per_code = {c: values[c] for c in codes if c in values}
        overall = values.get("overall", float(np.mean(list(per_code.values()))) if per_code else None)
        return per_code, {"measure": column, "overall": overall, "per_code": per_code}
    if isinstance(agreement, Mapping):
        per_code = {c: float(agreement[c]) for c in codes if c in agreement and _is_number(agreement[c])}
        return per_code, dict(agreement)
    return {}, agreement


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.floating | np.integer)


def describe_agreement(agreement: Any) -> str:
    """One Norwegian sentence about the model's agreement with human coders (empty when unknown)."""
    if agreement is None:
        return "Modellens samsvar med menneskelige kodere er ikke oppgitt."
    if isinstance(agreement, Mapping) and "overall" in agreement:
        measure = {"alpha": "Krippendorffs α", "kappa": "Cohens κ", "percent_agreement": "prosent samsvar"}.get(
            agreement.get("measure", ""), agreement.get("measure", "samsvar"))
        overall = agreement["overall"]
        return f"Modellens samsvar med menneskelige kodere på denne kodeboken: {measure} = {overall:.2f}."
    if _is_number(agreement):
        return f"Modellens samsvar med menneskelige kodere på denne kodeboken: {float(agreement):.2f}."
    return f"Modellens samsvar med menneskelige kodere: {agreement}."
