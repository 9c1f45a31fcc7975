"""Inter-rater reliability: Krippendorff's alpha, Cohen's and Fleiss' kappa, bootstrap intervals.

Krippendorff's alpha follows the coincidence-matrix procedure of K. Krippendorff (2011),
"Computing Krippendorff's Alpha-Reliability", Annenberg School for Communication, University of
Pennsylvania (https://repository.upenn.edu/asc_papers/43), and K. Krippendorff (2004), Content
Analysis: An Introduction to Its Methodology, 2nd ed., Sage, ch. 11. Cohen's kappa is J. Cohen
(1960), Educational and Psychological Measurement 20(1):37-46; Fleiss' kappa is J. L. Fleiss
(1971), Psychological Bulletin 76(5):378-382.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

T = TypeVar("T")

LEVELS = ("nominal", "ordinal", "interval")


class ReliabilityData(NamedTuple):
    """A coders x units matrix (None = missing) with the coder and unit behind each row/column."""

    matrix: list[list[Any]]
    coders: list[Any]
    units: list[Any]


class _Coincidences(NamedTuple):
    values: list[Any]
    ordered: bool  # values are in ascending order
    matrix: sparse.csr_matrix  # o_ck, V x V
    marginals: np.ndarray  # n_c = sum_k o_ck


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _coincidences(data: Sequence[Sequence[Hashable | None]]) -> _Coincidences:
    rows = [list(row) for row in data]
    units = len(rows[0]) if rows else 0
    if any(len(row) != units for row in rows):
        raise ValueError("every coder's row must have one entry per unit")
    flat = np.empty(len(rows) * units, dtype=object)
    flat[:] = [value for row in rows for value in row]
    codes, uniques = pd.factorize(flat)  # None and NaN get code -1
    found = list(uniques)
    try:
        order = sorted(range(len(found)), key=found.__getitem__)
        ordered = True
    except TypeError:  # mixed, unorderable values: fine for nominal data, not for ordinal
        order = list(range(len(found)))
        ordered = False
    values = [found[i] for i in order]
    new_code = np.empty(len(order), dtype=np.intp)
    new_code[order] = np.arange(len(order))
    present = codes >= 0
    codes = np.where(present, new_code[np.where(present, codes, 0)], -1) if found else codes
    return _coincidences_of(codes.reshape(len(rows), units), values, ordered)


def _coincidences_of(codes: np.ndarray, values: list[Any], ordered: bool) -> _Coincidences:
    """The coincidences of a coders x units matrix of codes into values (-1: missing)."""
    units = codes.shape[1]
    flat = codes.ravel()
    present = flat >= 0
    unit_index = np.tile(np.arange(units), codes.shape[0])[present]
    counts = sparse.csr_matrix(
        (np.ones(int(present.sum())), (unit_index, flat[present])),
        shape=(units, len(values)),
    )
    pairable = np.asarray(counts.sum(axis=1)).ravel()
    # A unit coded once has no pair to compare, so it contributes nothing (Krippendorff 2011).
    weights = np.where(pairable >= 2, 1.0 / np.maximum(pairable - 1.0, 1.0), 0.0)
    weighted = sparse.diags(weights) @ counts
    diagonal = np.asarray(weighted.sum(axis=0)).ravel()
    matrix = (counts.T @ weighted - sparse.diags(diagonal)).tocsr()
    matrix.eliminate_zeros()
    marginals = np.asarray(matrix.sum(axis=1)).ravel()
    return _Coincidences(values, ordered, matrix, marginals)


def coincidence_matrix(
    data: Sequence[Sequence[Hashable | None]],
) -> tuple[list[Any], np.ndarray]:
    """The values (sorted when orderable) and the dense V x V coincidence matrix o_ck.

    o_ck = sum over units u of (number of ordered c-k pairs of values in u) / (m_u - 1), where
    m_u is the number of values in u; units with m_u < 2 are dropped (Krippendorff 2011).
    """
    found = _coincidences(data)
    return found.values, found.matrix.toarray()


def krippendorff_alpha(data: Sequence[Sequence[Hashable | None]], level: str = "nominal") -> float:
    """Krippendorff's alpha = 1 - D_o / D_e for a coders x units matrix (None or NaN = missing).

    From the coincidences o_ck and marginals n_c (n = sum n_c pairable values):
    D_o = sum_ck o_ck d2(c, k) / n and D_e = sum_ck n_c n_k d2(c, k) / (n (n - 1)), with
    d2 = 0 if c == k else 1 ("nominal"), (c - k)^2 ("interval", numeric values), or
    (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 ("ordinal", values ranked by their natural order).
    Krippendorff (2011); Krippendorff (2004), ch. 11. Returns nan when there are no
    pairable values or D_e == 0 (every pairable value the same), where alpha is undefined.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    return _alpha(_coincidences(data), level)


def krippendorff_alpha_codes(
    codes: np.ndarray, values: Sequence[Any], level: str = "nominal"
) -> float:
    """krippendorff_alpha of data given as a coders x units matrix of integer codes into values,
    which must be in ascending order (-1 = missing): the same number, without Python lists."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    codes = np.asarray(codes, dtype=np.intp)
    used, ranks = np.unique(codes[codes >= 0], return_inverse=True)
    # as krippendorff_alpha does: only the values that occur, numbered in their order
    recoded = np.full(codes.shape, -1, dtype=np.intp)
    recoded[codes >= 0] = ranks
    return _alpha(_coincidences_of(recoded, [values[i] for i in used], True), level)


def _alpha(found: _Coincidences, level: str) -> float:
    n_c = found.marginals
    n = float(n_c.sum())
    if np.count_nonzero(n_c) < 2:  # no pairable values, or all of them equal: D_e == 0
        return math.nan
    coo = found.matrix.tocoo()
    if level == "nominal":
        observed = float(coo.data[coo.row != coo.col].sum())
        expected = n * n - float(np.sum(n_c * n_c))
    else:
        if level == "interval":
            try:
                position = np.array([float(value) for value in found.values])
            except (TypeError, ValueError) as error:
                raise ValueError("interval alpha needs numeric values") from error
        elif found.ordered:
            # sum_{g=c..k} n_g - (n_c + n_k)/2 is the gap between the mid-ranks of c and k,
            # so ordinal alpha is interval alpha on mid-ranks (values are sorted already).
            position = np.cumsum(n_c) - n_c / 2.0
        else:
            raise ValueError("ordinal alpha needs values that can be sorted")
        gaps = position[coo.row] - position[coo.col]
        observed = float(np.sum(coo.data * gaps * gaps))
        # sum_ck n_c n_k (x_c - x_k)^2 = 2 n sum_c n_c (x_c - mean)^2, O(V) instead of O(V^2)
        spread = position - float(np.sum(n_c * position)) / n
        expected = 2.0 * n * float(np.sum(n_c * spread * spread))
    if expected <= 0.0:
        return math.nan
    # 1 - (observed / n) / (expected / (n (n - 1)))
    return 1.0 - (n - 1.0) * observed / expected


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa (p_o - p_e) / (1 - p_e) of two raters' labels for the same items.

    Computed as sklearn.metrics.cohen_kappa_score computes it (Cohen 1960), on the labels
    numbered in sorted order (cohen_kappa_codes). Returns nan for no items and when p_e == 1
    (both raters used one and the same label), where kappa is undefined.
    """
    if len(a) != len(b):
        raise ValueError(f"the raters labelled different numbers of items: {len(a)} != {len(b)}")
    found = set(a) | set(b)
    if len(found) < 2:  # no items, or a single label: p_e == 1
        return math.nan
    try:
        code = {label: number for number, label in enumerate(sorted(found))}  # type: ignore[type-var]
    except TypeError:  # labels that cannot be sorted: sklearn says why it will not mix them
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            return float(cohen_kappa_score(list(a), list(b), replace_undefined_by=np.nan))
    return cohen_kappa_codes(
        np.array([code[label] for label in a], dtype=np.intp),
        np.array([code[label] for label in b], dtype=np.intp),
    )


def cohen_kappa_codes(a: np.ndarray, b: np.ndarray) -> float:
    """cohen_kappa of labels given as integer codes numbered in the labels' sorted order.

    sklearn's arithmetic on the confusion matrix C (rows: a) of the codes that occur:
    kappa = 1 - sum_{i != j} C_ij / sum_{i != j} E_ij with E = outer(column sums, row sums) / n,
    so the result is the same number as sklearn.metrics.cohen_kappa_score, bit for bit.
    """
    if len(a) != len(b):
        raise ValueError(f"the raters labelled different numbers of items: {len(a)} != {len(b)}")
    used, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    size = used.size
    if size < 2:
        return math.nan
    pairs = inverse[: len(a)] * size + inverse[len(a) :]
    confusion = np.bincount(pairs, minlength=size * size).reshape(size, size).astype(float)
    sum0, sum1 = np.sum(confusion, axis=0), np.sum(confusion, axis=1)
    expected = np.outer(sum0, sum1) / np.sum(sum0)
    off_diagonal = np.ones((size, size))
    np.fill_diagonal(off_diagonal, 0.0)
    disagreeing = np.sum(off_diagonal * expected)
    if disagreeing == 0:
        return math.nan
    return float(1 - np.sum(off_diagonal * confusion) / disagreeing)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa for an items x categories table of rating counts, n raters per item.

    P_i = (sum_j n_ij^2 - n) / (n (n - 1)), P = mean P_i, p_j = sum_i n_ij / (N n),
    P_e = sum_j p_j^2, kappa = (P - P_e) / (1 - P_e) (Fleiss 1971). Returns nan when
    P_e == 1 (every rating in one category). Raises ValueError for unequal rater counts.
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError("counts must be a non-empty items x categories table")
    if np.any(table < 0) or np.any(table != np.round(table)):
        raise ValueError("counts must be non-negative integers")
    raters = table.sum(axis=1)
    if np.any(raters != raters[0]):
        raise ValueError("every item must have the same number of ratings")
    n = float(raters[0])
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least two ratings per item")
    agreement = float(np.mean((np.sum(table * table, axis=1) - n) / (n * (n - 1.0))))
    shares = table.sum(axis=0) / (table.shape[0] * n)
    chance = float(np.sum(shares * shares))
    if math.isclose(chance, 1.0):
        return math.nan
    return (agreement - chance) / (1.0 - chance)


def bootstrap_ci(
    units: Sequence[T],
    statistic: Callable[[Sequence[T]], float],
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of statistic, resampling units with replacement.

    Each of `resamples` draws takes len(units) units with replacement (numpy Generator seeded by
    `seed`, so the result is reproducible; units range(n) are passed as an index array); nan
    results are dropped and the (1 - confidence)/2 and (1 + confidence)/2 percentiles of the
    rest returned (Efron & Tibshirani 1993, An Introduction to the Bootstrap, ch. 13).
    (nan, nan) when no draw gives a finite value.
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    items = list(units)
    if not items:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(items), size=(resamples, len(items)))
    if isinstance(units, range) and units.start == 0 and units.step == 1:
        # units are the indices 0..n-1: each draw is its own sample, no list to build
        results = np.array([statistic(draw) for draw in draws], dtype=float)
    else:
        results = np.array([statistic([items[i] for i in draw]) for draw in draws], dtype=float)
    finite = results[np.isfinite(results)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def reliability_matrix(
    frame: pd.DataFrame, unit: str = "unit", coder: str = "coder", value: str = "value"
) -> ReliabilityData:
    """The coders x units matrix (None where a coder left a unit uncoded) from a long table.

    Coders and units keep their order of first appearance. Raises ValueError when a coder has
    more than one value for a unit.
    """
    if frame.duplicated([unit, coder]).any():
        raise ValueError("a coder has more than one value for a unit")
    coders = list(pd.unique(frame[coder]))
    units = list(pd.unique(frame[unit]))
    row_of = {name: i for i, name in enumerate(coders)}
    column_of = {name: j for j, name in enumerate(units)}
    matrix: list[list[Any]] = [[None] * len(units) for _ in coders]
    for unit_name, coder_name, entry in zip(frame[unit], frame[coder], frame[value]):
        matrix[row_of[coder_name]][column_of[unit_name]] = None if _is_missing(entry) else entry
    return ReliabilityData(matrix, coders, units)
