"""Agreement measures against published worked examples (to three decimals)."""

import math

import numpy as np
import pandas as pd
import pytest

from qualkit.agree import (
    agreement_by_code,
    cohen_kappa,
    disagreements,
    krippendorff_alpha,
    pairwise_agreement,
    percent_agreement,
)

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders, 12 units, missing values.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_published_example_with_missing_values(level, expected):
    assert round(krippendorff_alpha(KRIPPENDORFF_C, level), 3) == expected


def test_krippendorff_binary_two_coders_example():
    # Krippendorff (2011), section A: two observers, binary data, ten units: alpha = 0.095.
    data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert round(krippendorff_alpha(data), 3) == 0.095


def test_krippendorff_nominal_with_strings_and_none():
    data = [["a", "b", None, "a"], ["a", "b", "b", "a"]]
    assert krippendorff_alpha(data) == 1.0
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))


def test_cohen_kappa_textbook_example():
    # 50 units: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.70, pe 0.50, kappa 0.40.
    a = ["ja"] * 25 + ["nei"] * 25
    b = ["ja"] * 20 + ["nei"] * 5 + ["ja"] * 10 + ["nei"] * 15
    assert round(cohen_kappa(a, b), 3) == 0.400
    assert percent_agreement(a, b) == pytest.approx(0.70)


def test_kappa_equals_alpha_closely_for_two_coders_binary():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 400)
    b = np.where(rng.random(400) < 0.85, a, 1 - a)
    assert abs(cohen_kappa(a, b) - krippendorff_alpha([a, b])) < 0.01


def test_agreement_by_code_and_disagreements():
    a = pd.DataFrame({"bolig": [1, 0, 1, 0], "okonomi": [0, 0, 1, 1]}, index=["s1", "s2", "s3", "s4"])
    b = pd.DataFrame({"bolig": [1, 0, 1, 0], "okonomi": [0, 1, 1, 1]}, index=["s1", "s2", "s3", "s4"])
    table = agreement_by_code({"A": a, "B": b}, ["bolig", "okonomi"])
    assert table.loc["bolig", "alpha"] == 1.0
    assert table.loc["okonomi", "percent_agreement"] == 0.75
    assert table.loc["okonomi", "kappa"] == pytest.approx(cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]))
    differ = disagreements({"A": a, "B": b}, ["bolig", "okonomi"])
    assert differ[["unit", "code", "A", "B"]].values.tolist() == [["s2", "okonomi", 0, 1]]
    pairs = pairwise_agreement({"A": a, "B": b, "model": b}, ["bolig"])
    assert set(zip(pairs.coder_a, pairs.coder_b, strict=True)) == {("A", "B"), ("A", "model"), ("B", "model")}
