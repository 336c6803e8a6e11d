"""Intervals per theme × kommune cell: exact where it can be checked by hand, and covering the truth in simulation."""

import itertools

import numpy as np
import pandas as pd
import pytest

from qualkit.uncertainty import (
    bootstrap_documents,
    describe_agreement,
    poisson_binomial_interval,
    poisson_binomial_pmf,
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


def test_identical_documents_give_no_bootstrap_spread():
    table = _segments([[1, 0, 0, 1]] * 4)
    bounds = bootstrap_documents(table, ["bolig"], n_boot=200).iloc[0]
    assert bounds["share_low"] == bounds["share_high"] == 0.5
    assert bounds["segments_low"] == bounds["segments_high"] == 8


def test_flags_agreement_and_wilson_fallback():
    table = pd.concat([_segments([[1, 0, 0], [1, 1, 0], [0, 0, 0]], "A"), _segments([[1, 1, 1, 0]], "B")])
    table["okonomi"] = 0
    agreement = pd.DataFrame({"alpha": [0.8, 0.6, 0.7]}, index=pd.Index(["bolig", "okonomi", "overall"], name="code"))
    out = theme_intervals(table, ["bolig", "okonomi"], min_segments=3, agreement=agreement, n_boot=200)
    out = out.set_index(["kommune", "code"])
    assert out.loc[("A", "bolig"), ["segments", "few_segments", "interval", "few_documents"]].tolist() == [
        3, False, "bootstrap", False]
    assert out.loc[("B", "bolig"), ["interval", "few_documents", "kommune_documents"]].tolist() == ["wilson", True, 1]
    assert out.loc[("A", "okonomi"), "few_segments"]
    assert out.loc[("A", "bolig"), "share_low"] <= 3 / 9 <= out.loc[("A", "bolig"), "share_high"]
    assert out.loc[("B", "bolig"), "share_low"] < 0.75 < out.loc[("B", "bolig"), "share_high"]
    assert out.loc[("A", "okonomi"), "agreement"] == 0.6
    assert out.attrs["agreement"]["overall"] == 0.7
    assert "0.70" in describe_agreement(out.attrs["agreement"])
    with pytest.raises(KeyError, match="score"):
        theme_intervals(table, ["bolig"], method="scores")


def test_document_bootstrap_covers_the_true_rate():
    """Documents differ (their rates vary around the kommune's), so segments are clustered: the interval from
    resampling documents should still cover the true rate in ≥ 90 % of 200 simulated kommuner."""
    rng = np.random.default_rng(7)
    true_rate, hits = 0.3, 0
    for _ in range(200):
        rates = rng.beta(true_rate * 20, (1 - true_rate) * 20, size=30)  # 30 documents, 12 segments each
        table = _segments([rng.random(12) < r for r in rates])
        bounds = bootstrap_documents(table, ["bolig"], n_boot=400, rng=rng).iloc[0]
        hits += bounds["share_low"] <= true_rate <= bounds["share_high"]
    assert hits / 200 >= 0.90


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
    out = theme_intervals(table, ["bolig"], n_boot=100).iloc[0]
    assert out["expected_segments"] == pytest.approx(5.45)
    assert out["expected_share"] == pytest.approx(5.45 / 9)
    assert out["score_low"] <= out["expected_share"] <= out["score_high"]
    assert out["few_segments"] is False or out["few_segments"] == np.False_
