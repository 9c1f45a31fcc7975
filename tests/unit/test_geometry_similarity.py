"""Similarity of every kind of shape, against closed forms, and the tolerance at the threshold.

Lines and open paths are compared as buffered regions, circles and ellipses as area-preserving
1024-gons, and an IoU within analysis.matching.IOU_TOLERANCE below a threshold reaches it: in
match_objects, in the units, in pairwise F1 and in the batch agreement report, which must still
give the numbers of the per-image functions bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from itertools import count
from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

from analysis.bias import annotator_bias
from analysis.geometry import (
    OPEN_TOLERANCE,
    area,
    iou,
    iou_matrix,
    open_tolerance,
)
from analysis.matching import (
    IOU_TOLERANCE,
    count_reaching,
    greedy_match,
    match_objects,
    reaches,
)
from analysis.pairwise import pair_agreement, pairwise_agreement
from analysis.report import (
    agreement_report,
    alpha_of_columns,
    consensus_from_units,
    label_columns,
    units_of,
)
from analysis.units import image_units
from analysis.work import Work, work_of
from domain.annotation import Annotation

_ids = count()
Points = tuple[tuple[float, float], ...]


def shape(
    kind: str,
    coords: tuple[float, ...] = (),
    points: Points = (),
    who: str = "a",
    image: str = "img.jpg",
    label: str = "thing",
) -> Annotation:
    return Annotation(
        id=f"g{next(_ids)}",
        image_key=image,
        annotator=who,
        label=label,
        kind=kind,  # type: ignore[arg-type]
        coords=coords,
        points=points,
    )


def line(x0: float, y0: float, x1: float, y1: float, **kw: Any) -> Annotation:
    return shape("line", (x0, y0, x1, y1), **kw)


def path(*points: tuple[float, float], **kw: Any) -> Annotation:
    return shape("path", points=tuple(points), **kw)


def circle(cx: float, cy: float, r: float, sx: float = 1.0, sy: float = 1.0) -> Annotation:
    """The circle of centre (cx, cy) and radius r, stretched by (sx, sy) about the origin."""
    return shape("circle", (sx * (cx - r), sy * (cy - r), sx * (cx + r), sy * (cy + r)))


def lens_iou(r1: float, r2: float, d: float) -> float:
    """Exact IoU of two circles of radii r1, r2 whose centres are d apart."""
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        inter = math.pi * min(r1, r2) ** 2
    else:
        part1 = r1 * r1 * math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1))
        part2 = r2 * r2 * math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2))
        kite = 0.5 * math.sqrt((r1 + r2 - d) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
        inter = part1 + part2 - kite
    return inter / (math.pi * (r1 * r1 + r2 * r2) - inter)


def equal_lens_iou(r: float, d: float) -> float:
    """The same for equal radii: lens area 2 r^2 acos(d / 2r) - (d / 2) sqrt(4 r^2 - d^2)."""
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    return lens / (2 * math.pi * r * r - lens)


def records(shapes: Sequence[Annotation], who: str, image: str) -> list[Annotation]:
    """The shapes as drawn by who on image."""
    return [shape(s.kind, s.coords, s.points, who=who, image=image, label=s.label) for s in shapes]


def work_from(drawings: dict[str, dict[str, Sequence[Annotation]]]) -> Work:
    """Work from {image: {annotator: shapes}}, every annotator finished their images."""
    found = [
        record
        for image, done in drawings.items()
        for who, shapes in done.items()
        for record in records(shapes, who, image)
    ]
    statuses = {(image, who): "done" for image, done in drawings.items() for who in done}
    return work_of(found, statuses)


# --- lines and open paths ------------------------------------------------------------------


LINE = line(10, 20, 210, 70)  # 206.2 px long: r = 10.3 px
PATH = path((0, 0), (40, 30), (80, 0), (120, 30))


def test_identical_lines_and_paths_have_similarity_one() -> None:
    assert iou(LINE, line(10, 20, 210, 70)) == 1.0
    assert iou(PATH, path((0, 0), (40, 30), (80, 0), (120, 30))) == 1.0
    # a line is a path of two points
    assert iou(LINE, path((10, 20), (210, 70))) == 1.0
    assert area(LINE) == 0.0 and area(PATH) == 0.0


def test_reversed_point_order_gives_the_same_similarity_bit_for_bit() -> None:
    assert iou(LINE, line(210, 70, 10, 20)) == 1.0
    assert iou(PATH, path((120, 30), (80, 0), (40, 30), (0, 0))) == 1.0
    other = line(14, 25, 205, 70)
    assert iou(line(210, 70, 10, 20), other) == iou(LINE, other)
    assert iou(other, line(210, 70, 10, 20)) == pytest.approx(iou(LINE, other), abs=1e-12)
    wiggle = path((3, 2), (41, 28), (79, 4), (118, 33))
    assert iou(path((120, 30), (80, 0), (40, 30), (0, 0)), wiggle) == iou(PATH, wiggle)
    assert 0.5 < iou(PATH, wiggle) < 1.0


def test_slightly_shifted_line_matches_and_far_line_does_not() -> None:
    length = math.hypot(200, 50)
    nx, ny = -50 / length, 200 / length  # unit normal
    near = 0.02 * length  # 2 % of the length, 4.1 px
    shifted = line(10 + near * nx, 20 + near * ny, 210 + near * nx, 70 + near * ny)
    along = line(10 + 40, 20 + 10, 210 + 40, 70 + 10)  # a fifth of the length along it
    far = line(10 + 60 * nx, 20 + 60 * ny, 210 + 60 * nx, 70 + 60 * ny)
    assert 0.5 < iou(LINE, shifted) < 1.0
    assert 0.5 < iou(LINE, along) < 1.0
    assert iou(LINE, far) == 0.0
    assert [(m.a, m.b) for m in match_objects([LINE], [far, shifted])] == [(0, 1)]
    assert [(m.a, m.b) for m in match_objects([LINE], [far, along])] == [(0, 1)]
    assert match_objects([LINE], [far], threshold=0.0) == []


def test_the_documented_shifts_give_an_iou_of_one_half() -> None:
    # a straight line of length L, r = L / 20: perpendicular shift 0.655 r, shift along it
    # L / 3 + pi r / 6, rotation about its middle by 7.0 degrees (the buffer's arcs are
    # polygons, so a little off the exact figures)
    length = 100.0
    r = OPEN_TOLERANCE * length
    base = line(0, 0, length, 0)
    assert open_tolerance([(0, 0), (length, 0)]) == r
    assert iou(base, line(0, 0.6547 * r, length, 0.6547 * r)) == pytest.approx(0.5, abs=1e-3)
    along = length / 3 + math.pi * r / 6
    assert iou(base, line(along, 0, length + along, 0)) == pytest.approx(0.5, abs=1e-3)
    turn = math.radians(6.957)
    dx, dy = length / 2 * math.cos(turn), length / 2 * math.sin(turn)
    turned = line(length / 2 - dx, -dy, length / 2 + dx, dy)
    assert iou(base, turned) == pytest.approx(0.5, abs=1e-3)


def test_open_shape_similarity_is_scale_invariant_above_the_pixel_floor() -> None:
    a, b = LINE, line(14, 25, 205, 72)
    big_a = line(*(7 * v for v in a.coords))
    big_b = line(*(7 * v for v in b.coords))
    assert iou(big_a, big_b) == pytest.approx(iou(a, b), abs=1e-9)
    # under 20 px the buffer is one pixel, the width of a drawn stroke
    assert open_tolerance([(0, 0), (3, 4)]) == 1.0
    assert open_tolerance([(5, 5)]) == 1.0
    assert iou(line(5, 5, 5, 5), line(5, 5, 5, 5)) == 1.0  # a dot against itself


def test_open_and_areal_shapes_never_match() -> None:
    box = shape("rect", (10, 20, 210, 70))
    band = shape("polygon", points=((10, 15), (210, 65), (210, 75), (10, 25)))  # around LINE
    ring = shape("circle", (10, 20, 210, 70))
    edge = line(10, 20, 210, 20)  # the box's top edge
    for areal in (box, band, ring):
        for open_shape in (LINE, PATH, edge):
            assert iou(open_shape, areal) == 0.0
            assert iou(areal, open_shape) == 0.0
    assert not iou_matrix([LINE, PATH, edge], [box, band, ring]).any()
    assert not iou_matrix([box, band, ring], [LINE, PATH, edge]).any()
    assert match_objects([LINE, edge], [box, band], threshold=0.0) == []


def test_iou_matrix_of_every_kind_equals_iou_bit_for_bit() -> None:
    kinds = [
        shape("rect", (0, 0, 10, 10)),
        shape("rect", (5, 0, 15, 10)),
        shape("circle", (0, 0, 10, 10)),
        circle(6, 5, 5, sx=1.2),
        shape("polygon", points=((0, 0), (10, 0), (0, 10))),
        line(0, 0, 10, 10),
        line(10, 10, 0, 1),
        path((0, 0), (10, 0), (10, 10)),
        path((0, 1), (10, 1)),
    ]
    matrix = iou_matrix(kinds, kinds[::-1])
    expected = np.array([[iou(x, y) for y in kinds[::-1]] for x in kinds])
    assert (matrix == expected).all()
    assert (np.diag(iou_matrix(kinds, kinds)) == 1.0).all()


def test_identical_line_drawings_agree_fully_in_the_report() -> None:
    drawings = {
        f"road{k}.jpg": {
            who: [
                line(10 + k, 300, 200, 20 + k, label="lane"),
                line(400, 300, 300 + k, 20, label="lane"),
                path((0, 400), (100, 380 + k), (250, 390), (400, 350), label="edge"),
            ]
            for who in ("a", "b")
        }
        for k in range(3)
    }
    work = work_from(drawings)
    pair = pair_agreement(work, "a", "b")
    assert (pair.f1, pair.mean_iou, pair.f1_over_thresholds) == (1.0, 1.0, 1.0)
    report = agreement_report(work, 0.5, resamples=0)
    assert [(p.f1, p.matched) for p in report.pairwise] == [(1.0, 9)]
    assert report.label_alpha.value == 1.0
    assert alpha_of_columns(label_columns(work, units_of(work))) == 1.0
    # one label everywhere: alpha undefined (no variation to explain), not low
    same = work_from(
        {"road.jpg": {who: [LINE, line(400, 300, 300, 20), PATH] for who in ("a", "b")}}
    )
    assert math.isnan(agreement_report(same, 0.5, resamples=0).label_alpha.value)
    assert agreement_report(same, 0.5, resamples=0).pairwise[0].f1 == 1.0


# --- circles and ellipses -----------------------------------------------------------------


def test_circle_in_its_box_concentric_circles_and_area_are_exact() -> None:
    for r in (0.5, 3.0, 17.25, 240.0):
        assert iou(
            circle(1.3, 7.9, r), shape("rect", (1.3 - r, 7.9 - r, 1.3 + r, 7.9 + r))
        ) == pytest.approx(math.pi / 4, abs=1e-7)
        assert area(circle(0, 0, r, sx=1.5)) == pytest.approx(math.pi * 1.5 * r * r, rel=1e-15)
        for ratio in (0.99, 0.7, 0.3):
            found = iou(circle(50.3, 20.1, r), circle(50.3, 20.1, ratio * r))
            assert found == pytest.approx(ratio**2, abs=1e-7)


def test_circle_and_ellipse_iou_within_1e_7_of_the_closed_form() -> None:
    worst = 0.0
    rng = np.random.default_rng(5)
    pairs: list[tuple[Annotation, Annotation, float]] = []
    for r1 in (3.0, 17.5, 240.0):
        for ratio in (1.0, 0.8, 0.5, 0.25):
            r2 = ratio * r1
            for step in range(21):
                d = (r1 + r2) * step / 20
                angle = rng.uniform(0, 2 * math.pi)
                cx, cy = rng.uniform(0, 500, 2)
                exact = lens_iou(r1, r2, d)
                if ratio == 1.0 and 0 < d < 2 * r1:
                    assert exact == pytest.approx(equal_lens_iou(r1, d), abs=1e-13)
                # an affine stretch keeps the IoU: the same pair as axis-aligned ellipses
                for sx, sy in ((1.0, 1.0), (2.5, 0.6)):
                    other = circle(cx + d * math.cos(angle), cy + d * math.sin(angle), r2, sx, sy)
                    pairs.append((circle(cx, cy, r1, sx, sy), other, exact))
    for a, b, exact in pairs:
        worst = max(worst, abs(iou(a, b) - exact))
    assert worst < 1e-7
    matrix = iou_matrix([a for a, _, _ in pairs[:40]], [b for _, b, _ in pairs[:40]])
    assert (np.diag(matrix) == [iou(a, b) for a, b, _ in pairs[:40]]).all()


def test_circles_at_exactly_the_threshold_match() -> None:
    r = 37.3
    d = brentq(lambda d: equal_lens_iou(r, d) - 0.5, 1e-9, 2 * r - 1e-9, xtol=1e-14)
    beyond = brentq(lambda d: equal_lens_iou(r, d) - (0.5 - 1e-5), 1e-9, 2 * r - 1e-9)
    angle = math.radians(30)
    for sx, sy in ((1.0, 1.0), (0.4, 3.0)):
        a = circle(101.7, 55.2, r, sx, sy)
        at = circle(101.7 + d * math.cos(angle), 55.2 + d * math.sin(angle), r, sx, sy)
        below = circle(101.7 + beyond * math.cos(angle), 55.2 + beyond * math.sin(angle), r, sx, sy)
        (match,) = match_objects([a], [at], 0.5)
        assert match.iou == pytest.approx(0.5, abs=1e-7)
        assert len(greedy_match([a], [at], 0.5)) == 1
        assert match_objects([a], [below], 0.5) == []
        work = work_from({"c.jpg": {"a": [a], "b": [at]}})
        assert pair_agreement(work, "a", "b").f1 == 1.0
        assert agreement_report(work, 0.5, resamples=0).pairwise[0].f1 == 1.0


# --- the tolerance at the threshold -------------------------------------------------------

# width 4.5, shifted by 1.5, height 10: exactly 30 / 60 = 1/2, in floats 0.4999999999999999
DECIMAL_A = (10.1, 20.2, 14.6, 30.2)
DECIMAL_B = (11.6, 20.2, 16.1, 30.2)


def exact_iou(a: Sequence[float], b: Sequence[float]) -> Fraction:
    fa, fb = [Fraction(str(v)) for v in a], [Fraction(str(v)) for v in b]
    width = max(Fraction(0), min(fa[2], fb[2]) - max(fa[0], fb[0]))
    height = max(Fraction(0), min(fa[3], fb[3]) - max(fa[1], fb[1]))
    inter = width * height
    return inter / ((fa[2] - fa[0]) * (fa[3] - fa[1]) + (fb[2] - fb[0]) * (fb[3] - fb[1]) - inter)


def test_decimal_rects_at_exactly_one_half_match() -> None:
    a, b = shape("rect", DECIMAL_A), shape("rect", DECIMAL_B)
    assert exact_iou(DECIMAL_A, DECIMAL_B) == Fraction(1, 2)
    assert iou(a, b) == 0.4999999999999999
    assert [(m.a, m.b) for m in match_objects([a], [b], 0.5)] == [(0, 0)]
    assert [(m.a, m.b) for m in greedy_match([a], [b], 0.5)] == [(0, 0)]
    assert [len(u.members) for u in image_units("d.jpg", {"x": [a], "y": [b]}, 0.5)] == [2]


def test_decimal_rects_at_one_half_match_in_pairwise_bias_and_the_batch_report() -> None:
    work = work_from(
        {
            "d.jpg": {"a": [shape("rect", DECIMAL_A)], "b": [shape("rect", DECIMAL_B)]},
            "e.jpg": {"a": [shape("rect", DECIMAL_B)], "b": [shape("rect", DECIMAL_A)]},
        }
    )
    per_image = pair_agreement(work, "a", "b", 0.5)
    assert (per_image.matched, per_image.f1) == (2, 1.0)
    report = agreement_report(work, 0.5, resamples=0)
    assert [(p.matched, p.f1) for p in report.pairwise] == [(2, 1.0)]
    assert [bias.matched for bias in report.per_annotator] == [2, 2]
    assert annotator_bias(work, "a", 0.5).matched == 2


def test_reaches_and_count_reaching_agree() -> None:
    threshold = 0.5
    assert reaches(np.array([0.5 - 0.9 * IOU_TOLERANCE]), threshold).all()
    assert not reaches(np.array([0.5 - 2 * IOU_TOLERANCE]), threshold).any()
    assert not reaches(np.array([0.0]), 0.0).any()  # IoU > 0 is still required
    rng = np.random.default_rng(11)
    levels = (0.5, 0.55, 0.6, 0.75)
    for _ in range(50):
        near = np.array(levels)[rng.integers(0, 4, 30)] + rng.uniform(-3e-6, 3e-6, 30)
        found = np.sort(np.concatenate([near, rng.uniform(0.4, 1.0, 10)]))
        expected = [int(reaches(found, level).sum()) for level in levels]
        assert count_reaching(found, levels).tolist() == expected


# --- the batch report equals the per-image functions on every kind ------------------------


def mixed_work(seed: int) -> Work:
    """Three annotators, six images, every kind of shape, pairs near the thresholds."""
    rng = np.random.default_rng(seed)
    r = 37.3
    d = brentq(lambda d: equal_lens_iou(r, d) - 0.5, 1e-9, 2 * r - 1e-9, xtol=1e-14)
    drawings: dict[str, dict[str, Sequence[Annotation]]] = {}
    for k in range(6):
        truth = [
            shape("rect", (20.0 + k, 30.0, 90.0, 80.0), label="box"),
            circle(200, 150, 30),
            line(300, 40, 450, 90 + k),
            path((50, 300), (120, 260), (200, 310), (260, 280)),
            shape("polygon", points=((400, 300), (480, 290), (470, 380), (410, 370))),
        ]
        done: dict[str, Sequence[Annotation]] = {}
        for who in ("a", "b", "c"):
            drawn = []
            for item in truth:
                if rng.random() < 0.15:
                    continue  # missed
                jitter = rng.normal(0, 2.5, 4)
                label = str(rng.choice(["x", "y"]))
                if item.coords:
                    coords = tuple(float(v) for v in np.array(item.coords) + jitter)
                    drawn.append(shape(item.kind, coords, label=label))
                else:
                    moved = tuple((x + jitter[0], y + jitter[1]) for x, y in item.points)
                    drawn.append(shape(item.kind, points=moved, label=label))
            done[who] = drawn
        # near the threshold: exact-0.5 decimal rects and circles, for two of the three
        done["a"] = [*done["a"], shape("rect", DECIMAL_A, label="x"), circle(600, 400, r)]
        done["b"] = [
            *done["b"],
            shape("rect", DECIMAL_B, label="x"),
            circle(600 + d * 0.6, 400 + d * 0.8, r),
        ]
        drawings[f"mixed{k}.jpg"] = done
    drawings["empty.jpg"] = {"a": [], "b": [], "c": [line(1, 1, 30, 30)]}
    return work_from(drawings)


def same(expected: Any, found: Any) -> bool:
    """Equal, floats bit for bit, nan equal to nan."""
    if isinstance(expected, float) and isinstance(found, float):
        return expected == found or (math.isnan(expected) and math.isnan(found))
    if isinstance(expected, tuple) and isinstance(found, tuple):
        return len(expected) == len(found) and all(map(same, expected, found))
    return bool(expected == found)


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.75])
def test_batch_report_equals_the_per_image_functions_on_every_kind(threshold: float) -> None:
    work = mixed_work(1)
    report = agreement_report(work, threshold, resamples=0)
    assert same(report.pairwise, pairwise_agreement(work, threshold))
    overall = alpha_of_columns(label_columns(work, units_of(work, threshold)))
    assert same(report.label_alpha.value, overall)
    for bias in report.per_annotator:
        others = work.without(bias.annotator)
        units = units_of(others, threshold)
        effect = overall - alpha_of_columns(label_columns(others, units))
        agreed = consensus_from_units(others, units)
        expected = annotator_bias(work, bias.annotator, threshold, effect, agreed)
        for field in expected.__dataclass_fields__:
            assert same(getattr(expected, field), getattr(bias, field)), field
    # the pairs exactly at 0.5 (the last two shapes of a and b on each mixed image) match
    if threshold == 0.5:
        for image in work.images[1:]:
            mine, theirs = work.by_image[image]["a"], work.by_image[image]["b"]
            found = {(m.a, m.b) for m in match_objects(mine, theirs, threshold)}
            assert {(len(mine) - 2, len(theirs) - 2), (len(mine) - 1, len(theirs) - 1)} <= found
