"""The agreement report's steps for every image at once, on flat numpy arrays.

analysis.units, .consensus, .bias and .pairwise define the method one image at a time; this
module computes the same numbers for all images together (the same arithmetic on the same
values in the same order, so the report does not change by a bit) without a Python loop per
image, object or pair of annotators. Per-image code remains where the work is sequential by
definition, the single-linkage merges of analysis.units (in IoU order, one Python step per
matched pair), and where it is rare: shapes other than rectangles (their IoU comes from
analysis.geometry.iou_matrix) and images on which the valid pairs of two lists are not
one-to-one (analysis.matching.match_scores solves the assignment there).

Shapes are numbered by image (work.images order), annotator (name order) and drawing order,
the order in which analysis.units numbers its clusters; labels are coded in sorted order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from statistics import fmean

import numpy as np

from analysis.bias import AnnotatorBias, bias_of, normalised_confusion_codes, offsets_of
from analysis.geometry import box_iou, iou_matrix, normalised_boxes, paired_box_iou
from analysis.matching import count_reaching, match_scores, reaches
from analysis.pairwise import THRESHOLDS, PairAgreement, f1_score
from analysis.reliability import cohen_kappa_codes, krippendorff_alpha_codes
from analysis.units import MISSED, UnitValue
from analysis.work import Work
from domain.annotation import Annotation
from domain.geometry import bounding_box

NONE = np.zeros(0, dtype=np.intp)
CHUNK = 1 << 18  # rect pairs whose IoU is computed at once (bounds the memory)


@dataclass(frozen=True)
class Table:
    """Every shape of a Work, numbered by image, annotator name and drawing order.

    Per image and annotator (a slot, rows x columns): finished, the number of its first shape,
    how many it holds (0 when not finished) and whether all are rects (plain); per shape:
    image, annotator, label code (into labels, sorted) and bounding box (x0 <= x1, y0 <= y1).
    """

    images: tuple[str, ...]
    annotators: tuple[str, ...]
    labels: tuple[str, ...]
    shapes: tuple[Annotation, ...]
    finished: np.ndarray
    first: np.ndarray
    count: np.ndarray
    plain: np.ndarray
    image: np.ndarray
    who: np.ndarray
    label: np.ndarray
    box: np.ndarray

    def slot(self, image: int, who: int) -> tuple[Annotation, ...]:
        """The shapes of one annotator on one image."""
        start = int(self.first[image, who])
        return self.shapes[start : start + int(self.count[image, who])]

    def slot_boxes(self, image: int, who: int) -> np.ndarray:
        """The bounding boxes of one annotator's shapes on one image."""
        start = int(self.first[image, who])
        return self.box[start : start + int(self.count[image, who])]


@dataclass(frozen=True)
class PairMatches:
    """Annotators p < q (numbers into table.annotators) on the images both finished: the
    count-first matching at the threshold (shape numbers, sorted by p's shape) and the number
    of matched pairs at each IoU level (threshold, *analysis.pairwise.THRESHOLDS)."""

    p: int
    q: int
    images: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    iou: np.ndarray
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Units:
    """The units of analysis.units on every image: unit u holds shape member[u, a] of annotator
    a (-1: none); in image order, then in the order image_units gives them. leave_out is the
    annotator left out (as by work.without), if any."""

    image: np.ndarray
    member: np.ndarray
    leave_out: int | None


@dataclass(frozen=True)
class LabelData:
    """analysis.report.label_columns as codes into values (sorted; -1: missing), coders x
    units, with each unit's image as a number into `images` (those two coders or more
    finished, in order, each one a row of the additive alpha terms)."""

    codes: np.ndarray
    values: tuple[UnitValue, ...]
    unit_image: np.ndarray
    images: np.ndarray


@dataclass(frozen=True)
class Consensus:
    """The consensus objects of analysis.consensus in image and unit order (image, label code,
    box), and per image whether it has a consensus list at all (someone finished it)."""

    image: np.ndarray
    label: np.ndarray
    box: np.ndarray
    listed: np.ndarray


@dataclass(frozen=True)
class _Blocks:
    """One rows x columns IoU block per image: rows rows_first[b] + i, columns cols_first[b] + j;
    dense(b) is the block as the per-image functions compute it."""

    rows_first: np.ndarray
    rows_count: np.ndarray
    cols_first: np.ndarray
    cols_count: np.ndarray
    dense: Callable[[int], np.ndarray]


def table_of(work: Work) -> Table:
    """The flat table of work's shapes."""
    images, annotators = work.images, work.annotators
    finished = np.zeros((len(images), len(annotators)), dtype=bool)
    count = np.zeros((len(images), len(annotators)), dtype=np.intp)
    shapes: list[Annotation] = []
    for g, key in enumerate(images):
        done = work.by_image[key]
        for a, who in enumerate(annotators):
            drawn = done.get(who)
            if drawn is not None:
                finished[g, a] = True
                count[g, a] = len(drawn)
                shapes.extend(drawn)
    slots = count.ravel()
    slot_of_shape = np.repeat(np.arange(slots.size), slots)
    labels = tuple(sorted({shape.label for shape in shapes}))
    code = {label: number for number, label in enumerate(labels)}
    rect = np.array([shape.kind == "rect" for shape in shapes], dtype=bool)
    others = np.bincount(slot_of_shape[~rect], minlength=slots.size)
    return Table(
        images=images,
        annotators=annotators,
        labels=labels,
        shapes=tuple(shapes),
        finished=finished,
        first=(np.cumsum(slots) - slots).reshape(count.shape),
        count=count,
        plain=(others == 0).reshape(count.shape),
        image=slot_of_shape // max(len(annotators), 1),
        who=slot_of_shape % max(len(annotators), 1),
        label=np.array([code[shape.label] for shape in shapes], dtype=np.intp),
        box=_bounding_boxes(shapes),
    )


def pair_matchings(table: Table, threshold: float = 0.5) -> list[PairMatches]:
    """The count-first matching (analysis.matching) of every two annotators on every image both
    finished, with the matched counts of analysis.pairwise at each of its IoU levels."""
    levels = (threshold, *THRESHOLDS)
    found = []
    for p, q in combinations(range(len(table.annotators)), 2):
        shared = np.flatnonzero(table.finished[:, p] & table.finished[:, q])
        if shared.size and not 0.0 <= threshold <= 1.0:
            raise ValueError(f"IoU threshold must be within [0, 1], got {threshold}")
        blocks = _Blocks(
            table.first[shared, p],
            table.count[shared, p],
            table.first[shared, q],
            table.count[shared, q],
            partial(_slot_scores, table, shared, p, q),
        )
        plain = table.plain[shared, p] & table.plain[shared, q]
        entries = _scores(blocks, table.box, table.box, plain, min(levels))
        rows, cols, iou = _matching(blocks, entries, threshold)
        counts = _level_counts(blocks, entries, levels)
        found.append(PairMatches(p, q, shared, rows, cols, iou, counts))
    return found


def units_of(table: Table, pairs: Sequence[PairMatches], leave_out: int | None = None) -> Units:
    """The units of analysis.units.image_units on every image, of everyone's shapes or of
    everyone's but one annotator's (as on work.without(that annotator))."""
    kept = [pair for pair in pairs if leave_out not in (pair.p, pair.q)]
    rows = np.concatenate([NONE, *(pair.rows for pair in kept)])
    cols = np.concatenate([NONE, *(pair.cols for pair in kept)])
    iou = np.concatenate([np.zeros(0), *(pair.iou for pair in kept)])
    # image_units' order, strongest IoU first; image by image, which is faster to merge
    order = np.lexsort((cols, rows, -iou, table.image[rows]))
    key = np.array(
        _merged(table.who.tolist(), rows[order].tolist(), cols[order].tolist()), dtype=np.intp
    )
    shapes = np.arange(key.size) if leave_out is None else np.flatnonzero(table.who != leave_out)
    # a cluster is named after one of its shapes, and image_units orders units by that name
    names, unit = np.unique(key[shapes], return_inverse=True)
    member = np.full((names.size, len(table.annotators)), -1, dtype=np.intp)
    member[unit, table.who[shapes]] = shapes
    return Units(image=table.image[names], member=member, leave_out=leave_out)


def label_data(table: Table, units: Units) -> LabelData:
    """The coded label_columns of the units: each coder's label, MISSED, or missing."""
    coders = _coders(table, units.leave_out)
    finished = table.finished[:, coders]
    shared = np.flatnonzero(finished.sum(axis=1) >= 2)
    on_shared = np.flatnonzero(finished[units.image].sum(axis=1) >= 2)
    member = units.member[on_shared][:, coders]
    values: tuple[UnitValue, ...] = (MISSED, *table.labels)  # sorted: MISSED comes first
    position = {value: number for number, value in enumerate(values)}
    value_of_label = np.array([position[label] for label in table.labels] + [-1], dtype=np.intp)
    drawn = member >= 0
    codes = value_of_label[np.where(drawn, table.label[np.where(drawn, member, 0)], -1)]
    codes[~drawn & finished[units.image[on_shared]]] = position[MISSED]
    return LabelData(
        codes=np.ascontiguousarray(codes.T),
        values=values,
        unit_image=np.searchsorted(shared, units.image[on_shared]),
        images=shared,
    )


def alpha(data: LabelData) -> float:
    """Nominal Krippendorff's alpha of the data (analysis.report.alpha_of_columns)."""
    if data.codes.shape[1] == 0:
        return math.nan
    return krippendorff_alpha_codes(data.codes, data.values, "nominal")


def alpha_terms(data: LabelData) -> tuple[np.ndarray, np.ndarray]:
    """analysis.report.additive_alpha_terms of the data (value columns in code order)."""
    width, units = len(data.values), data.codes.shape[1]
    present = data.codes >= 0
    unit = np.nonzero(present)[1]
    paired = np.bincount(unit, minlength=units)
    keys, times = np.unique(unit * width + data.codes[present], return_counts=True)
    key_unit, key_value = keys // width, keys % width
    counted = paired[key_unit] >= 2  # a value with nothing to pair with adds nothing
    key_unit, key_value, times = key_unit[counted], key_value[counted], times[counted]
    marginals = np.bincount(
        data.unit_image[key_unit] * width + key_value,
        weights=times,
        minlength=data.images.size * width,
    ).reshape(data.images.size, width)
    same = np.bincount(key_unit, weights=times * (times - 1), minlength=units)
    pairable = np.flatnonzero(paired >= 2)
    terms = same[pairable] / (paired[pairable] - 1)
    agreeing = [0.0] * data.images.size
    # unit by unit, as additive_alpha_terms adds them (float sums depend on the order)
    for image, term in zip(data.unit_image[pairable].tolist(), terms.tolist()):
        agreeing[image] += term
    return marginals, np.array(agreeing, dtype=float)


def consensus_of(table: Table, units: Units) -> Consensus:
    """The consensus object (analysis.consensus.unit_consensus) of every unit that has one."""
    finishers = table.finished[:, _coders(table, units.leave_out)].sum(axis=1)
    support = (units.member >= 0).sum(axis=1)
    kept = np.flatnonzero(support * 2 >= finishers[units.image])
    member, support = units.member[kept], support[kept]
    drawn = member >= 0
    anyone = np.where(drawn, member, 0)
    # the median of each edge: the members' edges sorted (absent ones last, as nan), the middle
    # one or the mean of the middle two, as statistics.median
    edges = np.where(drawn[:, :, None], table.box[anyone], np.nan)
    edges.sort(axis=1)
    low = np.take_along_axis(edges, ((support - 1) // 2)[:, None, None], axis=1)[:, 0, :]
    high = np.take_along_axis(edges, (support // 2)[:, None, None], axis=1)[:, 0, :]
    box = np.where((support % 2 == 1)[:, None], low, (low + high) / 2)
    labels = np.where(drawn, table.label[anyone], -1)
    return Consensus(
        image=units.image[kept],
        label=_majority(labels, len(table.labels)),
        box=box,
        listed=finishers > 0,
    )


def annotator_bias(
    table: Table, who: int, reference: Consensus, threshold: float, alpha_effect: float
) -> AnnotatorBias:
    """analysis.bias.annotator_bias of one annotator against the consensus of the others."""
    compared = np.flatnonzero(table.finished[:, who] & reference.listed)
    per_image = np.bincount(reference.image, minlength=len(table.images))
    agreed_first = np.cumsum(per_image) - per_image
    agreed = normalised_boxes(reference.box)

    def dense(b: int) -> np.ndarray:
        g = int(compared[b])
        start = int(agreed_first[g])
        boxes = agreed[start : start + int(per_image[g])]
        if table.plain[g, who]:
            return box_iou(table.slot_boxes(g, who), boxes)
        rects = [_rect(table.images[g], box) for box in reference.box[start : start + len(boxes)]]
        return iou_matrix(table.slot(g, who), rects)

    blocks = _Blocks(
        table.first[compared, who],
        table.count[compared, who],
        agreed_first[compared],
        per_image[compared],
        dense,
    )
    entries = _scores(blocks, table.box, agreed, table.plain[compared, who], threshold)
    rows, cols, _ = _matching(blocks, entries, threshold)
    mine, theirs = table.label[rows], reference.label[cols]
    used, ranks = np.unique(np.concatenate([theirs, mine]), return_inverse=True)
    counts = (
        int(compared.size),
        int(blocks.rows_count.sum()),
        int(blocks.cols_count.sum()),
        int(rows.size),
    )
    return bias_of(
        table.annotators[who],
        counts,
        offsets_of(table.box[rows], reference.box[cols]),
        cohen_kappa_codes(theirs, mine),
        (
            tuple(table.labels[i] for i in used.tolist()),
            normalised_confusion_codes(ranks[: theirs.size], ranks[theirs.size :], used.size),
        ),
        alpha_effect,
    )


def pairwise_agreement(table: Table, pairs: Sequence[PairMatches]) -> tuple[PairAgreement, ...]:
    """analysis.pairwise.pairwise_agreement from the matchings of every two annotators."""
    found = []
    for pair in pairs:
        images = int(pair.images.size)
        if images == 0:
            continue
        drawn_a = int(table.count[pair.images, pair.p].sum())
        drawn_b = int(table.count[pair.images, pair.q].sum())
        found.append(
            PairAgreement(
                a=table.annotators[pair.p],
                b=table.annotators[pair.q],
                images=images,
                matched=pair.counts[0],
                drawn_a=drawn_a,
                drawn_b=drawn_b,
                f1=f1_score(pair.counts[0], drawn_a, drawn_b),
                mean_iou=fmean(pair.iou.tolist()) if pair.iou.size else math.nan,
                label_kappa=cohen_kappa_codes(table.label[pair.rows], table.label[pair.cols]),
                f1_over_thresholds=fmean(f1_score(m, drawn_a, drawn_b) for m in pair.counts[1:]),
            )
        )
    return tuple(found)


# ---------------------------------------------------------------- helpers


def _coders(table: Table, leave_out: int | None) -> list[int]:
    return [a for a in range(len(table.annotators)) if a != leave_out]


def _bounding_boxes(shapes: Sequence[Annotation]) -> np.ndarray:
    """domain.geometry.bounding_box of every shape, (n, 4); box kinds straight from coords."""
    try:
        raw = np.array([s.coords if s.coords else bounding_box(s) for s in shapes], dtype=float)
    except ValueError:  # ragged coords
        raw = np.empty(0)
    if raw.shape == (len(shapes), 4) and not np.isnan(raw).any():
        return normalised_boxes(raw)
    # coords that are not 4 numbers, or nan, whose min and max Python and numpy disagree on
    return np.array([bounding_box(s) for s in shapes], dtype=float).reshape(-1, 4)


def _slot_scores(table: Table, images: np.ndarray, p: int, q: int, block: int) -> np.ndarray:
    """iou_matrix of two annotators' shapes on images[block]."""
    image = int(images[block])
    if table.plain[image, p] and table.plain[image, q]:
        return box_iou(table.slot_boxes(image, p), table.slot_boxes(image, q))
    return iou_matrix(table.slot(image, p), table.slot(image, q))


def _rect(image: str, box: np.ndarray) -> Annotation:
    """A consensus box as the rect analysis.consensus.ConsensusObject.as_annotation gives."""
    coords = tuple(float(v) for v in box)
    return Annotation(
        id=f"consensus:{image}:{coords}",
        image_key=image,
        annotator="consensus",
        label="",
        kind="rect",
        coords=coords,
    )


def _scores(
    blocks: _Blocks, row_boxes: np.ndarray, col_boxes: np.ndarray, plain: np.ndarray, lowest: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of every block whose IoU reaches lowest (analysis.matching.reaches): block
    numbers, rows, columns, IoU.

    Blocks of rects only are computed together, elementwise, CHUNK pairs at a time (so memory
    stays bounded on crowded images); the other blocks by blocks.dense.
    """
    sizes = np.where(plain, blocks.rows_count * blocks.cols_count, 0)
    ends = np.cumsum(sizes)
    found: list[tuple[np.ndarray, ...]] = []
    start = 0
    while start < sizes.size:
        # the blocks from start whose pairs fit in CHUNK (at least one block)
        stop = max(
            start + 1, int(np.searchsorted(ends, ends[start] - sizes[start] + CHUNK, "right"))
        )
        found.append(_rect_scores(blocks, row_boxes, col_boxes, start, stop, sizes, lowest))
        start = stop
    for b in np.flatnonzero(~plain & (blocks.rows_count * blocks.cols_count > 0)).tolist():
        matrix = blocks.dense(b)
        i, j = np.nonzero(reaches(matrix, lowest))
        block = np.full(i.size, b, dtype=np.intp)
        found.append((block, blocks.rows_first[b] + i, blocks.cols_first[b] + j, matrix[i, j]))
    if not found:
        return NONE, NONE, NONE, np.zeros(0)
    block, rows, cols, scores = (np.concatenate(parts) for parts in zip(*found))
    return block, rows, cols, scores


def _rect_scores(
    blocks: _Blocks,
    row_boxes: np.ndarray,
    col_boxes: np.ndarray,
    start: int,
    stop: int,
    sizes: np.ndarray,
    lowest: float,
) -> tuple[np.ndarray, ...]:
    """_scores of the blocks start..stop-1 (sizes: their pairs, 0 for blocks done elsewhere)."""
    sizes = sizes[start:stop]
    block = np.repeat(np.arange(start, stop), sizes)
    local = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    width = blocks.cols_count[block]
    rows = blocks.rows_first[block] + local // width
    cols = blocks.cols_first[block] + local % width
    # an IoU above 0 needs boxes that overlap: the rest are dropped before the arithmetic,
    # first on x, then on y
    touch = np.flatnonzero(
        np.minimum(row_boxes[rows, 2], col_boxes[cols, 2])
        > np.maximum(row_boxes[rows, 0], col_boxes[cols, 0])
    )
    inside, across = rows[touch], cols[touch]
    touch = touch[
        np.minimum(row_boxes[inside, 3], col_boxes[across, 3])
        > np.maximum(row_boxes[inside, 1], col_boxes[across, 1])
    ]
    scores = paired_box_iou(row_boxes[rows[touch]], col_boxes[cols[touch]])
    good = reaches(scores, lowest)
    keep = touch[good]
    return block[keep], rows[keep], cols[keep], scores[good]


def _tangled(block: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The blocks in which some row or column has two valid pairs or more."""
    row_hits = np.bincount(rows)[rows] if rows.size else NONE
    col_hits = np.bincount(cols)[cols] if cols.size else NONE
    return np.unique(block[(row_hits > 1) | (col_hits > 1)])


def _matching(
    blocks: _Blocks,
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """match_scores of every block at threshold: rows, columns and IoU, sorted by row.

    Where the valid pairs of a block are one-to-one they are its matching (as in match_scores);
    the other blocks are solved one by one.
    """
    block, rows, cols, scores = entries
    valid = reaches(scores, threshold)
    block, rows, cols, scores = block[valid], rows[valid], cols[valid], scores[valid]
    tangled = _tangled(block, rows, cols)
    loose = ~np.isin(block, tangled)
    found_rows, found_cols, found_iou = [rows[loose]], [cols[loose]], [scores[loose]]
    for b in tangled.tolist():
        matches = match_scores(blocks.dense(b), threshold)
        found_rows.append(blocks.rows_first[b] + np.array([m.a for m in matches], dtype=np.intp))
        found_cols.append(blocks.cols_first[b] + np.array([m.b for m in matches], dtype=np.intp))
        found_iou.append(np.array([m.iou for m in matches], dtype=float))
    rows, cols, scores = (np.concatenate(found) for found in (found_rows, found_cols, found_iou))
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order], scores[order]


def _level_counts(
    blocks: _Blocks,
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    levels: Sequence[float],
) -> tuple[int, ...]:
    """analysis.pairwise.level_counts summed over the blocks (entries: IoU reaching
    min(levels))."""
    block, rows, cols, scores = entries
    tangled = _tangled(block, rows, cols)
    # one-to-one at the lowest level, so at every level: each valid pair is matched
    counts = count_reaching(np.sort(scores[~np.isin(block, tangled)]), levels)
    for b in tangled.tolist():
        matrix = blocks.dense(b)
        counts += np.array([len(match_scores(matrix, level)) for level in levels])
    return tuple(counts.tolist())


def _merged(who: list[int], rows: list[int], cols: list[int]) -> list[int]:
    """The cluster name of every shape after image_units' merges of the edges (rows[e],
    cols[e]), in order: a merge that would give one annotator two shapes is skipped, and the
    merged cluster keeps the name of the cluster of the edge's first shape."""
    name = list(range(len(who)))
    annotators = [1 << w for w in who]  # per cluster name: a bit per annotator in it
    # each cluster's shapes as a chain from its name (next shape, -1 at the end): only ints,
    # no list per cluster for the garbage collector to walk again and again
    following = [-1] * len(who)
    last = list(range(len(who)))
    for row, col in zip(rows, cols):
        left = name[row]
        right = name[col]
        if left == right:
            continue
        joining = annotators[right]
        if annotators[left] & joining:
            continue
        annotators[left] |= joining
        shape = right
        while shape >= 0:
            name[shape] = left
            shape = following[shape]
        following[last[left]] = right
        last[left] = last[right]
    return name


def _majority(labels: np.ndarray, count: int) -> np.ndarray:
    """Per row of label codes (-1: none), analysis.consensus.majority_label: the most frequent,
    ties to the first in sorted order (the smallest code)."""
    if labels.size == 0:
        return np.zeros(labels.shape[0], dtype=np.intp)
    present = labels >= 0
    same = ((labels[:, :, None] == labels[:, None, :]) & present[:, None, :]).sum(axis=2)
    score = np.where(present, same * (count + 1) + (count - labels), -1)
    return labels[np.arange(labels.shape[0]), np.argmax(score, axis=1)]
