"""Intervals per theme × kommune cell: exact where it can be checked by hand, and covering the truth in simulation."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qualkit.uncertainty import (
    describe_agreement,
    design_effect,
    document_bounds,
    korn_graubard_interval,
    poisson_binomial_interval,
    poisson_binomial_pmf,
    scores_are_probabilities,
    theme_intervals,
)


def test_poisson_binomial_equals_enumeration():
    probabilities = [0.1, 0.5, 0.8, 0.3]
    expected = np.zeros(5)
    for outcome in itertools.product([0, 1], repeat=4):
        expected[sum(outcome)] += np.prod([p if o else 1 - p for p, o in zip(probabilities, outcome, strict=True)])
    assert poisson_binomial_pmf(probabilities) == pytest.approx(expected)
    assert poisson_binomial_interval([1.0] * 5) == (5, 5)
    assert poisson_binomial_interval([0.0] * 5) == (0, 0)
    low, high = poisson_binomial_interval([0.5] * 100)
    assert (low, high) == (40, 60)  # binomial(100, 0.5): central 95 %


def _segments(documents, kommune="K", code_values=None):
    rows = []
    for d, values in enumerate(documents):
        for i, v in enumerate(values):
            rows.append({"document": f"{kommune}{d}.md", "kommune": kommune, "speaker": f"S{i % 3}", "bolig": int(v)})
    return pd.DataFrame(rows)


def _textbook_wilson(k, n, z):
    """Wilson (1927) score interval, written out independently of qualkit."""
    p = k / n
    centre = (2 * k + z**2) / (2 * (n + z**2))
    half = z / (n + z**2) * np.sqrt(n * p * (1 - p) + z**2 / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def _nchs_korn_graubard(k, n, documents, deff=1.0):
    """The Korn–Graubard interval as the NCHS data presentation standards for proportions (2017) write it."""
    z, t = stats.norm.ppf(0.975), stats.t.ppf(0.975, documents - 1)
    n_star = n / deff * (z / t) ** 2
    x = k / n * n_star
    low = stats.beta.ppf(0.025, x, n_star - x + 1) if x > 0 else 0.0
    high = stats.beta.ppf(0.975, x + 1, n_star - x) if x < n_star else 1.0
    return low, high


def test_many_alike_documents_give_the_exact_binomial_interval():
    # Documents that all look alike carry no between-document variance (design effect 1), and with 400 of them
    # t ≈ z: the interval is then the Clopper–Pearson interval of 400 of 1600 segments.
    table = _segments([[1, 0, 0, 0]] * 400)
    bounds = document_bounds(table, ["bolig"]).iloc[0]
    exact = stats.binomtest(400, 1600).proportion_ci(0.95, method="exact")
    assert bounds["design_effect"] == 1.0 and bounds["interval"] == "korn_graubard"
    assert (bounds["share_low"], bounds["share_high"]) == pytest.approx((exact.low, exact.high), rel=2e-3)
    assert (bounds["segments_low"], bounds["segments_high"]) == pytest.approx((exact.low * 1600, exact.high * 1600),
                                                                              rel=2e-3)


@pytest.mark.parametrize(("documents", "k", "n"), [([[0] * 20] * 6, 0, 120), ([[1] * 3 + [0] * 12] * 3, 9, 45),
                                                   ([[1] * 20] * 6, 120, 120)])
def test_no_zero_width_intervals(documents, k, n):
    """0 of 120, three documents with 3 of 15 each, and 120 of 120: the data do not make the share certain."""
    out = theme_intervals(_segments(documents), ["bolig"]).iloc[0]
    assert (out["share_low"], out["share_high"]) == pytest.approx(_nchs_korn_graubard(k, n, len(documents)))
    assert out["share_high"] - out["share_low"] > 0.02
    assert 0.0 <= out["share_low"] <= out["share"] <= out["share_high"] <= 1.0


def test_counts_never_exceed_the_kommune_total():
    # One long document fully coded, three short ones not coded: 100 of 115 segments.
    table = _segments([[1] * 100, [0] * 5, [0] * 5, [0] * 5])
    out = theme_intervals(table, ["bolig"]).iloc[0]
    assert out["kommune_segments"] == 115
    assert out["segments_high"] <= 115 and out["segments_low"] >= 0
    assert out["segments_high"] == pytest.approx(out["share_high"] * 115)
    assert out["segments_low"] == pytest.approx(out["share_low"] * 115)
    deff = out["design_effect"]
    assert deff > 1
    assert (out["share_low"], out["share_high"]) == pytest.approx(_nchs_korn_graubard(100, 115, 4, deff))


def test_design_effect_is_the_cluster_variance_over_the_binomial_variance():
    coded, sizes = np.array([9.0, 1.0, 5.0, 0.0]), np.array([10.0, 10.0, 10.0, 10.0])
    p = coded.sum() / sizes.sum()
    cluster_means = coded / sizes  # equal sizes: the ratio estimator's variance is that of the document means
    var_cluster = np.var(cluster_means, ddof=1) / len(sizes)
    assert design_effect(coded, sizes) == pytest.approx(var_cluster / (p * (1 - p) / sizes.sum()))
    assert design_effect([2, 2, 2], [10, 10, 10]) == 1.0  # less spread than binomial: never below 1


def _coverage(rate, concentration, documents, size, rng, runs=400):
    hits, zero_width = 0, 0
    for _ in range(runs):
        sizes = rng.integers(3, 40, documents) if size == "varied" else np.full(documents, size)
        rates = rng.beta(rate * concentration, (1 - rate) * concentration, documents) if concentration else rate
        coded = rng.binomial(sizes, rates)
        low, high = korn_graubard_interval(coded, sizes)
        hits += low <= rate <= high
        zero_width += high - low < 1e-9
    return hits / runs, zero_width


@pytest.mark.parametrize(
    ("rate", "concentration", "documents", "size"),
    [(0.01, None, 6, 20), (0.02, None, 6, 20), (0.3, None, 3, 15),  # independent segments, rare themes
     (0.3, 20, 30, 12), (0.3, 5, 6, 20), (0.1, 5, 6, 20), (0.2, 5, 3, 15),  # documents differ (clustered)
     (0.05, 10, 10, 30), (0.3, 2, 12, 20), (0.5, 20, 4, 40), (0.03, 5, 20, "varied")],
)
def test_interval_covers_the_true_rate_in_simulation(rate, concentration, documents, size):
    """Nominal 95 %: the interval covers the true rate in ≥ 90 % of 400 simulated kommuner, with independent
    segments and with documents whose rates vary (Beta with the given concentration), for rare themes and for
    as few as three documents. The old percentile bootstrap covered a 1 % rate in 67 % of them; Wilson with the
    design effect (no degrees-of-freedom adjustment) 88 % for a rare theme concentrated in a few of 20 documents."""
    coverage, zero_width = _coverage(rate, concentration, documents, size, np.random.default_rng(7))
    assert coverage >= 0.90
    assert zero_width == 0


def test_flags_agreement_and_wilson_fallback():
    table = pd.concat([_segments([[1, 0, 0], [1, 1, 0], [0, 0, 0]], "A"), _segments([[1, 1, 1, 0]], "B")])
    table["okonomi"] = 0
    agreement = pd.DataFrame({"alpha": [0.8, 0.6, 0.7]}, index=pd.Index(["bolig", "okonomi", "overall"], name="code"))
    out = theme_intervals(table, ["bolig", "okonomi"], min_segments=3, agreement=agreement)
    out = out.set_index(["kommune", "code"])
    assert out.loc[("A", "bolig"), ["segments", "few_segments", "interval", "few_documents"]].tolist() == [
        3, False, "korn_graubard", False]
    assert out.loc[("B", "bolig"), ["interval", "few_documents", "kommune_documents"]].tolist() == ["wilson", True, 1]
    assert out.loc[("A", "okonomi"), "few_segments"]
    assert out.loc[("A", "bolig"), "share_low"] <= 3 / 9 <= out.loc[("A", "bolig"), "share_high"]
    assert out.loc[("B", "bolig"), ["share_low", "share_high"]].tolist() == pytest.approx(
        _textbook_wilson(3, 4, stats.norm.ppf(0.975)))
    assert out.loc[("A", "okonomi"), "agreement"] == 0.6
    assert out.attrs["agreement"]["overall"] == 0.7
    assert "0.70" in describe_agreement(out.attrs["agreement"])
    with pytest.raises(KeyError, match="score"):
        theme_intervals(table, ["bolig"], method="scores")


def test_keyword_hit_scores_are_recognised_as_not_probabilities():
    hits = np.array([0, 1, 2, 0, 5, 3])
    table = pd.DataFrame({"bolig_score": hits / (hits + 1)})
    assert not scores_are_probabilities(table, ["bolig"])
    assert scores_are_probabilities(table.assign(bolig_score=[0.1, 0.52, 0.9, 0.03, 0.7, 0.66]), ["bolig"])
    assert not scores_are_probabilities(table.assign(bolig_score=0.37), ["bolig"], coder_name="keywords:x@1")
    assert not scores_are_probabilities(table, ["bolig", "okonomi"])  # no okonomi_score column


def test_score_interval_covers_the_true_count():
    """If the model's scores are calibrated, the true number of segments with the theme lies in the
    Poisson-binomial interval in ≥ 90 % (nominal 95 %) of 200 simulated kommuner."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        scores = rng.beta(0.6, 1.4, size=80)
        truth = (rng.random(80) < scores).sum()
        low, high = poisson_binomial_interval(scores)
        hits += low <= truth <= high
    assert hits / 200 >= 0.90


def test_theme_intervals_with_scores():
    table = _segments([[1, 0, 1], [0, 0, 1], [1, 1, 1]])
    table["bolig_score"] = [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6, 0.9, 0.95]
    out = theme_intervals(table, ["bolig"]).iloc[0]
    assert out["expected_segments"] == pytest.approx(5.45)
    assert out["expected_share"] == pytest.approx(5.45 / 9)
    assert out["score_low"] <= out["expected_share"] <= out["score_high"]
    assert out["few_segments"] is False or out["few_segments"] == np.False_


def test_wilson_bounds_stay_within_zero_and_one():
    from qualkit.cooccurrence import compare_profiles
    from qualkit.uncertainty import wilson_interval

    assert wilson_interval(0, 59)[0] == 0.0 and wilson_interval(59, 59)[1] == 1.0  # not -7e-18 («-0%»)
    table = pd.concat([_segments([[0] * 59], "A"), _segments([[1, 0] * 10], "B")])
    assert (compare_profiles(table, ["bolig"])["share"] >= 0).all()
