"""IoU of annotation shapes and one-to-one object matching, against hand-computed values."""

from __future__ import annotations

import math
from itertools import count

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from analysis.geometry import area, iou, iou_matrix, shape_polygon
from analysis.matching import Match, greedy_match, match_objects
from domain.annotation import Annotation

_ids = count()


def shape(
    kind: str,
    coords: tuple[float, ...] = (),
    points: tuple[tuple[float, float], ...] = (),
    label: str = "person",
) -> Annotation:
    return Annotation(
        id=f"s{next(_ids)}",
        image_key="img.jpg",
        annotator="alice",
        label=label,
        kind=kind,
        coords=coords,
        points=points,
    )


def rect(x0: float, y0: float, x1: float, y1: float, label: str = "person") -> Annotation:
    return shape("rect", (x0, y0, x1, y1), label=label)


def band(x0: float, x1: float) -> Annotation:
    """A rect spanning y 0..10, so its IoU with another band is the 1-D interval IoU."""
    return rect(x0, 0, x1, 10)


SQUARE = rect(0, 0, 10, 10)


# --- IoU --------------------------------------------------------------------------------------


def test_identical_rects_have_iou_one() -> None:
    assert iou(SQUARE, rect(0, 0, 10, 10)) == 1.0


def test_half_shifted_rect_iou_is_one_third() -> None:
    # intersection 5x10 = 50, union 100 + 100 - 50 = 150
    assert iou(SQUARE, rect(5, 0, 15, 10)) == pytest.approx(50 / 150, abs=1e-12)


def test_disjoint_and_edge_touching_rects_have_iou_zero() -> None:
    assert iou(SQUARE, rect(20, 20, 30, 30)) == 0.0
    assert iou(SQUARE, rect(10, 0, 20, 10)) == 0.0
    assert iou(SQUARE, rect(10, 10, 20, 20)) == 0.0


def test_contained_rect_iou_is_area_ratio() -> None:
    assert iou(SQUARE, rect(0, 0, 5, 5)) == pytest.approx(25 / 100, abs=1e-12)


def test_rect_corner_order_does_not_matter() -> None:
    assert iou(rect(10, 10, 0, 0), rect(15, 0, 5, 10)) == pytest.approx(1 / 3, abs=1e-12)
    assert area(rect(10, 10, 0, 0)) == 100.0


def test_polygon_equal_to_rect_has_iou_one() -> None:
    square = shape("polygon", points=((0, 0), (10, 0), (10, 10), (0, 10)))
    assert iou(square, SQUARE) == pytest.approx(1.0, abs=1e-9)
    assert iou(SQUARE, square) == pytest.approx(1.0, abs=1e-9)


def test_triangle_against_its_bounding_box_is_one_half() -> None:
    # right triangle with legs 10: area 50 inside the 100 box
    triangle = shape("polygon", points=((0, 0), (10, 0), (0, 10)))
    assert area(triangle) == pytest.approx(50.0)
    assert iou(triangle, SQUARE) == pytest.approx(0.5, abs=1e-12)


def test_circle_against_its_bounding_box_is_pi_over_four() -> None:
    circle = shape("circle", (0, 0, 10, 10))
    # the area-preserving 1024-gon: pi/4 to within 1e-7 (tests/unit/test_geometry_similarity.py)
    assert iou(circle, SQUARE) == pytest.approx(math.pi / 4, abs=1e-7)


def test_ellipse_uses_both_half_axes() -> None:
    ellipse = shape("circle", (20, 10, 0, 0))  # 20 wide, 10 high, corners reversed
    assert area(ellipse) == pytest.approx(math.pi * 10 * 5, rel=0.01)
    assert iou(ellipse, rect(0, 0, 20, 10)) == pytest.approx(math.pi / 4, rel=0.01)


@pytest.mark.parametrize(
    "other",
    [SQUARE, shape("circle", (0, 0, 10, 10)), shape("polygon", points=((0, 0), (10, 0), (0, 10)))],
)
def test_line_and_path_have_no_area_and_never_match_an_areal_shape(other: Annotation) -> None:
    line = shape("line", (0, 0, 10, 10))
    path = shape("path", points=((0, 0), (10, 0), (10, 10), (0, 10), (0, 0)))
    for open_shape in (line, path):
        assert area(open_shape) == 0.0
        assert iou(open_shape, other) == 0.0
        assert iou(other, open_shape) == 0.0
    # two open shapes compare as buffered regions: the diagonal only meets the outline's corners
    assert 0.0 < iou(line, path) < 0.5


def test_self_intersecting_polygon_is_repaired_to_its_areal_part() -> None:
    # bow-tie over the 10x10 square: two triangles meeting at (5, 5), 25 each
    bowtie = shape_polygon("polygon", (), ((0, 0), (10, 10), (10, 0), (0, 10)))
    assert bowtie is not None and bowtie.is_valid
    assert bowtie.area == pytest.approx(50.0)
    assert shape_polygon("line", (0, 0, 1, 1), ()) is None
    assert shape_polygon("polygon", (), ((0, 0), (5, 5), (10, 10))) is None  # collinear


# --- IoU matrix -------------------------------------------------------------------------------


def test_iou_matrix_of_rects_equals_elementwise_iou() -> None:
    a = [SQUARE, rect(5, 0, 15, 10), rect(12, 12, 2, 2)]
    b = [rect(0, 0, 5, 5), rect(10, 0, 20, 10)]
    matrix = iou_matrix(a, b)
    assert matrix.shape == (3, 2)
    expected = np.array([[iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(matrix, expected, rtol=0, atol=1e-15)
    # by hand: (5,0,15,10) only touches (0,0,5,5); (2,2,12,12) meets (0,0,5,5) in 3x3 = 9 of
    # 100 + 25 - 9 = 116 and (10,0,20,10) in 2x8 = 16 of 100 + 100 - 16 = 184
    by_hand = [[25 / 100, 0.0], [0.0, 50 / 150], [9 / 116, 16 / 184]]
    np.testing.assert_allclose(matrix, by_hand, rtol=1e-12)


def test_iou_matrix_of_mixed_kinds_equals_elementwise_iou() -> None:
    triangle = shape("polygon", points=((0, 0), (10, 0), (0, 10)))
    a = [SQUARE, triangle, shape("line", (0, 0, 10, 10))]
    b = [rect(0, 0, 10, 10), shape("circle", (0, 0, 10, 10)), triangle, rect(50, 50, 60, 60)]
    matrix = iou_matrix(a, b)
    assert matrix.shape == (3, 4)
    expected = np.array([[iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(matrix, expected, rtol=0, atol=1e-12)
    assert matrix[1, 0] == pytest.approx(0.5)
    assert matrix[1, 2] == pytest.approx(1.0)
    assert not matrix[2].any()
    assert not matrix[:, 3].any()


def test_iou_matrix_with_an_empty_side() -> None:
    assert iou_matrix([], [SQUARE]).shape == (0, 1)
    assert iou_matrix([SQUARE, SQUARE], []).shape == (2, 0)


# --- matching ---------------------------------------------------------------------------------


def test_count_first_beats_greedy_when_greedy_blocks_a_second_match() -> None:
    a1, a2 = band(0, 10), band(4, 14)
    b1, b2 = band(1, 11), band(-3, 7)
    a, b = [a1, a2], [b1, b2]
    # by hand: a1b1 = 9/11, a1b2 = 7/13, a2b1 = 7/13, a2b2 = 3/17
    np.testing.assert_allclose(iou_matrix(a, b), [[9 / 11, 7 / 13], [7 / 13, 3 / 17]])
    assert greedy_match(a, b) == [Match(0, 0, pytest.approx(9 / 11))]
    matches = match_objects(a, b)
    assert [(m.a, m.b) for m in matches] == [(0, 1), (1, 0)]
    assert [m.iou for m in matches] == pytest.approx([7 / 13, 7 / 13])


def test_count_first_beats_max_iou_sum_that_trades_three_matches_for_two() -> None:
    a = [band(0, 10), band(3, 13), band(6, 16)]
    b = [band(0, 10), band(3, 13), band(-3, 7)]
    # by hand: shift 3 -> 7/13, shift 6 -> 4/16, shift 9 -> 1/19
    expected = [[1, 7 / 13, 7 / 13], [7 / 13, 1, 4 / 16], [4 / 16, 7 / 13, 1 / 19]]
    scores = iou_matrix(a, b)
    np.testing.assert_allclose(scores, expected)
    # the max-sum assignment over valid pairs keeps the two perfect pairs (2.0 > 3 * 7/13)
    rows, cols = linear_sum_assignment(np.where(scores >= 0.5, scores, 0.0), maximize=True)
    assert sum(scores[i, j] >= 0.5 for i, j in zip(rows, cols)) == 2
    assert len(greedy_match(a, b)) == 2
    matches = match_objects(a, b)
    assert [(m.a, m.b) for m in matches] == [(0, 2), (1, 0), (2, 1)]


def test_equal_count_is_decided_by_total_iou() -> None:
    a = [band(0, 10), band(2, 10)]
    b = [band(1, 11), band(0, 8)]
    # by hand: a1b1 = 9/11, a1b2 = 8/10, a2b1 = 8/10, a2b2 = 6/10 -> both pairings give 2,
    # diagonal sums 9/11 + 0.6 = 1.418, anti-diagonal 1.6
    np.testing.assert_allclose(iou_matrix(a, b), [[9 / 11, 0.8], [0.8, 0.6]])
    matches = match_objects(a, b)
    assert [(m.a, m.b) for m in matches] == [(0, 1), (1, 0)]
    assert sum(m.iou for m in matches) == pytest.approx(1.6)
    assert [(m.a, m.b) for m in greedy_match(a, b)] == [(0, 0), (1, 1)]


def test_pair_exactly_at_threshold_matches_and_just_below_does_not() -> None:
    at = rect(0, 0, 10, 5)  # 50 / 100 = 0.5 exactly
    below = rect(0, 0, 10, 4.99)  # 49.9 / 100
    assert iou(SQUARE, at) == 0.5
    assert match_objects([SQUARE], [at]) == [Match(0, 0, 0.5)]
    assert greedy_match([SQUARE], [at]) == [Match(0, 0, 0.5)]
    assert match_objects([SQUARE], [below]) == []
    assert greedy_match([SQUARE], [below]) == []
    assert match_objects([SQUARE], [below], threshold=0.49) == [Match(0, 0, pytest.approx(0.499))]


def test_labels_are_ignored() -> None:
    cat, dog = rect(0, 0, 10, 10, label="cat"), rect(1, 0, 11, 10, label="dog")
    assert match_objects([cat], [dog]) == [Match(0, 0, pytest.approx(9 / 11))]


def test_unequal_lists_match_sorted_by_a_and_drop_forced_pairs() -> None:
    a = [rect(100, 100, 110, 110), SQUARE, rect(200, 0, 210, 10)]
    b = [rect(200, 0, 210, 10), rect(0, 0, 10, 10)]
    assert match_objects(a, b) == [Match(1, 1, 1.0), Match(2, 0, 1.0)]
    # one object on each side, far apart: the solver pairs them, the threshold drops it
    assert match_objects([SQUARE], [rect(50, 50, 60, 60)]) == []


def test_zero_threshold_never_pairs_disjoint_shapes() -> None:
    assert match_objects([SQUARE], [rect(50, 50, 60, 60)], threshold=0.0) == []
    assert [(m.a, m.b) for m in match_objects([SQUARE], [rect(9, 9, 19, 19)], 0.0)] == [(0, 0)]


def test_empty_inputs_give_no_matches() -> None:
    assert match_objects([], []) == []
    assert match_objects([SQUARE], []) == []
    assert match_objects([], [SQUARE]) == []
    assert greedy_match([], [SQUARE]) == []


def test_threshold_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        match_objects([SQUARE], [SQUARE], threshold=1.5)
