"""One-to-one matching of two annotators' objects on one image by IoU.

Method (count-first optimal assignment): pair i of list a with j of list b is valid when
IoU(a_i, b_j) reaches the threshold and IoU > 0 (IoU as analysis.geometry.iou defines it, for
every kind of shape). Among all one-to-one sets of valid pairs we take one
with the MOST pairs and, among those, the largest total IoU. This is a linear assignment
problem with cost[i, j] = -(valid[i, j] * (K + IoU[i, j])) and K = min(len(a), len(b)) + 1:
a total IoU can never reach K, so one extra pair always outweighs any IoU gain. The solver is
scipy.optimize.linear_sum_assignment, a modified Jonker-Volgenant algorithm described by
Crouse (2016), "On implementing 2D rectangular assignment algorithms", IEEE Transactions on
Aerospace and Electronic Systems 52(4):1679-1696, doi:10.1109/TAES.2016.140952. Rectangular
inputs assign every row or column of the smaller side, so pairs the solver had to take below
the threshold are dropped afterwards.

Why count-first: agreement statistics count matched objects, so the matching must not lose a
pair it could have made. Greedy matching by descending IoU (the PASCAL VOC/COCO evaluation
rule) can give the best pair to an object that was the only partner of another, blocking a
second match; maximising the total IoU alone can trade k + 1 matches for k better ones (three
pairs at IoU 0.54 sum to less than two at 1.0). Labels are ignored: localisation comes first,
and a label disagreement between matched objects shows up as label confusion, not two misses.

Reaching the threshold t means IoU >= t - IOU_TOLERANCE, IOU_TOLERANCE = 1e-6: an IoU within
it below t counts as t. Floating point cannot promise more: decimal coordinates whose exact IoU
is 0.5 can give 0.4999999999999999, and an ellipse's IoU is computed to within 6e-9
(analysis.geometry). 1e-6 is far above those errors and far below any difference in IoU a person
could draw on purpose (one pixel on a 1000 x 1000 px box changes its IoU by 1e-3). reaches()
and count_reaching() are the one definition: every comparison of an IoU with a threshold in
analysis (matching, units, consensus, bias, pairwise and analysis.batch) goes through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from analysis.geometry import iou_matrix
from domain.annotation import Annotation

IOU_TOLERANCE = 1e-6  # an IoU this much below a threshold still reaches it (module doc)


@dataclass(frozen=True)
class Match:
    """Object a of the first list matched to object b of the second, with their IoU."""

    a: int
    b: int
    iou: float


def match_objects(
    a: Sequence[Annotation], b: Sequence[Annotation], threshold: float = 0.5
) -> list[Match]:
    """Count-first optimal one-to-one matching at IoU reaching threshold, sorted by a index."""
    return match_scores(_scores(a, b, threshold), threshold)


def match_scores(scores: np.ndarray, threshold: float) -> list[Match]:
    """match_objects on an IoU matrix computed already (rows: list a, columns: list b).

    When the valid pairs are one-to-one already (at most one per row and column, the usual
    case), they are the only largest set, so the solver is skipped.
    """
    _check(threshold)
    if scores.size == 0:
        return []
    valid = reaches(scores, threshold)
    if valid.sum(axis=0).max() <= 1 and valid.sum(axis=1).max() <= 1:
        rows, cols = np.nonzero(valid)
        return [Match(i, j, float(scores[i, j])) for i, j in zip(rows.tolist(), cols.tolist())]
    bonus = min(scores.shape) + 1
    cost = -np.where(valid, bonus + scores, 0.0)
    rows, cols = linear_sum_assignment(cost)
    return [
        Match(int(i), int(j), float(scores[i, j]))
        for i, j in sorted(zip(rows, cols))
        if valid[i, j]
    ]


def greedy_match(
    a: Sequence[Annotation], b: Sequence[Annotation], threshold: float = 0.5
) -> list[Match]:
    """Baseline: pairs taken by descending IoU while both are free; for tests, not the app."""
    scores = _scores(a, b, threshold)
    if scores.size == 0:
        return []
    ii, jj = np.nonzero(reaches(scores, threshold))
    # Stable on (i, j) for equal IoUs, so ties resolve the same way every run.
    order = sorted(zip(ii.tolist(), jj.tolist()), key=lambda p: (-scores[p], p))
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches = []
    for i, j in order:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches.append(Match(i, j, float(scores[i, j])))
    return sorted(matches, key=lambda m: m.a)


def reaches(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Where an IoU reaches the threshold: IoU >= threshold - IOU_TOLERANCE, and IoU > 0."""
    # IoU > 0 too: with threshold 0, shapes that do not touch must still not pair up.
    return (scores >= threshold - IOU_TOLERANCE) & (scores > 0.0)


def count_reaching(found: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """How many of the IoUs in found (sorted ascending, each > 0) reach each level, as reaches
    would count them."""
    floors = np.asarray(levels, dtype=float) - IOU_TOLERANCE
    return found.size - np.searchsorted(found, floors, side="left")


def _scores(a: Sequence[Annotation], b: Sequence[Annotation], threshold: float) -> np.ndarray:
    _check(threshold)
    return iou_matrix(a, b)


def _check(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"IoU threshold must be within [0, 1], got {threshold}")
