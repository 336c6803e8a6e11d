"""Agreement measures against published worked examples (to three decimals)."""

import math
import warnings

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


def _krippendorff_c_as(mapping, missing=None):
    """The published example with every value mapped through ``mapping`` and NaN replaced by ``missing``."""
    return [[missing if isinstance(v, float) and math.isnan(v) else mapping(v) for v in row] for row in KRIPPENDORFF_C]


def test_ordinal_alpha_with_numpy_integer_scalars():
    # Ordinal alpha depends only on the order of the values, so a monotone relabelling (1..5 -> 3..15) keeps the
    # published 0.815; as text "12" < "3", so values must be ordered as numbers, NumPy scalars included.
    data = _krippendorff_c_as(lambda v: np.int64(3 * v))
    assert round(krippendorff_alpha(data, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(_krippendorff_c_as(lambda v: np.float32(3 * v)), "ordinal"), 3) == 0.815


def test_ordinal_alpha_with_an_explicit_order_of_text_values():
    order = ["svært lav", "lav", "middels", "høy", "svært høy"]  # alphabetically: høy < lav < middels < ...
    data = _krippendorff_c_as(lambda v: order[int(v) - 1])
    assert round(krippendorff_alpha(data, "ordinal", order=order), 3) == 0.815
    assert round(krippendorff_alpha(data, "nominal"), 3) == 0.743
    with pytest.raises(ValueError, match="middels"):
        krippendorff_alpha(data, "ordinal", order=["lav", "høy"])


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT])
def test_every_kind_of_missing_value_is_missing_not_a_category(missing):
    data = _krippendorff_c_as(int, missing)
    assert round(krippendorff_alpha(data, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(data, "interval"), 3) == 0.849


def test_kappa_and_alpha_with_nullable_integer_series_match_sklearn_on_complete_pairs():
    from sklearn.metrics import cohen_kappa_score

    a = pd.Series([1, 0, 1, None, 0, 1, 0, 0, 1], dtype="Int64")
    b = pd.Series([1, 0, 0, 1, None, 1, 0, 1, 1], dtype="Int64")
    complete = a.notna() & b.notna()
    expected = cohen_kappa_score(a[complete].astype(int), b[complete].astype(int))
    assert cohen_kappa(list(a), list(b)) == pytest.approx(expected)
    as_float = [a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)]
    assert krippendorff_alpha([list(a), list(b)]) == pytest.approx(krippendorff_alpha(as_float))
    assert percent_agreement(list(a), list(b)) == pytest.approx(5 / 7)


def test_no_variation_is_undefined_not_perfect():
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score([0] * 8, [0] * 8))  # scikit-learn: undefined too
    assert math.isnan(cohen_kappa([0] * 8, [0] * 8))
    assert math.isnan(krippendorff_alpha([[0] * 8, [0] * 8]))
    assert math.isnan(krippendorff_alpha([[2, 2, None], [2, 2, 2]], "interval"))


def test_a_code_nobody_used_is_left_out_of_the_overall_mean_with_a_note():
    a = pd.DataFrame({"bolig": [1, 0, 1, 0, 1, 0, 0, 1], "okonomi": [0] * 8})
    b = pd.DataFrame({"bolig": [0, 1, 0, 1, 1, 0, 1, 0], "okonomi": [0] * 8})
    table = agreement_by_code({"A": a, "B": b}, ["bolig", "okonomi"])
    bolig_alpha = krippendorff_alpha([a["bolig"], b["bolig"]])
    assert bolig_alpha < 0
    assert math.isnan(table.loc["okonomi", "alpha"]) and math.isnan(table.loc["okonomi", "kappa"])
    assert "no variation" in table.loc["okonomi", "note"]
    assert table.loc["okonomi", "percent_agreement"] == 1.0  # agreement itself is defined
    assert table.loc["overall", "alpha"] == pytest.approx(bolig_alpha)
    assert "okonomi" in table.loc["overall", "note"] and table.attrs["undefined"] == ["okonomi"]


def test_units_and_percent_agreement_use_the_units_alpha_uses():
    # Krippendorff's example: 11 of the 12 units are coded by at least two observers (unit 12 by one); on 8 of
    # them every observer who coded it agrees (units 2, 6 and 8 differ).
    frames = {f"c{i}": pd.DataFrame({"verdi": row}) for i, row in enumerate(KRIPPENDORFF_C)}
    table = agreement_by_code(frames, ["verdi"])
    assert table.loc["verdi", "units"] == 11
    assert table.loc["verdi", "percent_agreement"] == pytest.approx(8 / 11)
    assert round(table.loc["verdi", "alpha"], 3) == 0.743
