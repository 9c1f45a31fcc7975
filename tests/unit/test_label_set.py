"""A project's label set edited in the app: the rules, and a rename that stored shapes
follow, recorded in the history."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.annotation import Annotation, utc_now
from domain.errors import LabelError
from domain.label_set import (
    add_label,
    edit_label,
    rename_label,
    reorder_labels,
    retire_label,
)
from domain.labels import hotkeys, offered, parse_labels
from storage.errors import EditConflict
from storage.runtime import current
from tests.unit.callback_support import install_services
from workflows import label_sets

LABELS = parse_labels("cat,dog,bird")


def test_added_labels_get_the_next_colour_and_refuse_a_taken_name() -> None:
    made = add_label(LABELS, " fish ", hotkey="F", description="Any fish, even cooked.")
    assert made[-1].name == "fish" and made[-1].hotkey == "f"
    assert made[-1].description == "Any fish, even cooked."
    with pytest.raises(LabelError, match="a label called 'cat' exists already"):
        add_label(LABELS, "CAT")
    retired = retire_label(LABELS, "dog")
    with pytest.raises(LabelError, match="a retired label called 'dog'"):
        add_label(retired, "dog")


@pytest.mark.parametrize(
    ("key", "why"),
    [("n", "taken by the page"), ("ab", "one letter or digit"), ("é", "one letter or digit")],
)
def test_hotkeys_are_one_free_key(key: str, why: str) -> None:
    with pytest.raises(LabelError, match=why):
        edit_label(LABELS, "cat", "", key, "")


def test_two_labels_cannot_share_a_hotkey() -> None:
    keyed = edit_label(LABELS, "cat", "", "c", "")
    with pytest.raises(LabelError, match="given to both 'cat' and 'dog'"):
        edit_label(keyed, "dog", "", "c", "")


def test_keys_follow_the_order_and_skip_retired_labels() -> None:
    keyed = edit_label(LABELS, "bird", "#00ff00", "b", "")
    assert keyed[2].color == "#00FF00"
    assert hotkeys(keyed) == {"cat": "1", "dog": "2", "bird": "b"}
    moved = reorder_labels(retire_label(keyed, "cat"), ["bird", "cat", "dog"])
    assert [label.name for label in offered(moved)] == ["bird", "dog"]
    assert hotkeys(moved) == {"bird": "b", "dog": "2"}
    with pytest.raises(LabelError, match="every label once"):
        reorder_labels(LABELS, ["cat", "dog"])


def test_retiring_the_last_offered_label_is_refused() -> None:
    one = retire_label(retire_label(LABELS, "cat"), "dog")
    with pytest.raises(LabelError, match="at least one label must stay offered"):
        retire_label(one, "bird")
    assert offered(retire_label(one, "cat", retired=False))[0].name == "cat"


def test_a_rename_that_would_merge_two_labels_is_refused() -> None:
    with pytest.raises(LabelError, match="another label has that name"):
        rename_label(LABELS, "cat", "Dog", {})
    with pytest.raises(LabelError, match="a retired label has that name"):
        rename_label(retire_label(LABELS, "dog"), "cat", "dog", {})
    with pytest.raises(LabelError, match="3 stored shape"):
        rename_label(LABELS, "cat", "kitten", {"cat": 5, "kitten": 3})
    assert rename_label(LABELS, "cat", "Cat", {"cat": 5})[0].name == "Cat"  # its own shapes


def _shape(shape_id: str, annotator: str, label: str) -> Annotation:
    now = utc_now()
    return Annotation(shape_id, "a.jpg", annotator, label, "rect", (1, 2, 30, 40), (), now, now)


def test_a_rename_moves_every_stored_shape_and_is_in_the_history(tmp_path: Path) -> None:
    services = install_services(tmp_path, LABELS="cat,dog")
    services.store.sync_image(
        "a.jpg", "ann", [_shape("s1", "ann", "cat"), _shape("s2", "ann", "dog")]
    )
    services.store.sync_image("a.jpg", "bob", [_shape("s3", "bob", "cat")])
    version = services.project.version
    moved = label_sets.rename_label(current(), "cat", "kitten", version, "root")
    assert moved == 2
    assert [label.name for label in current().settings.labels] == ["kitten", "dog"]
    labels = {a.id: a.label for a in current().store.annotations_for("a.jpg", "ann")}
    assert labels == {"s1": "kitten", "s2": "dog"}
    assert current().store.annotations_for("a.jpg", "bob")[0].label == "kitten"
    history = current().store.events("a.jpg", "bob")
    renamed = [e for e in history if e.actor == "root"]
    assert len(renamed) == 1 and renamed[0].action == "edit"
    assert (renamed[0].before["label"], renamed[0].after["label"]) == ("cat", "kitten")
    # a page showing the set before the rename cannot change it any more
    with pytest.raises(Exception, match="changed by someone else"):
        label_sets.change_labels(current(), "add", version, {"name": "fish"})
    # the annotator's old version of the shape is refused: it changed under them
    stale = _shape("s3", "bob", "cat")
    with pytest.raises(EditConflict):
        current().store.sync_image("a.jpg", "bob", [stale], known=[("s3", 1)])


def test_a_retired_label_stays_on_old_shapes_but_cannot_be_chosen() -> None:
    from domain.editing import Canvas, apply_cell_edit

    canvas = Canvas("a.jpg", 400, 300, "ann")
    retired = retire_label(LABELS, "dog")
    old = _shape("s1", "ann", "dog")
    kept = apply_cell_edit((old,), "s1", "x1", "50", canvas, retired, utc_now())
    assert kept[0].label == "dog" and kept[0].coords[2] == 50  # edited, label kept
    with pytest.raises(LabelError, match="choose one of cat, bird"):
        apply_cell_edit((old,), "s1", "label", "dog", canvas, retired, utc_now())
    assert (
        apply_cell_edit((old,), "s1", "label", "bird", canvas, retired, utc_now())[0].label
        == "bird"
    )
