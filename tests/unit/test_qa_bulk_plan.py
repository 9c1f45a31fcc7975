"""The label QA grid's bulk relabel and delete, planned without I/O: an annotator changes
their own shapes only; a reviewer's change to someone else's shape lands on gold; a shape
changed since the page showed it is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.annotation import Annotation
from domain.bulk_edit import (
    DELETE,
    EVERYONE,
    MAX_TARGETS,
    RELABEL,
    Target,
    edit_image,
    gold_copy_id,
    label_problem,
    parse_targets,
    plan_bulk,
    shown_annotators,
    summary,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
KEY = "b/1.jpg"


def shape(shape_id: str, annotator: str, label: str = "cat", version: int = 1) -> Annotation:
    return Annotation(
        id=shape_id,
        image_key=KEY,
        annotator=annotator,
        label=label,
        kind="rect",
        coords=(10.0, 20.0, 50.0, 60.0),
        created_at=T0,
        updated_at=T0,
        version=version,
    )


def shown(*shapes: Annotation) -> list[Target]:
    return [Target(s.id, s.version) for s in shapes]


def test_an_annotator_relabels_their_own_shapes_in_place() -> None:
    mine, other = shape("a1", "alice"), shape("a2", "alice", label="dog")
    plan = plan_bulk(shown(mine), {"a1": mine}, "alice", reviewer=False)
    assert plan.refused == [] and list(plan.groups) == [(KEY, "alice")]

    edit = edit_image(KEY, "alice", [mine, other], plan.groups[(KEY, "alice")], RELABEL, "dog", T1)

    assert {r.id: r.label for r in edit.records} == {"a1": "dog", "a2": "dog"}
    assert edit.changed == ("a1",) and edit.rejected == ()
    assert dict(edit.known) == {"a1": 1, "a2": 1}  # the versions the save is checked against


def test_an_annotator_deletes_their_own_shape_and_their_second_pass_counts_as_theirs() -> None:
    first, repeat = shape("a1", "alice"), shape("r1", "alice#repeat")
    plan = plan_bulk(shown(first, repeat), {"a1": first, "r1": repeat}, "alice", reviewer=False)
    assert sorted(plan.groups) == [(KEY, "alice"), (KEY, "alice#repeat")]
    edit = edit_image(KEY, "alice", [first], plan.groups[(KEY, "alice")], DELETE, None, T1)
    assert edit.records == () and edit.changed == ("a1",)


def test_an_annotator_is_refused_on_anyone_elses_shape_and_gold() -> None:
    bobs, gold = shape("b1", "bob"), shape("g1", "gold")
    plan = plan_bulk(shown(bobs, gold), {"b1": bobs, "g1": gold}, "alice", reviewer=False)
    assert plan.groups == {}
    assert [(r.shape_id, r.reason.split(":")[0]) for r in plan.refused] == [
        ("b1", "not yours"),
        ("g1", "not yours"),
    ]


def test_unknown_ids_are_refused_by_name() -> None:
    plan = plan_bulk([Target("ghost", 1)], {}, "rita", reviewer=True)
    assert plan.groups == {} and plan.refused[0].shape_id == "ghost"
    assert "no longer stored" in plan.refused[0].reason


def test_a_reviewer_relabelling_someone_elses_shape_makes_a_gold_copy() -> None:
    bobs = shape("b1", "bob")
    plan = plan_bulk(shown(bobs), {"b1": bobs}, "rita", reviewer=True)
    assert list(plan.groups) == [(KEY, "gold")]

    edit = edit_image(KEY, "gold", [], plan.groups[(KEY, "gold")], RELABEL, "dog", T1)

    assert [(r.id, r.annotator, r.label, r.coords) for r in edit.records] == [
        ("gold-b1", "gold", "dog", bobs.coords)
    ]
    assert edit.known == () and edit.changed == ("b1",)


def test_a_second_relabel_edits_the_same_gold_copy() -> None:
    bobs = shape("b1", "bob")
    copy = shape(gold_copy_id("b1"), "gold", label="dog", version=3)
    plan = plan_bulk(shown(bobs), {"b1": bobs}, "rita", reviewer=True)
    steps = plan.groups[(KEY, "gold")]

    again = edit_image(KEY, "gold", [copy], steps, RELABEL, "bird", T1)
    same = edit_image(KEY, "gold", [copy], steps, RELABEL, "dog", T1)

    assert [(r.id, r.label, r.version) for r in again.records] == [("gold-b1", "bird", 3)]
    assert dict(again.known) == {"gold-b1": 3}
    assert not same.writes  # gold says dog already: nothing to save


def test_a_reviewer_deleting_someone_elses_shape_drops_the_copy_and_rejects_the_shape() -> None:
    bobs, keep = shape("b1", "bob"), shape("g7", "gold", label="cat")
    copy = shape(gold_copy_id("b1"), "gold", label="dog")
    plan = plan_bulk(shown(bobs), {"b1": bobs}, "rita", reviewer=True)

    edit = edit_image(KEY, "gold", [copy, keep], plan.groups[(KEY, "gold")], DELETE, None, T1)

    assert [r.id for r in edit.records] == ["g7"]
    assert edit.rejected == (bobs,) and edit.changed == ("b1",)


def test_a_reviewer_edits_gold_in_place_and_their_own_shapes_in_place() -> None:
    gold, own = shape("g1", "gold"), shape("r1", "rita")
    plan = plan_bulk(shown(gold, own), {"g1": gold, "r1": own}, "rita", reviewer=True)
    assert sorted(plan.groups) == [(KEY, "gold"), (KEY, "rita")]
    assert not any(step.copy for steps in plan.groups.values() for step in steps)
    edit = edit_image(KEY, "gold", [gold], plan.groups[(KEY, "gold")], RELABEL, "dog", T1)
    assert [(r.id, r.label) for r in edit.records] == [("g1", "dog")]


def test_a_shape_changed_since_the_page_showed_it_is_refused_and_kept() -> None:
    page_saw = shape("a1", "alice", version=1)
    now = shape("a1", "alice", label="bird", version=2)  # another tab changed it
    plan = plan_bulk(shown(page_saw), {"a1": now}, "alice", reviewer=False)
    edit = edit_image(KEY, "alice", [now], plan.groups[(KEY, "alice")], RELABEL, "dog", T1)
    assert edit.records == (now,) and not edit.writes
    assert "changed since" in edit.refused[0].reason

    bobs_now = shape("b1", "bob", version=4)  # the reviewer saw version 1 of bob's shape
    plan = plan_bulk([Target("b1", 1)], {"b1": bobs_now}, "rita", reviewer=True)
    edit = edit_image(KEY, "gold", [], plan.groups[(KEY, "gold")], RELABEL, "dog", T1)
    assert edit.records == () and edit.refused[0].shape_id == "b1"


def test_requests_are_read_strictly() -> None:
    assert parse_targets([["a1", 2], {"id": "a2", "version": "3"}, ["a1", 2]]) == [
        Target("a1", 2),
        Target("a2", 3),
    ]
    assert parse_targets({"a1": 2}) == [Target("a1", 2)]  # the browser's {id: version} store
    assert "choose the shapes" in str(parse_targets(None))
    assert "choose the shapes" in str(parse_targets({}))
    assert "form Concord does not read" in str(parse_targets([[1, 2]]))
    assert "form Concord does not read" in str(parse_targets([["x" * 65, 1]]))
    assert "form Concord does not read" in str(parse_targets([["a", "v"]]))
    many = [[f"s{n}", 1] for n in range(MAX_TARGETS + 1)]
    assert f"at most {MAX_TARGETS}" in str(parse_targets(many))


def test_labels_must_be_the_projects_for_a_relabel_only() -> None:
    labels = ["cat", "dog"]
    assert label_problem(RELABEL, "dog", labels) is None
    assert label_problem(DELETE, None, labels) is None
    assert "not one of the project's labels (cat, dog)" in str(
        label_problem(RELABEL, "cow", labels)
    )
    assert "not one of" in str(label_problem(RELABEL, None, labels))
    assert "unknown action" in str(label_problem("burn", "dog", labels))


def test_an_annotator_sees_their_own_shapes_whatever_the_browser_asks() -> None:
    assert shown_annotators("alice", False, "bob") == ("alice", "alice#repeat")
    assert shown_annotators("alice", False, EVERYONE) == ("alice", "alice#repeat")
    assert shown_annotators("rita", True, EVERYONE) is None
    assert shown_annotators("rita", True, "gold") == ("gold",)
    assert shown_annotators("rita", True, "model:nanodet") == ("model:nanodet",)


def test_the_message_counts_changes_and_names_refusals() -> None:
    from domain.bulk_edit import Refusal

    assert summary(RELABEL, "dog", 1, []) == "Relabelled 1 shape to dog."
    refused = [Refusal("b1", "not yours: only your own shapes can be changed here", "b/7.jpg")]
    text = summary(DELETE, None, 2, refused)
    assert text.startswith("Deleted 2 shapes. Not changed (1): 7.jpg: not yours")
