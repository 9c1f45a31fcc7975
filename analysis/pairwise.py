"""Agreement of two annotators at a time: object F1, IoU of matched objects, label kappa.

Method, for annotators a and b over the images both finished (analysis.work): on each image
their shapes are matched one-to-one, count-first at IoU >= t (analysis.matching: IoU as
analysis.geometry defines it for every kind of shape, lines and paths too, and reaching t within
analysis.matching.IOU_TOLERANCE). Pooled over the images, with M matched pairs and N_a, N_b
shapes drawn,

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

from analysis.geometry import iou_matrix
from analysis.matching import count_reaching, match_scores, reaches
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
    """The count-first matching (i, j, IoU) of a and b at each threshold, as match_objects,
    with the IoU matrix computed once for all thresholds."""
    scores = iou_matrix(a, b)
    return [[(m.a, m.b, m.iou) for m in match_scores(scores, t)] for t in thresholds]


def _level_counts(scores: np.ndarray, levels: Sequence[float]) -> list[int]:
    """The number of count-first matched pairs (match_scores) at each IoU level."""
    if scores.size == 0:
        return [0] * len(levels)
    valid = reaches(scores, min(levels))
    if valid.sum(axis=0).max() <= 1 and valid.sum(axis=1).max() <= 1:
        # one-to-one at the lowest level, so at every level: each valid pair is matched
        return count_reaching(np.sort(scores[valid]), levels).tolist()
    return [len(match_scores(scores, level)) for level in levels]


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
        matrix = iou_matrix(shapes_a, shapes_b)
        for level, count in enumerate(_level_counts(matrix, levels)):
            matched[level] += count
        for match in match_scores(matrix, threshold):
            ious.append(match.iou)
            labels_a.append(shapes_a[match.a].label)
            labels_b.append(shapes_b[match.b].label)
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
