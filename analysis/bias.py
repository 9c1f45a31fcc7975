"""How one annotator's objects differ from what the others agree on: size, position, misses, labels.

Method: annotator k is compared with the LEAVE-ONE-OUT consensus, consensus_of(work.without(k))
(analysis.consensus), so k's own boxes never pull the reference towards themselves, on every
image k finished that at least one other annotator finished too. k's shapes are matched to the
consensus boxes one-to-one, count-first at IoU >= t (analysis.matching). For each matched pair,
with k's bounding box (x0, y0, x1, y1) and the consensus box c of width w_c and height h_c:

    log area ratio  ln(A_k / A_c)                  (0: same size; ln 1.44 = 0.365: 20 % wider
                                                    and 20 % taller)
    centre offsets  dx = (cx_k - cx_c) / w_c, dy = (cy_k - cy_c) / h_c    (y down)
    edge offsets    left = (c.x0 - k.x0) / w_c, right = (k.x1 - c.x1) / w_c,
                    top = (c.y0 - k.y0) / h_c, bottom = (k.y1 - c.y1) / h_c
                    (positive: k's edge lies outside the consensus box)

The log ratio makes "twice as large" and "half as large" symmetric; offsets relative to the
consensus size let small and large objects be pooled. There is no standard published set of
such measures; these are plain box geometry, defined here. Summaries are medians, robust to
the odd mismatched pair; the per-object lists are kept for plots.

Miss rate = consensus objects k did not match / all consensus objects on those images; extras
per image = k's unmatched shapes / those images; label kappa = Cohen's kappa of consensus
label vs k's label over matched pairs; the confusion matrix has rows = consensus label and
columns = k's label, each row divided by its total (as sklearn.metrics.confusion_matrix with
normalize="true" computes it; a label that never occurs in the consensus gets a row of zeros).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np

from analysis.consensus import ConsensusObject, consensus_of
from analysis.geometry import box_iou, iou_matrix, normalised_boxes, rect_boxes
from analysis.matching import match_scores
from analysis.reliability import cohen_kappa
from analysis.work import Work
from domain.annotation import Annotation
from domain.geometry import bounding_box

EDGES = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class AnnotatorBias:
    """One annotator against the leave-one-out consensus; per-object tuples are per matched pair.

    images: images compared; objects: the annotator's shapes on them; consensus_objects: the
    others' consensus objects on them; matched: one-to-one pairs of the two. seconds_per_image
    (median active seconds per image) is None where no time was recorded; alpha_effect =
    alpha(everyone) - alpha(everyone but this annotator), filled in by analysis.report (nan
    when not computed).
    """

    annotator: str
    images: int
    objects: int
    consensus_objects: int
    matched: int
    log_area_ratio: tuple[float, ...]
    dx: tuple[float, ...]
    dy: tuple[float, ...]
    left: tuple[float, ...]
    right: tuple[float, ...]
    top: tuple[float, ...]
    bottom: tuple[float, ...]
    miss_rate: float
    extra_per_image: float
    label_kappa: float
    confusion_labels: tuple[str, ...]
    confusion: tuple[tuple[float, ...], ...]
    seconds_per_image: float | None = None
    alpha_effect: float = math.nan

    def median(self, measure: str) -> float:
        """Median of a per-object measure (e.g. "dx", "left"); nan when nothing matched."""
        values: tuple[float, ...] = getattr(self, measure)
        return float(median(values)) if values else math.nan


def annotator_bias(
    work: Work,
    annotator: str,
    threshold: float = 0.5,
    alpha_effect: float = math.nan,
    reference: Mapping[str, Sequence[ConsensusObject]] | None = None,
) -> AnnotatorBias:
    """The bias measures of one annotator against the others' consensus (see module doc).

    reference, when given, must be consensus_of(work.without(annotator), threshold), computed
    elsewhere already (analysis.report shares the units with the leave-one-out alpha).
    """
    if reference is None:
        reference = consensus_of(work.without(annotator), threshold)
    mine: list[str] = []
    theirs: list[str] = []
    own_boxes: list[tuple[float, float, float, float]] = []
    agreed_boxes: list[tuple[float, float, float, float]] = []
    images = objects = consensus_objects = matched = 0
    for image in work.images:
        done = work.by_image[image]
        if annotator not in done or image not in reference:
            continue
        shapes, agreed = done[annotator], reference[image]
        pairs = match_scores(_scores_against(shapes, agreed), threshold)
        images += 1
        objects += len(shapes)
        consensus_objects += len(agreed)
        matched += len(pairs)
        for pair in pairs:
            mine.append(shapes[pair.a].label)
            theirs.append(agreed[pair.b].label)
            own_boxes.append(bounding_box(shapes[pair.a]))
            agreed_boxes.append(agreed[pair.b].box)
    labels, matrix = normalised_confusion(theirs, mine)
    return bias_of(
        annotator,
        (images, objects, consensus_objects, matched),
        offsets_of(own_boxes, agreed_boxes),
        cohen_kappa(theirs, mine),
        (labels, matrix),
        alpha_effect,
    )


def bias_of(
    annotator: str,
    counts: tuple[int, int, int, int],
    measures: dict[str, tuple[float, ...]],
    label_kappa: float,
    confusion: tuple[tuple[str, ...], tuple[tuple[float, ...], ...]],
    alpha_effect: float,
) -> AnnotatorBias:
    """An AnnotatorBias from (images, objects, consensus objects, matched) counts and the
    per-pair measures: miss rate and extras per image follow from the counts."""
    images, objects, consensus_objects, matched = counts
    return AnnotatorBias(
        annotator=annotator,
        images=images,
        objects=objects,
        consensus_objects=consensus_objects,
        matched=matched,
        **measures,  # type: ignore[arg-type]
        miss_rate=(
            (consensus_objects - matched) / consensus_objects if consensus_objects else math.nan
        ),
        extra_per_image=(objects - matched) / images if images else math.nan,
        label_kappa=label_kappa,
        confusion_labels=confusion[0],
        confusion=confusion[1],
        alpha_effect=alpha_effect,
    )


def box_offsets(
    box: tuple[float, float, float, float], reference: tuple[float, float, float, float]
) -> dict[str, float] | None:
    """Log area ratio, centre and edge offsets of box against reference; None if either is flat."""
    measures = offsets_of([box], [reference])
    if not measures["dx"]:
        return None
    return {name: values[0] for name, values in measures.items()}


def offsets_of(
    boxes: Sequence[tuple[float, float, float, float]] | np.ndarray,
    references: Sequence[tuple[float, float, float, float]] | np.ndarray,
) -> dict[str, tuple[float, ...]]:
    """box_offsets of each box (x0, y0, x1, y1) against its reference, as one tuple per
    measure, pairs with a flat box left out."""
    own = np.array(boxes, dtype=float).reshape(-1, 4)
    other = np.array(references, dtype=float).reshape(-1, 4)
    x0, y0, x1, y1 = own.T
    c0, d0, c1, d1 = other.T
    width, height = c1 - c0, d1 - d0
    # a flat box or reference has no area ratio; written negated so that NaN edges are kept
    keep = ~((width <= 0) | (height <= 0) | (x1 <= x0) | (y1 <= y0))
    x0, y0, x1, y1, c0, d0, c1, d1 = (v[keep] for v in (x0, y0, x1, y1, c0, d0, c1, d1))
    width, height = width[keep], height[keep]
    # the log from math: numpy's may differ in the last bit from the per-image definition
    ratio = (x1 - x0) * (y1 - y0) / (width * height)
    columns = {
        "dx": ((x0 + x1) - (c0 + c1)) / 2.0 / width,
        "dy": ((y0 + y1) - (d0 + d1)) / 2.0 / height,
        "left": (c0 - x0) / width,
        "right": (x1 - c1) / width,
        "top": (d0 - y0) / height,
        "bottom": (y1 - d1) / height,
    }
    found = {"log_area_ratio": tuple(map(math.log, ratio.tolist()))}
    found.update({name: tuple(values.tolist()) for name, values in columns.items()})
    return found


def normalised_confusion(
    reference: list[str], labels: list[str]
) -> tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]:
    """Label order (sorted union) and the row-normalised confusion matrix (rows = reference)."""
    order = sorted(set(reference) | set(labels))
    code = {label: number for number, label in enumerate(order)}
    matrix = normalised_confusion_codes(
        np.array([code[label] for label in reference], dtype=np.intp),
        np.array([code[label] for label in labels], dtype=np.intp),
        len(order),
    )
    return tuple(order), matrix


def normalised_confusion_codes(
    reference: np.ndarray, labels: np.ndarray, size: int
) -> tuple[tuple[float, ...], ...]:
    """The matrix of normalised_confusion for labels given as codes 0..size-1 (sorted order):
    counts divided by their row total, 0 where a row has none, as
    sklearn.metrics.confusion_matrix(normalize="true") computes it."""
    if size == 0:
        return ()
    pairs = np.asarray(reference, dtype=np.intp) * size + np.asarray(labels, dtype=np.intp)
    counts = np.bincount(pairs, minlength=size * size).reshape(size, size)
    with np.errstate(all="ignore"):
        matrix = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    return tuple(tuple(row) for row in matrix.tolist())


def _scores_against(shapes: Sequence[Annotation], agreed: Sequence[ConsensusObject]) -> np.ndarray:
    """IoU of the shapes (rows) and the consensus boxes (columns), as iou_matrix gives it."""
    own = rect_boxes(shapes)
    if own is None:
        return iou_matrix(shapes, [item.as_annotation() for item in agreed])
    boxes = np.array([item.box for item in agreed], dtype=float).reshape(-1, 4)
    return box_iou(own, normalised_boxes(boxes))
