"""What a save and an undo plan to write: pure rules, before any database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.annotation import Annotation
from domain.changes import PastEvent, describe_event, plan_sync, plan_undo, shape_json

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def box(shape_id: str, version: int, label: str = "person", x: float = 0.0) -> Annotation:
    return Annotation(
        shape_id, "a.jpg", "ann", label, "rect", (x, 0, x + 5, 5), (), T0, T0, "human", version
    )


def test_a_save_creates_edits_and_deletes_what_the_browser_changed():
    stored = {"k": box("k", 3), "e": box("e", 1), "d": box("d", 2)}
    records = [box("k", 3), box("e", 1, "car"), box("n", 0)]
    plan = plan_sync(stored, records, {"k": 3, "e": 1, "d": 2})
    assert plan.conflicts == ()
    assert sorted((c.action, (c.after or c.before).id) for c in plan.changes) == [
        ("create", "n"),
        ("delete", "d"),
        ("edit", "e"),
    ]
    versions = {r.id: r.version for r in plan.result}
    assert versions == {"k": 3, "e": 2, "n": 1}


def test_a_shape_changed_or_drawn_elsewhere_is_never_overwritten_or_deleted():
    stored = {"s": box("s", 2), "other": box("other", 1)}
    plan = plan_sync(stored, [box("s", 1, "car")], {"s": 1})  # this tab saw version 1
    assert plan.conflicts and "changed in another tab or window" in plan.conflicts[0]
    gone = plan_sync({}, [box("s", 1, "car")], {"s": 1})
    assert "deleted in another tab or window" in gone.conflicts[0]
    kept = plan_sync(stored, [box("s", 2)], {"s": 2})  # 'other' unknown here: kept
    assert kept.changes == () and {r.id for r in kept.result} == {"s", "other"}


def test_the_same_tabs_newer_version_is_no_conflict():
    stored = {"s": box("s", 4)}
    plan = plan_sync(stored, [box("s", 1, x=9)], {"s": 1}, {"s": "tab-a"}, "tab-a")
    assert plan.conflicts == () and plan.result[0].version == 5
    other = plan_sync(stored, [box("s", 1, x=9)], {"s": 1}, {"s": "tab-a"}, "tab-b")
    assert other.conflicts


def test_undo_reverses_a_change_and_refuses_when_the_shape_moved_on():
    before, after = box("s", 1), box("s", 2, "car")
    edit = PastEvent("edit", "s", shape_json(before), shape_json(after))
    plan = plan_undo("a.jpg", "ann", [edit], {"s": after}, T0)
    [change] = plan.changes
    assert change.after is not None and change.after.label == "person"
    assert change.after.version == 3  # versions only grow
    moved_on = plan_undo("a.jpg", "ann", [edit], {"s": replace(after, label="dog")}, T0)
    assert moved_on.changes == () and "was changed since" in moved_on.conflicts[0]
    deleted = PastEvent("delete", "s", shape_json(before), None)
    [back] = plan_undo("a.jpg", "ann", [deleted], {}, T0).changes
    assert back.before is None and back.after is not None and back.after.coords == before.coords
    status = PastEvent("status", None, None, {"status": "empty"})
    assert plan_undo("a.jpg", "ann", [status], {}, T0).status == (True, None)


def test_events_read_as_a_few_words():
    person, car = shape_json(box("s", 1)), shape_json(box("s", 2, "car"))
    assert describe_event("create", None, person) == "drew a person rect"
    assert describe_event("edit", person, car) == "relabelled person → car"
    assert describe_event("edit", person, shape_json(box("s", 2, x=3))) == (
        "moved or reshaped the person rect"
    )
    assert describe_event("delete", car, None) == "deleted the car rect"
    assert describe_event("status", None, {"status": "skipped"}) == "status skipped"
    assert describe_event("status", {"status": "done"}, None) == "status done cleared"
