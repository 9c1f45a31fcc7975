"""parse_relayout: which relayoutData events add, move or erase shapes, and which are noise."""

from __future__ import annotations

from typing import Any

import pytest

from domain.relayout import parse_relayout

KNOWN = ["id-a", "id-b", "id-c"]


def named(name: str, x0: float = 10, y0: float = 20, x1: float = 110, y1: float = 220) -> dict:
    """A rect as the app renders it: `name` carries the annotation id."""
    return {"type": "rect", "name": name, "x0": x0, "y0": y0, "x1": x1, "y1": y1}


def drawn(x0: float = 300, y0: float = 300, x1: float = 400, y1: float = 350) -> dict:
    """A rect the user just drew: no name."""
    return {"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "label": {"text": "person"}}


def test_a_new_shape_among_named_ones_is_added_and_nothing_is_removed() -> None:
    new = drawn()
    shapes = [named("id-a"), named("id-b"), named("id-c"), new]

    change = parse_relayout({"shapes": shapes}, KNOWN)

    assert change.added == (new,)
    assert change.removed == ()
    assert change.problems == ()
    # The named shapes come back whole so a move hidden in a full list is still seen.
    assert change.edited == {"id-a": shapes[0], "id-b": shapes[1], "id-c": shapes[2]}


def test_the_first_shape_on_an_empty_image_is_added() -> None:
    new = {"type": "path", "path": "M10,10L50,10L30,40Z"}

    change = parse_relayout({"shapes": [new]}, [])

    assert change.added == (new,)
    assert change.removed == () and change.edited == {}


def test_several_new_shapes_are_all_added_in_figure_order() -> None:
    first, second = drawn(0, 0, 50, 50), {"type": "line", "x0": 1, "y0": 2, "x1": 30, "y1": 40}

    change = parse_relayout({"shapes": [named("id-a"), first, second]}, ["id-a"])

    assert change.added == (first, second)
    assert change.removed == ()


def test_a_shape_whose_name_is_not_one_of_the_figures_ids_counts_as_new() -> None:
    stranger = {**drawn(), "name": "from-another-image"}

    change = parse_relayout({"shapes": [named("id-a"), stranger]}, ["id-a"])

    assert change.added == (stranger,)


def test_a_shorter_list_means_the_missing_shapes_were_erased() -> None:
    change = parse_relayout({"shapes": [named("id-a"), named("id-c")]}, KNOWN)

    assert change.removed == ("id-b",)
    assert change.added == ()
    assert set(change.edited) == {"id-a", "id-c"}


def test_erasing_the_last_shape_removes_everything() -> None:
    change = parse_relayout({"shapes": []}, KNOWN)

    assert change.removed == tuple(KNOWN)
    assert not change.added and not change.edited


def test_indexed_corner_edits_map_to_the_id_at_that_index() -> None:
    data = {"shapes[1].x0": 5.5, "shapes[1].x1": 60, "shapes[1].y0": 7, "shapes[1].y1": 80}

    change = parse_relayout(data, KNOWN)

    assert change.edited == {"id-b": {"x0": 5.5, "x1": 60, "y0": 7, "y1": 80}}
    assert change.added == () and change.removed == () and change.problems == ()


def test_edits_of_two_shapes_in_one_event_stay_apart() -> None:
    change = parse_relayout({"shapes[0].x0": 1, "shapes[2].y1": 9}, KNOWN)

    assert change.edited == {"id-a": {"x0": 1}, "id-c": {"y1": 9}}


def test_a_path_edit_is_reported_for_the_right_shape() -> None:
    change = parse_relayout({"shapes[2].path": "M1,1L9,1L5,8Z"}, KNOWN)

    assert change.edited == {"id-c": {"path": "M1,1L9,1L5,8Z"}}


def test_shape_set_to_none_is_a_removal() -> None:
    change = parse_relayout({"shapes[1]": None}, KNOWN)

    assert change.removed == ("id-b",)
    assert change.edited == {}


def test_a_whole_shape_dict_at_an_index_is_an_edit() -> None:
    change = parse_relayout({"shapes[0]": {"x0": 3, "x1": 30}}, KNOWN)

    assert change.edited == {"id-a": {"x0": 3, "x1": 30}}


def test_an_index_the_figure_does_not_show_is_a_problem_not_an_exception() -> None:
    change = parse_relayout({"shapes[3].x0": 12, "shapes[0].x1": 99}, KNOWN)

    assert len(change.problems) == 1
    assert "shape 4" in change.problems[0]
    assert change.edited == {"id-a": {"x1": 99}}  # the valid part still counts


def test_an_index_on_a_figure_without_shapes_is_a_problem() -> None:
    change = parse_relayout({"shapes[0].path": "M0,0L1,1"}, [])

    assert change.is_empty
    assert change.problems


@pytest.mark.parametrize(
    "data",
    [
        {"autosize": True},
        {"xaxis.range[0]": 10.5, "xaxis.range[1]": 300.2},
        {"xaxis.range[0]": 0, "xaxis.range[1]": 640, "yaxis.range[0]": 480, "yaxis.range[1]": 0},
        {"xaxis.autorange": True, "yaxis.autorange": True},
        {"dragmode": "drawline"},
        {"shapes[0].line.color": "red"},
        {},
        None,
        "shapes[0].x0",
        [{"type": "rect", "x0": 1, "y0": 1, "x1": 50, "y1": 50}],
        42,
    ],
    ids=lambda d: repr(d)[:40],
)
def test_events_about_something_else_change_nothing(data: Any) -> None:
    change = parse_relayout(data, KNOWN)

    assert change.is_empty
    assert change.problems == ()


def test_axis_keys_next_to_a_shape_edit_are_ignored() -> None:
    data = {"xaxis.range[0]": 1, "shapes[0].y0": 44, "dragmode": "pan"}

    assert parse_relayout(data, KNOWN).edited == {"id-a": {"y0": 44}}


def test_phantom_shapes_without_a_type_are_ignored() -> None:
    shapes = [named("id-a"), {"x0": 1, "y0": 1}, {"type": None, "name": None}, {}, "junk", None]

    change = parse_relayout({"shapes": shapes}, ["id-a"])

    assert change.added == ()
    assert change.removed == ()
    assert change.edited == {"id-a": shapes[0]}


def test_a_phantom_does_not_hide_a_real_new_shape() -> None:
    new = drawn()

    change = parse_relayout({"shapes": [{"x0": 0}, new]}, [])

    assert change.added == (new,)


@pytest.mark.parametrize("value", [None, "rect", {"type": "rect"}, 3])
def test_shapes_that_is_not_a_list_is_a_problem(value: Any) -> None:
    change = parse_relayout({"shapes": value}, KNOWN)

    assert change.is_empty
    assert len(change.problems) == 1
    assert "not a list" in change.problems[0]
