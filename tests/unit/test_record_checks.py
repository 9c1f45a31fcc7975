"""The shape limits (domain/shape_rules) hold where shapes come in: drawing, moving, the
table, imports; and the one record check keeps what is stored when it refuses an edit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from domain.editing import apply_cell_edit, apply_shape_change
from domain.errors import ShapeError
from domain.record_checks import check_records, keep_stored
from domain.relayout import ShapeChange
from domain.shape_rules import MAX_POINTS, MAX_SHAPES_PER_IMAGE
from formats.model import ImageRef, RawImage, RawShape
from formats.resolve import ImportRejected, resolve
from tests.unit.conftest import CANVAS, LABELS, NOW, make_record

CROSSING = ((10.0, 10.0), (200.0, 100.0), (200.0, 10.0), (10.0, 60.0))
CROSSING_PATH = "M10,10L200,100L200,10L10,60Z"
LONG = tuple((10.0 + i % 300, 10.0 + (i // 300) * 10) for i in range(MAX_POINTS + 1))
NAMES = [label.name for label in LABELS]


def added(*shapes: dict, records: tuple = (), new_id: Callable[[], str] = lambda: "new"):
    change = ShapeChange(added=shapes)
    return apply_shape_change(records, change, CANVAS, LABELS, "person", NOW, new_id)


def test_a_drawn_self_crossing_polygon_is_refused_with_the_reason() -> None:
    result = added({"type": "path", "path": CROSSING_PATH})
    assert result.records == ()
    assert result.problems == (
        "ignored a drawn shape: the polygon's outline crosses itself: draw it again without "
        "crossing",
    )


def test_a_drawn_path_of_too_many_points_is_refused() -> None:
    path = "M" + "L".join(f"{x},{y}" for x, y in LONG)
    result = added({"type": "path", "path": path})
    assert result.records == () and f"at most {MAX_POINTS} points" in result.problems[0]


def test_a_shape_over_the_per_image_limit_is_refused() -> None:
    full = tuple(make_record(f"r{n}") for n in range(MAX_SHAPES_PER_IMAGE))
    result = added({"type": "rect", "x0": 1, "y0": 1, "x1": 50, "y1": 50}, records=full)
    assert result.records == full
    assert f"at most {MAX_SHAPES_PER_IMAGE} shapes" in result.problems[0]


def test_moving_a_corner_so_the_polygon_crosses_itself_keeps_it_as_it_was() -> None:
    square = make_record("p", "polygon", points=((10.0, 10.0), (100.0, 10.0), (100.0, 100.0)))
    change = ShapeChange(edited={"p": {"path": CROSSING_PATH}})
    result = apply_shape_change((square,), change, CANVAS, LABELS, "person", NOW, lambda: "x")
    assert result.records == (square,)
    assert "crosses itself" in result.problems[0]


def test_typing_self_crossing_points_in_the_table_is_refused() -> None:
    square = make_record("p", "polygon")
    with pytest.raises(ShapeError, match="crosses itself"):
        apply_cell_edit(
            (square,), "p", "points", "10,10; 200,100; 200,10; 10,60", CANVAS, LABELS, NOW
        )


def test_typing_too_many_points_in_the_table_is_refused() -> None:
    square = make_record("p", "path")
    text = "; ".join(f"{x},{y}" for x, y in LONG)
    with pytest.raises(ShapeError, match=f"at most {MAX_POINTS} points"):
        apply_cell_edit((square,), "p", "points", text, CANVAS, LABELS, NOW)


IMG = ImageRef("b/img.jpg", 640, 480)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (RawShape("person", "polygon", points=CROSSING, where="f: 1"), "crosses itself"),
        (RawShape("person", "path", points=LONG, where="f: 1"), f"at most {MAX_POINTS} points"),
    ],
)
def test_an_import_refuses_shapes_over_the_limits(shape: RawShape, message: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        resolve([RawImage(IMG.key, (shape,), "f")], {IMG.key: IMG}, ("person",), "m")
    assert message in str(refused.value)


def test_an_import_refuses_too_many_shapes_on_one_image() -> None:
    box = RawShape("person", "rect", (1, 1, 50, 50), where="f")
    raw = [RawImage(IMG.key, (box,) * (MAX_SHAPES_PER_IMAGE + 1), "f")]
    with pytest.raises(ImportRejected, match=f"at most {MAX_SHAPES_PER_IMAGE} shapes"):
        resolve(raw, {IMG.key: IMG}, ("person",), "m")


def test_a_refused_edit_of_a_stored_shape_keeps_the_stored_one() -> None:
    stored = make_record("a")
    edited = replace(stored, coords=(10.0, 20.0, 9999.0, 220.0))
    drawn = make_record("b", coords=(1.0, 1.0, 5.0, 5.0))
    checked = check_records(CANVAS.image_key, "alice", [edited, drawn], 640, 480, NAMES)
    kept = keep_stored(checked, {"a": stored})
    assert kept.records == (drawn, stored)
    assert "outside the image (640x480)" in (kept.message() or "")


def test_a_stored_shape_sent_back_unchanged_is_not_reported() -> None:
    # stored before its label left LABELS: saving other shapes keeps it and says nothing
    old = make_record("a", label="retired")
    checked = check_records(CANVAS.image_key, "alice", [old], 640, 480, NAMES)
    assert checked.problems  # it would not be accepted as a new shape...
    assert keep_stored(checked, {"a": old}).message() is None  # ...but it is kept as it is
