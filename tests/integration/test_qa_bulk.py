"""The label QA grid on each database: shapes by label paged on the server, and bulk
relabel/delete through the normal saving (versions, history with the actor, conflicts
reported while the rest is saved, a reviewer's changes on gold only, an annotator refused
on anyone else's shapes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.annotation import Annotation
from domain.bulk_edit import DELETE, RELABEL
from storage.annotation_store import AnnotationStore
from storage.runtime import Services
from storage.shape_query import (
    ShapeScope,
    annotators_in_store,
    labels_in_store,
    shapes_by_id,
    shapes_page,
)
from tests.unit.callback_support import install_services, make_batch
from workflows.bulk_edit import bulk_change

LABELS = "cat,dog,bird"
KEYS = ["b/img01.jpg", "b/img02.jpg", "b/img03.jpg"]


def box(shape_id: str, key: str, annotator: str, label: str, x: float = 10) -> Annotation:
    return Annotation(shape_id, key, annotator, label, "rect", coords=(x, 10.0, x + 30, 40.0))


@pytest.fixture
def services(tmp_path: Path, database_url: str):
    keys = make_batch(tmp_path / "images" / "b", [(200, 100), (200, 100), (200, 100)])
    assert [f"b/{k}" for k in keys] == KEYS
    make_batch(tmp_path / "images" / "other", [(200, 100)])
    services = install_services(tmp_path, DATABASE_URL=database_url, LABELS=LABELS)
    yield services
    services.store.engine.dispose()


def seed(store: AnnotationStore, keys: list[str]) -> None:
    """alice: 3 cats on each of 3 images and a dog; bob: a cat on each; one cat elsewhere."""
    for key in keys:
        n = key[-6:-4]
        store.sync_image(
            key, "alice", [box(f"a{n}{i}", key, "alice", "cat", 10 + 40 * i) for i in range(3)]
        )
        store.sync_image(key, "bob", [box(f"b{n}", key, "bob", "cat")])
    store.sync_image(
        keys[0],
        "alice",
        [*store.annotations_for(keys[0], "alice"), box("adog", keys[0], "alice", "dog", 150)],
    )
    store.sync_image("other/img01.jpg", "alice", [box("x1", "other/img01.jpg", "alice", "cat")])


def stored(services: Services, shape_id: str) -> Annotation | None:
    return shapes_by_id(services.store.engine, [shape_id]).get(shape_id)


def test_shapes_are_counted_and_paged_by_label_person_and_batch(services) -> None:
    engine = services.store.engine
    seed(services.store, KEYS)

    everyone = shapes_page(engine, "cat", ShapeScope(None, "b"), 0, 5)
    assert everyone.total == 12 and len(everyone.shapes) == 5
    rest = shapes_page(engine, "cat", ShapeScope(None, "b"), 10, 5)
    assert (rest.total, rest.offset, len(rest.shapes)) == (12, 10, 2)
    past = shapes_page(engine, "cat", ShapeScope(None, "b"), 500, 5)
    assert past.offset == 10  # past the end: the last page
    seen = [
        s.id
        for s in everyone.shapes
        + shapes_page(engine, "cat", ShapeScope(None, "b"), 5, 5).shapes
        + rest.shapes
    ]
    assert len(set(seen)) == 12  # no shape twice, none missed
    assert [s.image_key for s in everyone.shapes] == sorted(s.image_key for s in everyone.shapes)

    alices = shapes_page(engine, "cat", ShapeScope(("alice", "alice#repeat"), "b"), 0, 48)
    assert alices.total == 9 and {s.annotator for s in alices.shapes} == {"alice"}
    assert shapes_page(engine, "cat", ShapeScope(("alice",), None), 0, 48).total == 10
    assert shapes_page(engine, "dog", ShapeScope(("bob",), "b"), 0, 48).total == 0
    assert labels_in_store(engine, ShapeScope(("bob",))) == ["cat"]
    assert labels_in_store(engine, ShapeScope()) == ["cat", "dog"]
    assert annotators_in_store(engine) == ["alice", "bob"]


def test_a_batch_with_a_percent_sign_is_not_a_wildcard(services) -> None:
    engine = services.store.engine
    services.store.sync_image("b%/x.jpg", "alice", [box("p1", "b%/x.jpg", "alice", "cat")])
    services.store.sync_image("bb/x.jpg", "alice", [box("p2", "bb/x.jpg", "alice", "cat")])
    assert [s.id for s in shapes_page(engine, "cat", ShapeScope(None, "b%"), 0, 9).shapes] == ["p1"]


def test_an_annotator_relabels_their_shapes_with_versions_and_history(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)
    picked = {"a011": 1, "a021": 1}

    result = bulk_change(services, "alice", False, RELABEL, "dog", picked)

    assert result.message == "Relabelled 2 shapes to dog." and result.refused == ()
    for shape_id in picked:
        after = stored(services, shape_id)
        assert after is not None and (after.label, after.version) == ("dog", 2)
    assert stored(services, "a010").label == "cat"  # not selected: unchanged
    events = [e for e in store.events(keys[0]) if e.annotation_id == "a011" and e.action == "edit"]
    assert [(e.actor, e.annotator, e.before["label"], e.after["label"]) for e in events] == [
        ("alice", "alice", "cat", "dog")
    ]
    changes = {e.change for key in keys for e in store.events(key) if e.action == "edit"}
    assert len(changes) == 2  # one change per image
    page = shapes_page(store.engine, "cat", ShapeScope(("alice",), "b"), 0, 48)
    assert "a011" not in {s.id for s in page.shapes}  # it left the cat page


def test_an_annotator_deletes_own_shapes_and_is_refused_on_others(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)

    result = bulk_change(services, "alice", False, DELETE, None, [["a010", 1], ["b01", 1]])

    assert stored(services, "a010") is None
    assert stored(services, "b01") is not None  # bob's shape: untouched
    assert result.changed == 1 and "not yours" in result.message
    assert "Deleted 1 shape." in result.message
    assert not [e for e in store.events(keys[0]) if e.annotator == "bob" and e.actor == "alice"]


def test_a_conflict_is_reported_and_the_other_images_are_saved(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)
    # another tab edits a011 after the page showed it at version 1
    moved = [
        r if r.id != "a011" else box("a011", keys[0], "alice", "bird", 50)
        for r in store.annotations_for(keys[0], "alice")
    ]
    store.sync_image(keys[0], "alice", moved)

    result = bulk_change(services, "alice", False, RELABEL, "dog", {"a011": 1, "a021": 1})

    assert result.changed == 1
    assert "img01.jpg: changed since this page was shown" in result.message
    assert stored(services, "a011").label == "bird"  # the other tab's change stands
    assert stored(services, "a021").label == "dog"


def test_a_reviewer_relabels_onto_gold_and_the_annotators_shape_stays(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)

    first = bulk_change(services, "rita", True, RELABEL, "dog", {"b01": 1, "a010": 1})
    again = bulk_change(services, "rita", True, RELABEL, "bird", {"b01": 1})

    assert first.changed == 2 and again.changed == 1
    assert "2 of them relabelled on gold" in first.message
    assert stored(services, "b01").label == "cat" and stored(services, "b01").version == 1
    assert stored(services, "a010").label == "cat"
    gold = {r.id: r for r in store.annotations_for(keys[0], "gold")}
    assert {i: (r.label, r.version) for i, r in gold.items()} == {
        "gold-b01": ("bird", 2),  # the second relabel edited the same copy
        "gold-a010": ("dog", 1),
    }
    assert gold["gold-b01"].coords == stored(services, "b01").coords
    events = [e for e in store.events(keys[0]) if e.annotator == "gold"]
    assert {(e.actor, e.action) for e in events} == {("rita", "create"), ("rita", "edit")}
    assert "gold" not in store.statuses_for("gold") and store.statuses_for("gold") == {}
    mine = [
        e for e in store.events(keys[0]) if e.annotator in ("alice", "bob") and e.actor == "rita"
    ]
    assert mine == []  # nothing of the annotators' was changed


def test_a_reviewer_deletes_onto_gold_as_a_reject_naming_the_shape(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)
    bulk_change(services, "rita", True, RELABEL, "dog", {"b01": 1})

    result = bulk_change(services, "rita", True, DELETE, None, {"b01": 1, "b02": 1})

    assert result.changed == 2 and result.message == (
        "Deleted 2 shapes. 2 of them rejected on gold; the annotators' own shapes are kept."
    )
    assert stored(services, "b01") is not None and stored(services, "b02") is not None
    assert store.annotations_for(keys[0], "gold") == []  # the copy went
    events = store.events(keys[0]) + store.events(keys[1])
    rejects = [e for e in events if e.action == "reject"]
    assert sorted((e.actor, e.annotator, e.annotation_id) for e in rejects) == [
        ("rita", "gold", "b01"),
        ("rita", "gold", "b02"),
    ]
    deleted = next(e for e in events if e.action == "delete")
    reject = next(e for e in rejects if e.annotation_id == "b01")
    assert deleted.change == reject.change  # one change for the image


def test_a_reviewer_edits_gold_in_place(services) -> None:
    store, keys = services.store, KEYS
    store.sync_image(keys[0], "gold", [box("g1", keys[0], "gold", "cat")], actor="rita")

    result = bulk_change(services, "rita", True, RELABEL, "bird", [["g1", 1]])

    assert result.changed == 1
    assert [(r.id, r.label) for r in store.annotations_for(keys[0], "gold")] == [("g1", "bird")]


def test_bad_requests_change_nothing(services) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)
    before = store.annotations_for(keys[0], "alice")

    not_a_label = bulk_change(services, "alice", False, RELABEL, "cow", {"a010": 1})
    hundreds = bulk_change(services, "alice", False, DELETE, None, {f"s{n}": 1 for n in range(300)})
    garbage = bulk_change(services, "alice", False, DELETE, None, "a010")
    unknown = bulk_change(services, "alice", False, DELETE, None, {"nope": 1})

    assert (
        not not_a_label.ok
        and "label 'cow' is not one of the project's labels" in not_a_label.message
    )
    assert not hundreds.ok and "at most 200" in hundreds.message
    assert not garbage.ok and "choose the shapes" in garbage.message
    assert unknown.changed == 0 and "no longer stored" in unknown.message
    assert store.annotations_for(keys[0], "alice") == before


def test_an_image_gone_from_the_source_is_named_and_the_rest_saved(services, tmp_path) -> None:
    store, keys = services.store, KEYS
    seed(store, keys)
    (tmp_path / "images" / "b" / "img02.jpg").unlink()

    result = bulk_change(services, "alice", False, RELABEL, "dog", {"a010": 1, "a020": 1})

    assert result.changed == 1
    assert "img02.jpg: the image is no longer in the image source" in result.message
    assert stored(services, "a020").label == "cat"
    assert stored(services, "a010").label == "dog"
