"""Geometry rules: plotly paths and shapes, clamping to the image, typed-in coordinates."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import ShapeError
from domain.geometry import (
    clamp_geometry,
    format_path,
    geometry_of_shape,
    is_degenerate,
    parse_coordinate,
    parse_path,
    parse_points_text,
)

W, H = 640, 480


# --- parse_path / format_path -------------------------------------------------------------


def test_closed_path_gives_points_and_closed() -> None:
    points, closed = parse_path("M10,20L30,40L50,10Z")

    assert points == ((10.0, 20.0), (30.0, 40.0), (50.0, 10.0))
    assert closed is True


def test_open_path_is_not_closed() -> None:
    points, closed = parse_path("M10.5,20.25L30,40")

    assert points == ((10.5, 20.25), (30.0, 40.0))
    assert closed is False


@pytest.mark.parametrize(
    "path",
    [
        "M 10 20 L 30 40 L 50 10 Z",
        "M10 20L30 40L50 10Z",
        "M10,20 L30,40 L50,10 Z",
        " M10,20L30,40L50,10Z\n",
    ],
)
def test_spaces_and_commas_are_interchangeable(path: str) -> None:
    assert parse_path(path) == (((10.0, 20.0), (30.0, 40.0), (50.0, 10.0)), True)


def test_exponents_and_negative_numbers() -> None:
    points, _ = parse_path("M1e2,-5L-2.5E-1,.5L1.5e+1,-.25")

    assert points == ((100.0, -5.0), (-0.25, 0.5), (15.0, -0.25))


@pytest.mark.parametrize(
    "path",
    [
        "M0,0C10,10 20,20 30,30",  # bezier curve
        "M0,0A5,5 0 0 1 10,10",  # arc
        "M0,0Q5,5 10,10",
        "M0,0H10V10Z",
        "M0,0L10,10 oops",
    ],
)
def test_commands_plotly_does_not_draw_are_rejected(path: str) -> None:
    with pytest.raises(ShapeError, match="unsupported path"):
        parse_path(path)


def test_odd_number_of_coordinates_is_rejected() -> None:
    with pytest.raises(ShapeError, match="odd number"):
        parse_path("M0,0L10,10L20")


@pytest.mark.parametrize("path", ["M5,5", "M5,5Z", "Z"])
def test_fewer_than_two_points_is_rejected(path: str) -> None:
    with pytest.raises(ShapeError, match="at least two points"):
        parse_path(path)


@pytest.mark.parametrize("path", ["", "   ", None, 12])
def test_missing_path_string_is_rejected(path: Any) -> None:
    with pytest.raises(ShapeError):
        parse_path(path)


@pytest.mark.parametrize("closed", [True, False])
def test_format_path_round_trips(closed: bool) -> None:
    points = ((0.0, 0.0), (12.25, 480.0), (639.99, 3.5), (100.1, 200.2))

    assert parse_path(format_path(points, closed)) == (points, closed)


# --- geometry_of_shape ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rect", "circle", "line"])
def test_box_shapes_give_their_corners(kind: str) -> None:
    shape = {"type": kind, "x0": 10, "y0": 20.5, "x1": "110", "y1": 220, "name": "x"}

    assert geometry_of_shape(shape) == (kind, (10.0, 20.5, 110.0, 220.0), ())


def test_closed_path_is_a_polygon() -> None:
    kind, coords, points = geometry_of_shape({"type": "path", "path": "M1,1L9,1L5,8Z"})

    assert (kind, coords, points) == ("polygon", (), ((1.0, 1.0), (9.0, 1.0), (5.0, 8.0)))


def test_open_path_is_a_path() -> None:
    kind, coords, points = geometry_of_shape({"type": "path", "path": "M1,1L9,1"})

    assert (kind, coords, points) == ("path", (), ((1.0, 1.0), (9.0, 1.0)))


def test_polygon_with_two_points_is_rejected() -> None:
    with pytest.raises(ShapeError, match="three points"):
        geometry_of_shape({"type": "path", "path": "M1,1L9,9Z"})


def test_path_shape_without_path_is_rejected() -> None:
    with pytest.raises(ShapeError):
        geometry_of_shape({"type": "path"})


@pytest.mark.parametrize("bad", ["abc", None, [1], {"v": 1}, ""])
def test_non_numeric_coordinate_is_rejected_naming_it(bad: Any) -> None:
    shape = {"type": "rect", "x0": 1, "y0": 2, "x1": bad, "y1": 4}

    with pytest.raises(ShapeError, match="x1"):
        geometry_of_shape(shape)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), "NaN", "inf"])
def test_non_finite_coordinate_is_rejected(bad: Any) -> None:
    with pytest.raises(ShapeError, match="finite"):
        geometry_of_shape({"type": "line", "x0": 1, "y0": bad, "x1": 3, "y1": 4})


@pytest.mark.parametrize("shape", [{"type": "image"}, {"type": None}, {}])
def test_unknown_shape_type_is_rejected(shape: dict) -> None:
    with pytest.raises(ShapeError, match="unsupported shape type"):
        geometry_of_shape(shape)


# --- clamp_geometry / is_degenerate --------------------------------------------------------


def test_rect_partly_outside_is_pulled_into_the_image() -> None:
    coords, points = clamp_geometry("rect", (-20, 30, 700, 500), (), W, H)

    assert coords == (0, 30, 640, 480)
    assert points == ()


@pytest.mark.parametrize("kind", ["rect", "circle"])
def test_box_corners_are_normalised(kind: str) -> None:
    coords, _ = clamp_geometry(kind, (100, 200, 50, 20), (), W, H)

    assert coords == (50, 20, 100, 200)


def test_line_keeps_its_direction_while_clamped() -> None:
    coords, _ = clamp_geometry("line", (700, 200, 50, -20), (), W, H)

    assert coords == (640, 200, 50, 0)


def test_clamped_values_are_rounded_to_hundredths() -> None:
    coords, _ = clamp_geometry("rect", (10.123456, 20.987654, 30, 40), (), W, H)

    assert coords == (10.12, 20.99, 30, 40)


@pytest.mark.parametrize("kind", ["polygon", "path"])
def test_points_are_clamped_one_by_one(kind: str) -> None:
    coords, points = clamp_geometry(kind, (), ((-5, 10), (700, 500), (20.456, 30)), W, H)

    assert coords == ()
    assert points == ((0, 10), (640, 480), (20.46, 30))


@pytest.mark.parametrize(
    ("kind", "coords"),
    [
        ("rect", (10, 10, 10, 200)),  # no width
        ("rect", (10, 10, 200, 10.5)),  # half a pixel high
        ("circle", (5, 5, 5.9, 5.9)),
        ("line", (10, 10, 10.5, 10.5)),  # shorter than a pixel
    ],
)
def test_shapes_without_extent_are_degenerate(kind: str, coords: tuple) -> None:
    assert is_degenerate(kind, coords, ())


@pytest.mark.parametrize(
    ("kind", "coords"),
    [
        ("rect", (10, 10, 11, 11)),
        ("circle", (0, 0, 640, 480)),
        ("line", (0, 5, 100, 5)),  # a flat line is still a line
        ("line", (100, 100, 99, 99)),  # diagonal, 1.41 px
    ],
)
def test_shapes_with_extent_are_not_degenerate(kind: str, coords: tuple) -> None:
    assert not is_degenerate(kind, coords, ())


def test_polygon_collapsed_to_a_point_is_degenerate() -> None:
    assert is_degenerate("polygon", (), ((5, 5), (5.5, 5.2), (5.1, 5.9)))


def test_thin_but_long_path_is_not_degenerate() -> None:
    assert not is_degenerate("path", (), ((0, 5), (100, 5)))


# --- typed-in values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("12.5", 12.5), ("  12.5 ", 12.5), (7, 7.0), ("0", 0.0), (640, 640.0)]
)
def test_coordinate_in_the_image_is_accepted(value: Any, expected: float) -> None:
    assert parse_coordinate(value, "x", W, H) == expected


def test_coordinate_is_rounded_to_hundredths() -> None:
    assert parse_coordinate("3.14159", "y", W, H) == 3.14


@pytest.mark.parametrize("value", ["abc", "", None, "1,5"])
def test_non_numeric_coordinate_says_so(value: Any) -> None:
    with pytest.raises(ShapeError, match="x value is not a number"):
        parse_coordinate(value, "x", W, H)


@pytest.mark.parametrize(("value", "axis"), [("641", "x"), (-1, "x"), ("-0.5", "y"), (481, "y")])
def test_coordinate_outside_the_image_says_where_the_image_ends(value: Any, axis: str) -> None:
    limit = W if axis == "x" else H

    with pytest.raises(ShapeError, match=f"outside the image \\(0 to {limit}\\)"):
        parse_coordinate(value, axis, W, H)


def test_y_is_checked_against_the_height_not_the_width() -> None:
    assert parse_coordinate(600, "x", W, H) == 600
    with pytest.raises(ShapeError):
        parse_coordinate(600, "y", W, H)


TRIANGLE = ((10.0, 20.0), (30.0, 40.0), (50.0, 60.0))


@pytest.mark.parametrize(
    "text",
    [
        "10,20; 30,40; 50,60",
        "10,20;30,40;50,60;",
        "10,20\n30,40\n50,60",
        "10,20 30,40 50,60",
        "10 20; 30 40; 50 60",
        " 10, 20 ;30 ,40; 50,60 ",
    ],
)
def test_points_text_in_the_usual_spellings(text: str) -> None:
    assert parse_points_text(text, W, H, minimum=3) == TRIANGLE


def test_too_few_points_names_the_minimum() -> None:
    with pytest.raises(ShapeError, match="at least 3 points"):
        parse_points_text("10,20; 30,40", W, H, minimum=3)


def test_a_point_outside_the_image_is_rejected() -> None:
    with pytest.raises(ShapeError, match="outside the image"):
        parse_points_text("10,20; 700,40; 50,60", W, H, minimum=3)


@pytest.mark.parametrize("text", ["10,20,30; 40,50", "10; 20,30", "a,b; 1,2"])
def test_malformed_points_are_rejected(text: str) -> None:
    with pytest.raises(ShapeError):
        parse_points_text(text, W, H, minimum=2)


@pytest.mark.parametrize("text", [None, 12, [[1, 2], [3, 4]]])
def test_points_that_are_not_text_are_rejected(text: Any) -> None:
    with pytest.raises(ShapeError, match="x,y; x,y"):
        parse_points_text(text, W, H, minimum=2)


def test_points_typed_with_spaces_after_commas_are_read_two_by_two() -> None:
    assert parse_points_text("10, 20 30, 40", W, H, minimum=2) == ((10, 20), (30, 40))
    with pytest.raises(ShapeError, match="an x and a y"):
        parse_points_text("10, 20 30", W, H, minimum=1)
