"""Reliability statistics against published worked examples and a slow reference alpha."""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from itertools import permutations
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.reliability import (
    bootstrap_ci,
    cohen_kappa,
    coincidence_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    reliability_matrix,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: observers A-D
# (rows) x units 1-12 (columns), nominal values with missing data. Published: alpha nominal
# 0.743, ordinal 0.815, interval 0.849.
EXAMPLE_C: list[list[int | None]] = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Krippendorff (2011), example B: 2 observers x 10 units, binary. Published alpha 0.095.
EXAMPLE_B = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]

# Wikipedia, "Krippendorff's alpha", section "A computational example": coders A-C x 15 units,
# "*" = missing. Published: alpha nominal 0.691, interval 0.811.
WIKIPEDIA_ROWS = (
    "*  *  *  *  *  3  4  1  2  1  1  3  3  *  3",
    "1  *  2  1  3  3  4  3  *  *  *  *  *  *  *",
    "*  *  2  1  3  4  4  *  2  1  1  3  3  *  4",
)
WIKIPEDIA = [[None if v == "*" else int(v) for v in row.split()] for row in WIKIPEDIA_ROWS]

# Wikipedia, "Fleiss' kappa", worked example: 10 items x 5 categories, 14 raters. Published 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def cohen_example() -> tuple[list[str], list[str]]:
    """Wikipedia, "Cohen's kappa", worked example: 50 items, yes/yes 20, yes/no 5, no/yes 10,
    no/no 15 (rater A first). Published kappa 0.4."""
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    return [a for a, _ in pairs], [b for _, b in pairs]


def slow_alpha(data: Sequence[Sequence[Hashable | None]], level: str) -> float:
    """Krippendorff (2011) taken literally: pair loops per unit, explicit difference function."""
    coincidences: dict[tuple[Any, Any], float] = {}
    for column in zip(*data):
        values = [v for v in column if v is not None]
        if len(values) < 2:
            continue
        for i, j in permutations(range(len(values)), 2):
            key = (values[i], values[j])
            coincidences[key] = coincidences.get(key, 0.0) + 1.0 / (len(values) - 1)
    marginals: dict[Any, float] = {}
    for (c, _), o in coincidences.items():
        marginals[c] = marginals.get(c, 0.0) + o
    ranked = sorted(marginals)
    n = sum(marginals.values())

    def delta2(c: Any, k: Any) -> float:
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return float((c - k) ** 2)
        lo, hi = sorted((ranked.index(c), ranked.index(k)))
        between = sum(marginals[g] for g in ranked[lo : hi + 1])
        return (between - (marginals[c] + marginals[k]) / 2.0) ** 2

    observed = sum(o * delta2(c, k) for (c, k), o in coincidences.items()) / n
    expected = sum(
        marginals[c] * marginals[k] * delta2(c, k) for c in marginals for k in marginals
    ) / (n * (n - 1))
    return math.nan if expected == 0 else 1.0 - observed / expected


# --- Krippendorff's alpha: published values -------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_krippendorff_2011_example_c(level: str, published: float) -> None:
    assert round(krippendorff_alpha(EXAMPLE_C, level), 3) == published


def test_coincidence_matrix_krippendorff_2011_example_c() -> None:
    values, matrix = coincidence_matrix(EXAMPLE_C)

    third = 1 / 3
    # Hand computation, as tabulated in Krippendorff (2011) for example C; unit 12 (one value)
    # contributes nothing.
    expected = [
        [7, 1 + third, third, third, 0],
        [1 + third, 10, 1 + third, third, 0],
        [third, 1 + third, 8, third, 0],
        [third, third, third, 4, 0],
        [0, 0, 0, 0, 3],
    ]
    assert values == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(matrix, expected)
    np.testing.assert_allclose(matrix.sum(axis=1), [9, 13, 10, 5, 3])


def test_alpha_krippendorff_2011_example_b() -> None:
    assert round(krippendorff_alpha(EXAMPLE_B), 3) == 0.095


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.691), ("interval", 0.811)])
def test_alpha_wikipedia_example(level: str, published: float) -> None:
    assert round(krippendorff_alpha(WIKIPEDIA, level), 3) == published


# --- Krippendorff's alpha: edge cases -------------------------------------------------------


def test_perfect_agreement_gives_one() -> None:
    data = [["cat", "dog", "cat", None], ["cat", "dog", "cat", "dog"], [None, "dog", "cat", "dog"]]

    assert krippendorff_alpha(data) == 1.0


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_no_variation_gives_nan(level: str) -> None:
    assert math.isnan(krippendorff_alpha([[2, 2, 2, None], [2, 2, None, 2]], level))


def test_no_pairable_values_gives_nan() -> None:
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))
    assert math.isnan(krippendorff_alpha([]))


def test_unit_with_a_single_value_is_ignored() -> None:
    with_lonely_unit = [row + [value] for row, value in zip(EXAMPLE_B, [7, None])]

    assert krippendorff_alpha(with_lonely_unit) == pytest.approx(krippendorff_alpha(EXAMPLE_B))
    assert coincidence_matrix(with_lonely_unit)[1].shape == (3, 3)
    assert coincidence_matrix(with_lonely_unit)[1][2].sum() == 0


def test_nan_counts_as_missing() -> None:
    with_nan = [[math.nan if v is None else v for v in row] for row in EXAMPLE_C]

    assert krippendorff_alpha(with_nan) == pytest.approx(krippendorff_alpha(EXAMPLE_C))


def test_nominal_labels_of_mixed_types() -> None:
    data: list[list[Hashable | None]] = [["a", 1, "a", 2], ["a", 1, "b", 2]]

    # Coincidences: a-a 2, 1-1 2, 2-2 2, a-b 1, b-a 1; n = 8, n_a = 3, n_b = 1, n_1 = n_2 = 2.
    # D_o = 2/8, D_e = (64 - 9 - 1 - 4 - 4) / 56 = 46/56, so alpha = 1 - (2/8) / (46/56).
    assert krippendorff_alpha(data) == pytest.approx(1 - (2 / 8) / (46 / 56))
    with pytest.raises(ValueError, match="sorted"):
        krippendorff_alpha(data, "ordinal")


def test_interval_needs_numbers() -> None:
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha([["a", "b"], ["a", "c"]], "interval")


def test_rejects_unknown_level_and_ragged_rows() -> None:
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(EXAMPLE_B, "ratio")
    with pytest.raises(ValueError, match="one entry per unit"):
        krippendorff_alpha([[1, 2], [1]])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_vectorised_alpha_equals_slow_reference(level: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    coders, units = 5, 60
    truth = rng.integers(0, 6, size=units)
    noisy = np.where(rng.random((coders, units)) < 0.35, rng.integers(0, 6, (coders, units)), truth)
    missing = rng.random((coders, units)) < 0.3
    data: list[list[Hashable | None]] = [
        [None if missing[i, j] else int(noisy[i, j]) for j in range(units)] for i in range(coders)
    ]
    reference = slow_alpha(data, level)

    assert 0.2 < reference < 1.0  # a non-trivial case, so the comparison means something
    assert krippendorff_alpha(data, level) == pytest.approx(reference, rel=1e-12)


def test_vectorised_nominal_alpha_with_string_labels_equals_slow_reference() -> None:
    rng = np.random.default_rng(7)
    labels = np.array(["person", "animal", "vehicle", "sign"])
    picks = rng.integers(0, 4, size=(4, 80))
    missing = rng.random((4, 80)) < 0.4
    data: list[list[Hashable | None]] = [
        [None if missing[i, j] else str(labels[picks[i, j]]) for j in range(80)] for i in range(4)
    ]

    assert krippendorff_alpha(data) == pytest.approx(slow_alpha(data, "nominal"), rel=1e-12)


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_alpha_on_100k_units_is_exact(level: str) -> None:
    copies = 8334  # x 12 units of example C = 100,008 units
    data = [row * copies for row in EXAMPLE_C]
    single = krippendorff_alpha(EXAMPLE_C, level)

    alpha = krippendorff_alpha(data, level)

    # k copies scale o_ck and n_c by k, so 1 - alpha_k = (k n - 1) / (k (n - 1)) (1 - alpha),
    # with n = 40 pairable values in example C.
    n = 40
    assert alpha == pytest.approx(1 - (copies * n - 1) / (copies * (n - 1)) * (1 - single))


# --- Cohen's kappa --------------------------------------------------------------------------


def test_cohen_kappa_wikipedia_example() -> None:
    a, b = cohen_example()

    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_undefined_is_nan_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(cohen_kappa(["yes"] * 4, ["yes"] * 4))
    assert math.isnan(cohen_kappa([], []))


def test_cohen_kappa_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa(["a", "b"], ["a"])


# --- Fleiss' kappa --------------------------------------------------------------------------


def test_fleiss_kappa_wikipedia_example() -> None:
    assert round(fleiss_kappa(FLEISS_TABLE), 3) == 0.210
    assert round(fleiss_kappa(np.array(FLEISS_TABLE)), 3) == 0.210


def test_fleiss_kappa_for_two_raters_is_scotts_pi_and_matches_alpha() -> None:
    a, b = cohen_example()
    table = [
        [int(x == "yes") + int(y == "yes"), int(x == "no") + int(y == "no")] for x, y in zip(a, b)
    ]
    # Scott's pi by hand: p_o = 35/50; pooled yes share 55/100, so p_e = 0.55^2 + 0.45^2 = 0.505.
    pi = (0.7 - 0.505) / (1 - 0.505)
    # Nominal alpha for 2 coders and no missing data: D_e = n/(n-1) (1 - p_e) with n = 100
    # values, so alpha = 1 - (n - 1)/n (1 - pi) (Krippendorff 2004, ch. 11).
    alpha = krippendorff_alpha([a, b])

    assert fleiss_kappa(table) == pytest.approx(pi)
    assert alpha == pytest.approx(1 - 0.99 * (1 - pi))


def test_fleiss_kappa_all_in_one_category_is_nan() -> None:
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[3, 0], [2, 0]], "same number"),
        ([[1, 0], [0, 1]], "at least two"),
        ([[2, -1], [1, 0]], "non-negative"),
        ([], "non-empty"),
    ],
)
def test_fleiss_kappa_rejects_bad_tables(table: list[list[int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fleiss_kappa(table)


# --- bootstrap ------------------------------------------------------------------------------


def alpha_of_units(columns: Sequence[tuple[int | None, ...]]) -> float:
    return krippendorff_alpha([list(row) for row in zip(*columns)])


def test_bootstrap_ci_contains_alpha_and_is_reproducible() -> None:
    units = list(zip(*WIKIPEDIA))
    point = krippendorff_alpha(WIKIPEDIA)

    low, high = bootstrap_ci(units, alpha_of_units, resamples=400, seed=3)

    assert low < point < high
    assert -1.0 <= low and high <= 1.0
    assert bootstrap_ci(units, alpha_of_units, resamples=400, seed=3) == (low, high)
    assert bootstrap_ci(units, alpha_of_units, resamples=400, seed=4) != (low, high)


def test_bootstrap_ci_narrows_with_lower_confidence() -> None:
    units = list(range(30))

    def mean(sample: Sequence[int]) -> float:
        return float(np.mean(sample))

    wide = bootstrap_ci(units, mean, confidence=0.95)
    narrow = bootstrap_ci(units, mean, confidence=0.5)

    assert wide[0] < narrow[0] < 14.5 < narrow[1] < wide[1]


def test_bootstrap_ci_ignores_nan_results() -> None:
    # Unit 0 makes the statistic undefined; the draws without it all give 1.0.
    def statistic(sample: Sequence[int]) -> float:
        return math.nan if 0 in sample else 1.0

    assert bootstrap_ci([0, 1, 2], statistic, resamples=200) == (1.0, 1.0)


def test_bootstrap_ci_without_finite_results_is_nan() -> None:
    low, high = bootstrap_ci([1, 1, 1], lambda sample: math.nan, resamples=20)
    assert math.isnan(low) and math.isnan(high)
    low, high = bootstrap_ci([], lambda sample: 1.0)
    assert math.isnan(low) and math.isnan(high)


def test_bootstrap_ci_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_ci([1, 2], lambda s: 0.0, resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1, 2], lambda s: 0.0, confidence=1.0)


# --- reliability_matrix ---------------------------------------------------------------------


def test_reliability_matrix_from_long_table() -> None:
    frame = pd.DataFrame(
        {
            "image": ["b.jpg", "a.jpg", "a.jpg", "b.jpg", "c.jpg"],
            "annotator": ["bob", "bob", "ann", "ann", "ann"],
            "label": ["cat", "dog", "dog", None, "cat"],
        }
    )

    data = reliability_matrix(frame, unit="image", coder="annotator", value="label")

    assert data.coders == ["bob", "ann"]
    assert data.units == ["b.jpg", "a.jpg", "c.jpg"]
    assert data.matrix == [["cat", "dog", None], [None, "dog", "cat"]]


def test_reliability_matrix_round_trip_of_example_c() -> None:
    rows = [
        {"unit": u, "coder": "ABCD"[c], "value": v}
        for c, row in enumerate(EXAMPLE_C)
        for u, v in enumerate(row)
        if v is not None
    ]
    frame = pd.DataFrame(rows)

    data = reliability_matrix(frame)

    assert data.coders == ["A", "B", "C", "D"]
    assert round(krippendorff_alpha(data.matrix), 3) == 0.743


def test_reliability_matrix_rejects_two_values_from_one_coder() -> None:
    frame = pd.DataFrame({"unit": [1, 1], "coder": ["ann", "ann"], "value": ["cat", "dog"]})

    with pytest.raises(ValueError, match="more than one value"):
        reliability_matrix(frame)
