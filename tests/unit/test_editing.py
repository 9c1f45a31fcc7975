"""Edits of one image's records: drawing, moving, erasing in the figure; grid cells; deletes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from components.figure import shapes_of
from domain.editing import apply_cell_edit, apply_shape_change, delete_records
from domain.errors import LabelError, ShapeError
from domain.relayout import ShapeChange, parse_relayout
from tests.unit.conftest import CANVAS, CREATED, LABELS, NOW, make_record

LATER = NOW + timedelta(minutes=5)
IdMaker = Callable[[], str]


def relayout(records: tuple, data: Any) -> ShapeChange:
    """What the app does: parse an event against the ids the figure shows, in order."""
    return parse_relayout(data, [r.id for r in records])


def figure_shapes(records: tuple) -> list[dict]:
    """The shapes the app puts in the figure for records (as plotly sends them back)."""
    return shapes_of(records, LABELS, set())


def draw(records: tuple, shape: dict, new_id: IdMaker, label: str = "animal"):
    change = relayout(records, {"shapes": [*figure_shapes(records), shape]})
    return apply_shape_change(records, change, CANVAS, LABELS, label, NOW, new_id)


def rect(x0: float, y0: float, x1: float, y1: float, **extra: Any) -> dict:
    return {"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, **extra}


# --- drawing ------------------------------------------------------------------------------


def test_drawing_a_rect_adds_alices_record_with_the_selected_label(new_id: IdMaker) -> None:
    result = draw((), rect(10, 20.5, 110, 220), new_id, label="animal")

    assert result.changed is True
    assert result.problems == ()
    (record,) = result.records
    assert record.id == "new-1"
    assert record.annotator == "alice"
    assert record.image_key == CANVAS.image_key
    assert record.label == "animal"
    assert record.kind == "rect"
    assert record.coords == (10.0, 20.5, 110.0, 220.0)
    assert record.points == ()
    assert record.created_at == record.updated_at == NOW


def test_drawing_keeps_existing_records_untouched(new_id: IdMaker) -> None:
    existing = (
        make_record("r", "rect", coords=(1.5, 2.25, 300.75, 400.0)),
        make_record("c", "circle", label="animal"),
        make_record("l", "line", coords=(600.0, 10.0, 20.0, 470.0)),
        make_record("p", "polygon", points=((1.11, 2.22), (300.5, 4.0), (150.0, 470.99))),
        make_record("o", "path", points=((0.0, 0.0), (639.99, 479.99))),
    )

    result = draw(existing, rect(200, 200, 260, 280), new_id)

    assert result.records[:5] == existing
    assert [r.id for r in result.records] == ["r", "c", "l", "p", "o", "new-1"]


def test_drawing_a_polygon_stores_its_points(new_id: IdMaker) -> None:
    result = draw((), {"type": "path", "path": "M10,10L200,15.5L100,300Z"}, new_id)

    (record,) = result.records
    assert record.kind == "polygon"
    assert record.points == ((10.0, 10.0), (200.0, 15.5), (100.0, 300.0))
    assert record.coords == ()


def test_drawing_an_open_path_stores_a_path(new_id: IdMaker) -> None:
    (record,) = draw((), {"type": "path", "path": "M10,10L200,15"}, new_id).records

    assert record.kind == "path"


def test_a_drawn_shape_with_a_known_label_text_takes_that_label(new_id: IdMaker) -> None:
    shape = rect(10, 10, 50, 50, label={"text": "vehicle"})

    (record,) = draw((), shape, new_id, label="person").records

    assert record.label == "vehicle"


def test_a_drawn_shape_with_an_unknown_label_text_takes_the_selected_one(new_id: IdMaker) -> None:
    shape = rect(10, 10, 50, 50, label={"text": "zebra"})

    (record,) = draw((), shape, new_id, label="person").records

    assert record.label == "person"


def test_a_shape_drawn_beyond_the_image_is_clamped(new_id: IdMaker) -> None:
    (record,) = draw((), rect(700, -30, 500, 600), new_id).records

    assert record.coords == (500.0, 0.0, 640.0, 480.0)


def test_a_zero_size_shape_is_reported_and_not_added(new_id: IdMaker) -> None:
    existing = (make_record("a"),)

    result = draw(existing, rect(50, 60, 50, 160), new_id)

    assert result.records == existing
    assert result.changed is False
    assert len(result.problems) == 1
    assert "ignored a drawn shape" in result.problems[0]


def test_a_shape_drawn_entirely_outside_the_image_is_not_added(new_id: IdMaker) -> None:
    result = draw((), rect(700, 10, 800, 100), new_id)

    assert result.records == ()
    assert result.problems


def test_an_unknown_selected_label_is_reported_with_the_choices(new_id: IdMaker) -> None:
    result = draw((), rect(10, 10, 50, 50), new_id, label="")

    assert result.records == ()
    assert len(result.problems) == 1
    assert "person, animal, vehicle" in result.problems[0]


def test_one_bad_shape_does_not_stop_a_good_one(new_id: IdMaker) -> None:
    data = {"shapes": [rect(5, 5, 5, 5), rect(10, 10, 60, 60)]}

    result = apply_shape_change((), relayout((), data), CANVAS, LABELS, "person", NOW, new_id)

    assert [r.coords for r in result.records] == [(10, 10, 60, 60)]
    assert len(result.problems) == 1


# --- moving, resizing, erasing --------------------------------------------------------------


def test_moving_a_shape_changes_only_its_coords_and_updated_time(new_id: IdMaker) -> None:
    a, b = make_record("a"), make_record("b", coords=(300.0, 300.0, 400.0, 400.0))
    data = {"shapes[1].x0": 320, "shapes[1].x1": 420.5, "shapes[1].y0": 310, "shapes[1].y1": 410}

    result = apply_shape_change((a, b), relayout((a, b), data), CANVAS, LABELS, "", LATER, new_id)

    assert result.changed is True
    assert result.problems == ()
    new_a, new_b = result.records
    assert new_a == a
    assert new_b.coords == (320.0, 310.0, 420.5, 410.0)
    assert new_b.updated_at == LATER
    assert (new_b.id, new_b.label, new_b.kind, new_b.created_at) == (b.id, b.label, b.kind, CREATED)


def test_dragging_one_corner_keeps_the_other_corners(new_id: IdMaker) -> None:
    a = make_record("a", coords=(10.0, 20.0, 110.0, 220.0))

    result = apply_shape_change(
        (a,), relayout((a,), {"shapes[0].x1": 150}), CANVAS, LABELS, "", LATER, new_id
    )

    assert result.records[0].coords == (10.0, 20.0, 150.0, 220.0)


def test_a_shape_moved_partly_off_the_image_is_clamped(new_id: IdMaker) -> None:
    a = make_record("a")
    data = {"shapes[0].x0": 600, "shapes[0].x1": 700, "shapes[0].y0": -50, "shapes[0].y1": 50}

    result = apply_shape_change((a,), relayout((a,), data), CANVAS, LABELS, "", LATER, new_id)

    assert result.records[0].coords == (600.0, 0.0, 640.0, 50.0)


def test_reshaping_a_polygon_stores_the_new_points(new_id: IdMaker) -> None:
    poly = make_record("p", "polygon")
    data = {"shapes[0].path": "M20,20L120,30L60,100Z"}

    result = apply_shape_change((poly,), relayout((poly,), data), CANVAS, LABELS, "", LATER, new_id)

    assert result.records[0].points == ((20.0, 20.0), (120.0, 30.0), (60.0, 100.0))
    assert result.records[0].kind == "polygon"
    assert result.records[0].updated_at == LATER


def test_an_edit_that_does_not_change_geometry_leaves_the_record_identical(
    new_id: IdMaker,
) -> None:
    a = make_record("a", coords=(10.0, 20.0, 110.0, 220.0))
    data = {"shapes[0].x0": 10, "shapes[0].y0": 20.0, "shapes[0].x1": 110, "shapes[0].y1": 220}

    result = apply_shape_change((a,), relayout((a,), data), CANVAS, LABELS, "", LATER, new_id)

    assert result.records == (a,)
    assert result.records[0].updated_at == CREATED
    assert result.changed is False


def test_a_full_shape_list_with_nothing_new_changes_nothing(new_id: IdMaker) -> None:
    records = (make_record("a"), make_record("p", "polygon"), make_record("l", "line"))
    change = relayout(records, {"shapes": figure_shapes(records)})

    result = apply_shape_change(records, change, CANVAS, LABELS, "", LATER, new_id)

    assert result.records == records
    assert result.changed is False


def test_a_move_hidden_in_a_full_shape_list_is_applied(new_id: IdMaker) -> None:
    a, b = make_record("a"), make_record("b")
    shapes = figure_shapes((a, b))
    shapes[1] = {**shapes[1], "x0": 50, "x1": 150}

    result = apply_shape_change(
        (a, b), relayout((a, b), {"shapes": shapes}), CANVAS, LABELS, "", LATER, new_id
    )

    assert result.records[0] == a
    assert result.records[1].coords == (50.0, 20.0, 150.0, 220.0)


def test_an_unreadable_move_is_reported_and_the_record_kept(new_id: IdMaker) -> None:
    a = make_record("a")

    result = apply_shape_change(
        (a,), relayout((a,), {"shapes[0].x0": "abc"}), CANVAS, LABELS, "", LATER, new_id
    )

    assert result.records == (a,)
    assert result.changed is False
    assert len(result.problems) == 1 and "x0" in result.problems[0]


def test_erasing_removes_the_record(new_id: IdMaker) -> None:
    records = (make_record("a"), make_record("b"), make_record("c"))
    remaining = [s for s in figure_shapes(records) if s["name"] != "b"]

    result = apply_shape_change(
        records, relayout(records, {"shapes": remaining}), CANVAS, LABELS, "", LATER, new_id
    )

    assert [r.id for r in result.records] == ["a", "c"]
    assert result.records == (records[0], records[2])
    assert result.changed is True


def test_an_index_outside_the_figure_is_passed_on_as_a_problem(new_id: IdMaker) -> None:
    a = make_record("a")

    result = apply_shape_change(
        (a,), relayout((a,), {"shapes[5].x0": 1}), CANVAS, LABELS, "", LATER, new_id
    )

    assert result.records == (a,)
    assert result.problems and result.changed is False


# --- grid cells -----------------------------------------------------------------------------


def test_changing_a_label_in_the_grid() -> None:
    records = (make_record("a"), make_record("b"))

    new = apply_cell_edit(records, "b", "label", "vehicle", CANVAS, LABELS, LATER)

    assert new[0] == records[0]
    assert new[1].label == "vehicle"
    assert new[1].updated_at == LATER
    assert new[1].coords == records[1].coords


def test_an_unknown_label_is_refused_naming_the_choices() -> None:
    records = (make_record("a"),)

    with pytest.raises(LabelError, match="choose one of person, animal, vehicle"):
        apply_cell_edit(records, "a", "label", "zebra", CANVAS, LABELS, LATER)


def test_label_matching_is_exact() -> None:
    with pytest.raises(LabelError):
        apply_cell_edit((make_record("a"),), "a", "label", "Person", CANVAS, LABELS, LATER)


def test_a_typed_corner_past_the_opposite_one_swaps_the_corners() -> None:
    records = (make_record("a", coords=(10.0, 20.0, 110.0, 220.0)),)

    new = apply_cell_edit(records, "a", "x0", "200", CANVAS, LABELS, LATER)

    assert new[0].coords == (110.0, 20.0, 200.0, 220.0)
    assert new[0].updated_at == LATER


def test_a_typed_line_end_keeps_the_line_direction() -> None:
    records = (make_record("l", "line", coords=(100.0, 100.0, 10.0, 10.0)),)

    new = apply_cell_edit(records, "l", "y1", " 5 ", CANVAS, LABELS, LATER)

    assert new[0].coords == (100.0, 100.0, 10.0, 5.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "not a number"), ("9999", "outside the image"), ("-3", "outside the image")],
)
def test_a_bad_coordinate_is_refused_and_nothing_changes(value: str, message: str) -> None:
    records = (make_record("a"), make_record("b"))
    before = tuple(records)

    with pytest.raises(ShapeError, match=message):
        apply_cell_edit(records, "b", "x1", value, CANVAS, LABELS, LATER)

    assert records == before


def test_y_is_limited_by_the_image_height() -> None:
    with pytest.raises(ShapeError, match=r"0 to 480"):
        apply_cell_edit((make_record("a"),), "a", "y1", 500, CANVAS, LABELS, LATER)


def test_editing_a_polygons_points() -> None:
    records = (make_record("p", "polygon"),)

    new = apply_cell_edit(records, "p", "points", "1,2; 300,4; 150,400", CANVAS, LABELS, LATER)

    assert new[0].points == ((1.0, 2.0), (300.0, 4.0), (150.0, 400.0))
    assert new[0].updated_at == LATER


def test_a_polygon_needs_three_typed_points_but_a_path_two() -> None:
    records = (make_record("p", "polygon"), make_record("o", "path"))

    with pytest.raises(ShapeError, match="at least 3 points"):
        apply_cell_edit(records, "p", "points", "1,2; 300,4", CANVAS, LABELS, LATER)
    new = apply_cell_edit(records, "o", "points", "1,2; 300,4", CANVAS, LABELS, LATER)

    assert new[1].points == ((1.0, 2.0), (300.0, 4.0))


def test_x0_of_a_polygon_is_refused() -> None:
    with pytest.raises(ShapeError, match="points column"):
        apply_cell_edit((make_record("p", "polygon"),), "p", "x0", "5", CANVAS, LABELS, LATER)


def test_points_of_a_rect_are_refused() -> None:
    with pytest.raises(ShapeError, match="x0..y1"):
        apply_cell_edit((make_record("a"),), "a", "points", "1,2; 3,4", CANVAS, LABELS, LATER)


def test_a_row_that_no_longer_exists_is_refused() -> None:
    with pytest.raises(ShapeError, match="no longer exists"):
        apply_cell_edit((make_record("a"),), "gone", "label", "animal", CANVAS, LABELS, LATER)


def test_a_corner_making_the_shape_flat_is_refused() -> None:
    records = (make_record("a", coords=(10.0, 20.0, 110.0, 220.0)),)

    with pytest.raises(ShapeError, match="no size"):
        apply_cell_edit(records, "a", "x1", "10", CANVAS, LABELS, LATER)


@pytest.mark.parametrize("column", ["id", "kind", "annotator", "created_at", None])
def test_other_columns_cannot_be_edited(column: Any) -> None:
    with pytest.raises(ShapeError, match="cannot be edited"):
        apply_cell_edit((make_record("a"),), "a", column, "x", CANVAS, LABELS, LATER)


# --- deleting -------------------------------------------------------------------------------


def test_delete_records_drops_the_chosen_ids_and_keeps_the_order() -> None:
    records = tuple(make_record(i) for i in "abcd")

    assert delete_records(records, {"b", "d", "not-there"}) == (records[0], records[2])


def test_deleting_nothing_keeps_everything() -> None:
    records = (make_record("a"),)

    assert delete_records(records, set()) == records


# --- shapes may not be flattened by a move or typed points -------------------------------


def test_a_shape_dragged_off_the_image_is_reported_and_kept(new_id: IdMaker) -> None:
    records = (make_record("a"),)
    change = relayout(records, {"shapes[0].x0": 700, "shapes[0].x1": 800})
    result = apply_shape_change(records, change, CANVAS, LABELS, "person", NOW, new_id)
    assert result.records == records
    assert result.problems and "no size" in result.problems[0]


def test_typed_points_that_collapse_a_polygon_are_refused() -> None:
    records = (make_record("p", kind="polygon"),)
    with pytest.raises(ShapeError, match="no size"):
        apply_cell_edit(records, "p", "points", "5,5; 5,5; 5,5", CANVAS, LABELS, NOW)


def test_a_polygon_path_edit_with_two_points_is_refused(new_id: IdMaker) -> None:
    records = (make_record("p", kind="polygon"),)
    change = relayout(records, {"shapes[0].path": "M10,10L100,20Z"})
    result = apply_shape_change(records, change, CANVAS, LABELS, "person", NOW, new_id)
    assert result.records == records and "three points" in result.problems[0]
