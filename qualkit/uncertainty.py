"""Uncertainty of theme tables: intervals per theme × kommune cell and flags for thin cells.

Two sources of uncertainty, each giving an interval for the share (and count) of a kommune's segments:

- **sampling, with documents as clusters** (``share_low``/``share_high``, column ``interval``): segments from one
  conversation are not independent, so the Korn–Graubard interval is used: Clopper–Pearson on the *effective*
  number of segments ``n / deff``, where ``deff`` (Kish's design effect, never below 1) compares the
  between-document variance of the share (a ratio estimator with documents as clusters) with the binomial
  variance, adjusted for the degrees of freedom (documents − 1). It is never degenerate: 0 of 120 segments
  still gives an upper bound above 0. A kommune with fewer than ``min_documents`` documents
  cannot show how documents differ; it gets the plain Wilson interval over its segments (``interval = "wilson"``,
  ``few_documents = True``), which is too narrow when documents differ. Counts are ``share × kommune_segments``,
  so they never exceed the kommune's total.
- **the model's scores** (``score_low``/``score_high``, only when the ``<code>_score`` columns are calibrated
  probabilities, i.e. from the classifier): the true number of segments with the theme follows a
  Poisson-binomial distribution; its central interval is reported, with the expected count (sum of scores). The
  keyword coder's scores (``hits / (hits + 1)``) are not probabilities and get no such interval.

Cells that rest on fewer than ``min_segments`` coded segments are flagged (``few_segments``). The model's
agreement with human coders, when known, is stored in ``table.attrs["agreement"]`` (and per code in the
column ``agreement`` when given per code).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from qualkit.aggregate import filter_segments, keyed_segments, resolve_by, themes_by_kommune

INTERVAL_COLUMNS = ["share_low", "share_high", "segments_low", "segments_high", "design_effect", "interval"]
SCORE_COLUMNS = ["expected_segments", "expected_share", "score_low", "score_high", "unscored_segments"]


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


def design_effect(coded: Sequence[float] | np.ndarray, sizes: Sequence[float] | np.ndarray) -> float:
    """Kish's design effect of the share ``sum(coded) / sum(sizes)`` when segments come in documents (clusters):
    the cluster-robust variance of the ratio estimator over the binomial variance, never below 1.

    1 when it cannot be estimated (one document, or a share of 0 or 1: no variation to compare).
    """
    coded, sizes = np.asarray(coded, dtype=float), np.asarray(sizes, dtype=float)
    m, n = len(sizes), sizes.sum()
    p = coded.sum() / n if n else 0.0
    if m < 2 or p <= 0 or p >= 1:
        return 1.0
    between = m / (m - 1) * np.sum((coded - p * sizes) ** 2) / n**2
    return max(1.0, float(between / (p * (1 - p) / n)))


def korn_graubard_interval(
    coded: Sequence[float] | np.ndarray, sizes: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Interval for the share of segments with a theme when segments come in documents (clusters).

    ``coded[i]`` of the ``sizes[i]`` segments of document ``i`` have the theme. Korn & Graubard (1998), as in
    the NCHS data presentation standards for proportions (2017): the Clopper–Pearson interval on the effective
    sample size ``n / deff`` (:func:`design_effect`), shrunk by ``(z / t)²`` with t on (documents − 1) degrees
    of freedom, so that few documents give a wide interval. Coverage is checked by simulation in
    ``tests/test_uncertainty.py``.

    >>> low, high = korn_graubard_interval([0] * 6, [20] * 6)    # 0 of 120 segments in six documents
    >>> low, round(high, 3)
    (0.0, 0.052)
    """
    coded, sizes = np.asarray(coded, dtype=float), np.asarray(sizes, dtype=float)
    n, documents = float(sizes.sum()), len(sizes)
    if n == 0:
        return 0.0, 1.0
    alpha = 1 - level
    effective = n / design_effect(coded, sizes)
    if documents >= 2:
        effective *= (stats.norm.ppf(1 - alpha / 2) / stats.t.ppf(1 - alpha / 2, documents - 1)) ** 2
    k = coded.sum() / n * effective
    low = 0.0 if k <= 0 else float(stats.beta.ppf(alpha / 2, k, effective - k + 1))
    high = 1.0 if k >= effective else float(stats.beta.ppf(1 - alpha / 2, k + 1, effective - k))
    return low, high


def wilson_interval(k: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (segments treated as independent), within [0, 1]."""
    if n == 0:
        return 0.0, 1.0
    return wilson_score(k / n, n, _normal_quantile(level))


def wilson_score(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for an observed share ``p`` of ``n`` (``n`` may be an effective, non-integer size)
    with quantile ``z``, clipped to [0, 1] (rounding can otherwise give -1e-17)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _normal_quantile(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def document_bounds(
    group: pd.DataFrame, codes: Sequence[str], level: float = 0.95, min_documents: int = 3
) -> pd.DataFrame:
    """Share and count bounds per code for one kommune: :func:`korn_graubard_interval` over its documents
    (``interval = "korn_graubard"``), or :func:`wilson_interval` over its segments when it has fewer than
    ``min_documents`` documents (``interval = "wilson"``). Counts are shares × the kommune's segments."""
    per_document = group.groupby("document")[list(codes)].sum()
    sizes = group.groupby("document").size().reindex(per_document.index).to_numpy(dtype=float)
    n = len(group)
    clustered = len(sizes) >= min_documents
    rows = []
    for code in codes:
        coded = per_document[code].to_numpy(dtype=float)
        if clustered:
            low, high = korn_graubard_interval(coded, sizes, level)
        else:
            low, high = wilson_interval(coded.sum(), n, level)
        rows.append({"code": code, "share_low": low, "share_high": high, "segments_low": low * n,
                     "segments_high": high * n, "design_effect": design_effect(coded, sizes) if clustered else 1.0,
                     "interval": "korn_graubard" if clustered else "wilson"})
    return pd.DataFrame(rows)


def scores_are_probabilities(segments: pd.DataFrame, codes: Sequence[str], coder_name: str = "") -> bool:
    """Whether the ``<code>_score`` columns can be read as calibrated probabilities (the classifier's).

    False without score columns, for the keyword coder (``coder_name`` starting with ``keywords``) and, when the
    coder is not named, for scores that all have the keyword coder's form ``hits / (hits + 1)`` (0, ½, ⅔, …).
    """
    columns = [f"{code}_score" for code in codes]
    if not codes or not all(c in segments for c in columns):
        return False
    if coder_name.lower().startswith("keyword"):
        return False
    values = segments[columns].to_numpy(dtype=float).ravel()
    values = values[~np.isnan(values) & (values < 1)]
    hits = values / (1 - values)
    return not (len(values) and np.allclose(hits, np.round(hits), atol=1e-9))


METHODS = ("documents", "scores", "both", "auto")


def theme_intervals(
    segments: pd.DataFrame,
    codes: Sequence[str],
    labels: Mapping[str, str] | None = None,
    by: str = "kommune",
    method: str = "auto",
    level: float = 0.95,
    min_segments: int = 5,
    agreement: Any = None,
    min_documents: int = 3,
    coder_name: str = "",
    **filters,
) -> pd.DataFrame:
    """:func:`qualkit.aggregate.themes_by_kommune` with an interval per cell and a flag for thin cells.

    ``method``: ``documents`` (Korn–Graubard interval with documents as clusters, see :func:`document_bounds`;
    ``interval`` says which interval each cell got), ``scores`` (Poisson-binomial of the model's scores),
    ``both``, or ``auto`` (documents, plus scores when they are probabilities: see
    :func:`scores_are_probabilities`, which uses ``coder_name``). ``table.attrs["method"]`` records the
    method used and ``table.attrs["scores"]`` why there are no score intervals (``"keyword"``: the coder's
    scores are not probabilities).
    ``min_segments``: cells with fewer coded segments get ``few_segments = True``; kommuner with fewer than
    ``min_documents`` documents get ``few_documents = True`` and a plain Wilson interval.
    Segments without a score are left out of the score interval of their code (``unscored_segments`` counts
    them, with a warning) rather than counted as score 0.
    ``agreement``: the model's
    agreement with human coders on this codebook — a number, a dict {code: value}, or the frame of
    :func:`qualkit.agree.agreement_by_code` (its ``alpha`` column, else ``kappa``); kept in
    ``table.attrs["agreement"]`` and, when given per code, in an ``agreement`` column.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    by = resolve_by(by)
    if filters:
        segments = filter_segments(segments, **filters)
    table = themes_by_kommune(segments, codes, labels, by)
    has_scores = all(f"{code}_score" in segments for code in codes)
    probabilities = scores_are_probabilities(segments, codes, coder_name)
    scores_note = None if probabilities or not has_scores else "keyword"
    if method == "auto":
        method = "both" if probabilities else "documents"
    if method in ("scores", "both") and not has_scores:
        raise KeyError("score intervals need a <code>_score column for every code (codes from a model)")
    if method in ("scores", "both") and not probabilities:
        raise ValueError("the <code>_score columns are keyword hit scores (hits / (hits + 1)), not probabilities: "
                         "score intervals need a classifier's scores; use method='documents'")
    keyed = keyed_segments(segments, by)
    parts = []
    for kommune, group in keyed.groupby(by, sort=True):
        part = pd.DataFrame({"kommune": kommune, "code": list(codes)})
        if method in ("documents", "both"):
            part = part.merge(document_bounds(group, codes, level, min_documents), on="code")
        if method in ("scores", "both"):
            part = part.merge(score_bounds(group, codes, level, str(kommune)), on="code")
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
    table.attrs.update({"method": method, "level": level, "min_segments": min_segments,
                        "min_documents": min_documents, "scores": scores_note, "agreement": summary})
    return table


def score_bounds(group: pd.DataFrame, codes: Sequence[str], level: float = 0.95, kommune: str = "") -> pd.DataFrame:
    """Expected count and share and the Poisson-binomial interval per code from one kommune's model scores.

    Segments without a score (NaN) are left out of their code's score columns (not counted as 0) and counted in
    ``unscored_segments``; a warning says how many."""
    rows = []
    for code in codes:
        scores = group[f"{code}_score"].to_numpy(dtype=float)
        missing = int(np.isnan(scores).sum())
        if missing:
            warnings.warn(f"{kommune}: {missing} of {len(scores)} segments have no {code}_score; they are left out "
                          f"of the model interval for {code}", stacklevel=3)
        scores = scores[~np.isnan(scores)]
        row = {"code": code, "expected_segments": scores.sum(), "expected_share": float("nan"),
               "score_low": float("nan"), "score_high": float("nan"), "unscored_segments": missing}
        if len(scores):
            low, high = poisson_binomial_interval(scores, level)
            row.update(expected_share=scores.mean(), score_low=low / len(scores), score_high=high / len(scores))
        rows.append(row)
    return pd.DataFrame(rows)


def _agreement(agreement: Any, codes: Sequence[str]) -> tuple[dict[str, float], Any]:
    """Per-code values (if any) and a summary (overall value, or what was given) of the model's agreement."""
    if agreement is None:
        return {}, None
    if isinstance(agreement, pd.DataFrame):
        column = next((c for c in ("alpha", "kappa", "percent_agreement") if c in agreement), agreement.columns[0])
        values = agreement[column].dropna().astype(float).to_dict()
        per_code = {c: values[c] for c in codes if c in values}
        overall = values.get("overall", float(np.mean(list(per_code.values()))) if per_code else float("nan"))
        return per_code, {"measure": column, "overall": overall, "per_code": per_code}
    if isinstance(agreement, Mapping):
        per_code = {c: float(agreement[c]) for c in codes if c in agreement and _is_number(agreement[c])}
        return per_code, dict(agreement)
    return {}, agreement


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.floating | np.integer)


def describe_agreement(agreement: Any) -> str:
    """One Norwegian sentence about the model's agreement with human coders (empty when unknown).

    An undefined value (NaN: no variation in the codings) is shown as «–» with the reason."""
    if agreement is None:
        return "Modellens samsvar med menneskelige kodere er ikke oppgitt."
    if isinstance(agreement, Mapping) and "overall" in agreement:
        measure = {"alpha": "Krippendorffs α", "kappa": "Cohens κ", "percent_agreement": "prosent samsvar"}.get(
            agreement.get("measure", ""), agreement.get("measure", "samsvar"))
        return f"Modellens samsvar med menneskelige kodere på denne kodeboken: {measure} = " \
               f"{format_agreement(agreement['overall'])}."
    if _is_number(agreement):
        return f"Modellens samsvar med menneskelige kodere på denne kodeboken: {format_agreement(agreement)}."
    return f"Modellens samsvar med menneskelige kodere: {agreement}."


def format_agreement(value: Any) -> str:
    """κ or α with two decimals; «–» (ikke definert) when undefined or missing."""
    if value is None or not _is_number(value) or math.isnan(float(value)):
        return "– (ikke definert: ingen variasjon i kodingene)"
    return f"{float(value):.2f}"
