"""Agreement of two annotators at a time: object F1, IoU of matched objects, label kappa.

Method, for annotators a and b over the images both finished (analysis.work): on each image
their shapes are matched one-to-one, count-first at IoU >= t (analysis.matching). Pooled over
the images, with M matched pairs and N_a, N_b shapes drawn,

    F1 = 2 M / (N_a + N_b),

the harmonic mean of precision M / N_a and recall M / N_b when b is taken as the reference,
and symmetric in a and b: the Dice coefficient of the two sets of objects (Dice 1945, "Measures
of the amount of ecologic association between species", Ecology 26(3):297-302). When neither
drew anything on any shared image, F1 is 1.0 by definition: they agree that there is nothing
to draw, and an image agreed empty must not count against them. Mean IoU is over the matched
pairs (nan when there are none); label kappa is Cohen's kappa of the two labels of every
matched pair (analysis.reliability.cohen_kappa; nan when undefined). F1 over thresholds is the
mean F1 at t = 0.50, 0.55, ..., 0.95, the averaging of the COCO detection metric AP@[.5:.95]
(Lin et al. 2014, "Microsoft COCO: Common Objects in Context", ECCV, LNCS 8693:740-755; and
https://cocodataset.org/#detection-eval), so tighter agreement on outlines scores higher.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import fmean

import numpy as np
from scipy.optimize import linear_sum_assignment

from analysis.geometry import iou_matrix
from analysis.reliability import cohen_kappa
from analysis.work import Work
from domain.annotation import Annotation

# 0.50, 0.55, ..., 0.95, rounded so that every threshold is the decimal it names
THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * step, 2) for step in range(10))


@dataclass(frozen=True)
class PairAgreement:
    """How well annotators a and b agree on the images both finished."""

    a: str
    b: str
    images: int
    matched: int
    drawn_a: int
    drawn_b: int
    f1: float
    mean_iou: float
    label_kappa: float
    f1_over_thresholds: float


def pair_matches(
    a: Sequence[Annotation], b: Sequence[Annotation], thresholds: Sequence[float]
) -> list[list[tuple[int, int, float]]]:
    """The count-first matching (i, j, IoU) of a and b at each threshold, as match_objects.

    The IoU matrix is computed once for all thresholds. When the pairs above a threshold form a
    one-to-one set already (at most one per row and column, the usual case), that set is the
    matching; otherwise the assignment of analysis.matching is solved on the same matrix.
    """
    scores = iou_matrix(a, b)
    return [
        [(int(i), int(j), float(scores[i, j])) for i, j in zip(rows, cols)]
        for rows, cols in _matches_on(scores, thresholds)
    ]


def _matches_on(
    scores: np.ndarray, thresholds: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    for threshold in thresholds:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"IoU threshold must be within [0, 1], got {threshold}")
    if scores.size == 0:
        nothing = np.zeros(0, dtype=int)
        return [(nothing, nothing) for _ in thresholds]
    levels = np.asarray(thresholds, dtype=float)[:, None, None]
    valid = (scores[None] >= levels) & (scores[None] > 0.0)
    simple = (valid.sum(axis=1) <= 1).all(axis=1) & (valid.sum(axis=2) <= 1).all(axis=1)
    found = []
    for level, is_simple in zip(valid, simple):
        if is_simple:
            rows, cols = np.nonzero(level)
            found.append((rows, cols))
        else:
            found.append(_count_first(scores, level))
    return found


def _count_first(scores: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The cost of analysis.matching.match_objects, which only takes shapes, not a matrix.
    bonus = min(scores.shape) + 1
    rows, cols = linear_sum_assignment(-np.where(valid, bonus + scores, 0.0))
    keep = valid[rows, cols]
    return rows[keep], cols[keep]


def f1_score(matched: int, drawn_a: int, drawn_b: int) -> float:
    """2 M / (N_a + N_b); 1.0 when neither drew anything (agreed empty)."""
    total = drawn_a + drawn_b
    return 1.0 if total == 0 else 2.0 * matched / total


def pair_agreement(work: Work, a: str, b: str, threshold: float = 0.5) -> PairAgreement:
    """F1, mean IoU, label kappa and F1 over THRESHOLDS of a and b on the images both finished."""
    levels = (threshold, *THRESHOLDS)
    matched = [0] * len(levels)
    drawn_a = drawn_b = images = 0
    ious: list[float] = []
    labels_a: list[str] = []
    labels_b: list[str] = []
    for image in work.images:
        done = work.by_image[image]
        if a not in done or b not in done:
            continue
        shapes_a, shapes_b = done[a], done[b]
        images += 1
        drawn_a += len(shapes_a)
        drawn_b += len(shapes_b)
        scores = iou_matrix(shapes_a, shapes_b)
        per_level = _matches_on(scores, levels)
        for level, (rows, _) in enumerate(per_level):
            matched[level] += len(rows)
        for i, j in zip(*per_level[0]):
            ious.append(float(scores[i, j]))
            labels_a.append(shapes_a[i].label)
            labels_b.append(shapes_b[j].label)
    return PairAgreement(
        a=a,
        b=b,
        images=images,
        matched=matched[0],
        drawn_a=drawn_a,
        drawn_b=drawn_b,
        f1=f1_score(matched[0], drawn_a, drawn_b) if images else math.nan,
        mean_iou=fmean(ious) if ious else math.nan,
        label_kappa=cohen_kappa(labels_a, labels_b),
        f1_over_thresholds=(
            fmean(f1_score(m, drawn_a, drawn_b) for m in matched[1:]) if images else math.nan
        ),
    )


def pairwise_agreement(work: Work, threshold: float = 0.5) -> tuple[PairAgreement, ...]:
    """PairAgreement of every annotator pair (sorted names) that shares at least one image."""
    pairs = (pair_agreement(work, a, b, threshold) for a, b in combinations(work.annotators, 2))
    return tuple(pair for pair in pairs if pair.images > 0)


def disagreement_by_image(work: Work, threshold: float = 0.5) -> list[tuple[str, float]]:
    """Images finished by 2+ annotators with a disagreement score in [0, 1], worst first.

    Score = 1 - mean over annotator pairs of 2 M_same / (N_a + N_b), where M_same counts the
    matched pairs (count-first, IoU >= threshold) that also agree on the label, and a pair who
    both drew nothing scores 1. This equals 1 - F1 plus 2 M_diff / (N_a + N_b): missed or extra
    objects and label disagreements among matched objects both count. Ties: image key order.
    """
    scored: list[tuple[str, float]] = []
    for image in work.shared_images(2):
        done = work.by_image[image]
        agreement = []
        for a, b in combinations(sorted(done), 2):
            shapes_a, shapes_b = done[a], done[b]
            (pairs,) = pair_matches(shapes_a, shapes_b, (threshold,))
            same = sum(shapes_a[i].label == shapes_b[j].label for i, j, _ in pairs)
            agreement.append(f1_score(same, len(shapes_a), len(shapes_b)))
        scored.append((image, 1.0 - fmean(agreement)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored
