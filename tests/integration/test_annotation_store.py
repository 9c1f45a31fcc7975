"""Contract tests for AnnotationStore: every database backend must pass all of them.

The `store` fixture (tests/integration/conftest.py) runs each test once per backend.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from domain.annotation import Annotation
from domain.records_state import RecordsState
from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore
from storage.autosave import autosave
from storage.errors import EditConflict, NothingToUndo, SaveFailed
from storage.renditions import ImageInfo

T0 = datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=UTC)


def shape(
    record_id: str,
    minutes: int = 0,
    annotator: str = "alice",
    image_key: str = "batch/a.jpg",
    **fields: object,
) -> Annotation:
    """A record created `minutes` after T0."""
    when = T0 + timedelta(minutes=minutes)
    values: dict = {"label": "person", "kind": "rect", "coords": (10.0, 20.5, 110.0, 220.25)}
    values.update(fields)
    return Annotation(
        id=record_id,
        image_key=image_key,
        annotator=annotator,
        created_at=when,
        updated_at=when,
        **values,
    )


def stored(records: list[Annotation], version: int = 1) -> list[Annotation]:
    """The records as the store gives them back: at a stored version."""
    return [replace(r, version=version) for r in records]


def test_synced_records_come_back_identical_in_creation_order(store: AnnotationStore) -> None:
    records = [
        shape("r-late", 3),
        shape("r-first", 0, kind="circle", label="animal"),
        shape("r-poly", 1, kind="polygon", coords=(), points=((1.5, 2.0), (30.0, 4.25), (5, 60))),
        shape("r-path", 2, kind="path", coords=(), points=((0.0, 0.0), (639.99, 479.99))),
        shape("r-line", 4, kind="line", coords=(600.0, 10.0, 20.0, 470.0), source="model"),
    ]

    saved = store.sync_image("batch/a.jpg", "alice", records)
    loaded = store.annotations_for("batch/a.jpg", "alice")

    assert [r.id for r in loaded] == ["r-first", "r-poly", "r-path", "r-late", "r-line"]
    assert loaded == stored(sorted(records, key=lambda r: r.created_at))
    assert list(saved) == loaded
    for record in loaded:
        assert record.created_at.utcoffset() is not None
        assert record.updated_at.utcoffset() is not None


def test_nothing_stored_reads_as_an_empty_list(store: AnnotationStore) -> None:
    assert store.annotations_for("batch/a.jpg", "alice") == []
    assert store.statuses_for("alice") == {}


def test_a_second_sync_updates_changed_records_and_deletes_missing_ones(
    store: AnnotationStore,
) -> None:
    kept, moved, erased = shape("kept", 0), shape("moved", 1), shape("erased", 2)
    store.sync_image("batch/a.jpg", "alice", [kept, moved, erased])

    later = T0 + timedelta(hours=1)
    moved_again = moved.with_geometry((50.0, 60.0, 70.0, 80.0), (), later)
    relabelled = kept.with_label("vehicle", later)
    store.sync_image("batch/a.jpg", "alice", [relabelled, moved_again])

    assert store.annotations_for("batch/a.jpg", "alice") == stored([relabelled, moved_again], 2)


def test_a_sync_of_nothing_deletes_everything_of_that_image(store: AnnotationStore) -> None:
    store.sync_image("batch/a.jpg", "alice", [shape("a"), shape("b", 1)])
    store.sync_image("batch/b.jpg", "alice", [shape("c", image_key="batch/b.jpg")])

    store.sync_image("batch/a.jpg", "alice", [])

    assert store.annotations_for("batch/a.jpg", "alice") == []
    assert [r.id for r in store.annotations_for("batch/b.jpg", "alice")] == ["c"]


def test_an_image_with_shapes_is_done_and_stops_being_done_when_they_go(
    store: AnnotationStore,
) -> None:
    store.sync_image("batch/a.jpg", "alice", [shape("a")])
    assert store.statuses_for("alice") == {"batch/a.jpg": "done"}

    store.sync_image("batch/a.jpg", "alice", [])
    assert store.statuses_for("alice") == {}


def test_empty_and_skipped_statuses(store: AnnotationStore) -> None:
    store.set_status("batch/a.jpg", "alice", ImageStatus.EMPTY)
    store.set_status("batch/b.jpg", "alice", ImageStatus.SKIPPED)

    assert store.statuses_for("alice") == {"batch/a.jpg": "empty", "batch/b.jpg": "skipped"}

    store.set_status("batch/b.jpg", "alice", ImageStatus.EMPTY)
    assert store.statuses_for("alice")["batch/b.jpg"] == "empty"


def test_an_empty_sync_keeps_an_empty_or_skipped_status(store: AnnotationStore) -> None:
    store.set_status("batch/a.jpg", "alice", ImageStatus.EMPTY)
    store.set_status("batch/b.jpg", "alice", ImageStatus.SKIPPED)

    store.sync_image("batch/a.jpg", "alice", [])
    store.sync_image("batch/b.jpg", "alice", [])

    assert store.statuses_for("alice") == {"batch/a.jpg": "empty", "batch/b.jpg": "skipped"}


def test_drawing_on_a_skipped_image_makes_it_done(store: AnnotationStore) -> None:
    store.set_status("batch/a.jpg", "alice", ImageStatus.SKIPPED)

    store.sync_image("batch/a.jpg", "alice", [shape("a")])

    assert store.statuses_for("alice") == {"batch/a.jpg": "done"}


def test_annotators_are_isolated(store: AnnotationStore) -> None:
    alices = [shape("alice-1"), shape("alice-2", 1)]
    store.sync_image("batch/a.jpg", "alice", alices)
    store.set_status("batch/b.jpg", "alice", ImageStatus.SKIPPED)

    assert store.annotations_for("batch/a.jpg", "bob") == []
    assert store.statuses_for("bob") == {}

    store.sync_image("batch/a.jpg", "bob", [])
    bobs = [shape("bob-1", 5, annotator="bob")]
    store.sync_image("batch/a.jpg", "bob", bobs)
    store.sync_image("batch/a.jpg", "bob", [])

    assert store.annotations_for("batch/a.jpg", "alice") == stored(alices)
    assert store.statuses_for("alice") == {"batch/a.jpg": "done", "batch/b.jpg": "skipped"}
    assert store.statuses_for("bob") == {}


@pytest.mark.parametrize(
    "stranger",
    [shape("x", annotator="bob"), shape("x", image_key="batch/other.jpg")],
    ids=["other-annotator", "other-image"],
)
def test_a_record_of_another_annotator_or_image_is_refused(
    store: AnnotationStore, stranger: Annotation
) -> None:
    store.sync_image("batch/a.jpg", "alice", [shape("old")])

    with pytest.raises(SaveFailed, match="another image or annotator"):
        store.sync_image("batch/a.jpg", "alice", [shape("new", 1), stranger])

    assert [r.id for r in store.annotations_for("batch/a.jpg", "alice")] == ["old"]
    assert store.annotations_for("batch/a.jpg", "bob") == []
    assert store.annotations_for("batch/other.jpg", "alice") == []


def test_an_id_already_used_by_another_annotator_is_refused(store: AnnotationStore) -> None:
    bobs = shape("shared-id", annotator="bob")
    store.sync_image("batch/a.jpg", "bob", [bobs])
    store.sync_image("batch/a.jpg", "alice", [shape("mine")])

    with pytest.raises(SaveFailed, match="already used"):
        store.sync_image("batch/a.jpg", "alice", [shape("new", 1), shape("shared-id", 2)])

    assert store.annotations_for("batch/a.jpg", "bob") == stored([bobs])
    assert [r.id for r in store.annotations_for("batch/a.jpg", "alice")] == ["mine"]


def test_records_survive_a_restart(database_url: str) -> None:
    first = AnnotationStore.from_url(database_url)
    records = [
        shape("a"),
        shape("b", 1, kind="polygon", coords=(), points=((1, 1), (9, 1), (5, 8))),
    ]
    first.sync_image("batch/a.jpg", "alice", records)
    first.set_status("batch/b.jpg", "alice", ImageStatus.EMPTY)
    first.engine.dispose()

    second = AnnotationStore.from_url(database_url)
    try:
        assert second.annotations_for("batch/a.jpg", "alice") == stored(records)
        assert second.statuses_for("alice") == {"batch/a.jpg": "done", "batch/b.jpg": "empty"}
    finally:
        second.engine.dispose()


def unsaved_state(*records: Annotation) -> RecordsState:
    return RecordsState("batch/a.jpg", "alice", tuple(records), unsaved=True, rev=3)


def test_autosave_marks_the_records_saved(store: AnnotationStore) -> None:
    state = unsaved_state(shape("a"))

    saved = autosave(store, state)

    assert saved.unsaved is False
    assert saved.error is None
    assert saved.rev == 4
    assert saved.records == tuple(stored(list(state.records)))
    assert saved.known == (("a", 1),)
    assert store.annotations_for("batch/a.jpg", "alice") == stored([shape("a")])


def test_autosave_on_a_broken_database_keeps_the_records_unsaved(store: AnnotationStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE annotations"))
    state = unsaved_state(shape("a"), shape("b", 1))

    result = autosave(store, state)

    assert result.unsaved is True
    assert result.error and "the database refused the change" in result.error
    assert result.records == state.records
    assert result.rev == 4


def test_autosave_without_an_image_does_nothing(store: AnnotationStore) -> None:
    state = RecordsState(None, "alice", (shape("a"),), unsaved=True)

    assert autosave(store, state) == state
    assert store.annotations_for("batch/a.jpg", "alice") == []


def test_autosave_to_a_database_that_cannot_be_opened(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    store = AnnotationStore(create_engine(f"sqlite:///{blocker / 'annotations.db'}"))
    state = unsaved_state(shape("a"))

    try:
        result = autosave(store, state)
    finally:
        store.engine.dispose()

    assert result.unsaved is True
    assert result.error and "unable to open database file" in result.error
    assert result.records == state.records


def test_a_database_folder_that_cannot_be_made_is_explained(tmp_path: Path) -> None:
    from storage.errors import StorageError

    (tmp_path / "file").write_text("in the way")
    with pytest.raises(StorageError, match="cannot create the database folder"):
        AnnotationStore.from_url(f"sqlite:///{tmp_path / 'file' / 'db' / 'a.db'}")


# ---------------------------------------------------------------- bulk reads and writes


def test_annotators_lists_everyone_with_shapes_or_statuses(store: AnnotationStore) -> None:
    store.sync_image("batch/a.jpg", "bob", [shape("b1", annotator="bob")])
    store.set_status("batch/b.jpg", "carol", ImageStatus.EMPTY)

    assert store.annotators() == ["bob", "carol"]


def test_export_rows_filter_by_annotator_and_key_prefix(store: AnnotationStore) -> None:
    store.sync_image("batch/a.jpg", "alice", [shape("a1")])
    store.sync_image("other/c.jpg", "alice", [shape("a2", image_key="other/c.jpg")])
    store.sync_image("batch/a.jpg", "bob", [shape("b1", annotator="bob")])
    store.set_status("batch_2/x.jpg", "alice", ImageStatus.EMPTY)  # '_' is no wildcard

    everything = store.export_rows()
    alice_batch = store.export_rows("alice", key_prefix="batch/")

    assert sorted((r.image_key, r.annotator) for r in everything.shapes) == [
        ("batch/a.jpg", "alice"),
        ("batch/a.jpg", "bob"),
        ("other/c.jpg", "alice"),
    ]
    assert alice_batch.shapes == [
        ("batch/a.jpg", "alice", "person", "rect", (10.0, 20.5, 110.0, 220.25), (), None, "human")
    ]
    assert alice_batch.statuses == {("batch/a.jpg", "alice"): "done"}


POINTS = ((1.5, 2.0), (30.0, 4.25), (5.0, 60.0))


def test_replace_images_sets_shapes_and_statuses_and_is_idempotent(
    store: AnnotationStore,
) -> None:
    store.sync_image("batch/a.jpg", "model", [shape("old", annotator="model")])
    store.sync_image("batch/a.jpg", "alice", [shape("mine")])
    groups = [
        (
            "batch/a.jpg",
            "model",
            [
                shape("n1", annotator="model"),
                shape("n2", 1, annotator="model", kind="polygon", coords=(), points=POINTS),
            ],
        ),
        ("batch/b.jpg", "model", []),
    ]

    first = store.replace_images(groups)
    second = store.replace_images(groups)

    assert (first.inserted, first.deleted) == (2, 1)
    assert (second.inserted, second.deleted, second.unchanged) == (0, 0, 2)
    assert store.annotations_for("batch/a.jpg", "model") == stored(list(groups[0][2]))  # times
    assert [r.id for r in store.annotations_for("batch/a.jpg", "alice")] == ["mine"]
    assert store.statuses_for("model") == {"batch/a.jpg": "done", "batch/b.jpg": "empty"}


def test_replace_images_writes_nothing_when_one_row_fails(store: AnnotationStore) -> None:
    store.sync_image("batch/a.jpg", "alice", [shape("taken")])
    groups = [
        ("batch/b.jpg", "model", [shape("fine", annotator="model", image_key="batch/b.jpg")]),
        ("batch/c.jpg", "model", [shape("taken", annotator="model", image_key="batch/c.jpg")]),
    ]

    with pytest.raises(SaveFailed, match="refused the import"):
        store.replace_images(groups)

    assert store.annotations_for("batch/b.jpg", "model") == []
    assert store.statuses_for("model") == {}
    assert [r.id for r in store.annotations_for("batch/a.jpg", "alice")] == ["taken"]


def test_image_sizes_are_remembered_by_fingerprint(store: AnnotationStore) -> None:
    wide, tall = ImageInfo(640, 480, "JPEG", "RGB", 1), ImageInfo(300, 500, "PNG", "RGBA", 6)
    store.remember_sizes({"a.jpg": ("f1", wide), "b/c.png": ("f2", tall)})
    store.remember_sizes({"a.jpg": ("f3", tall)})  # the file changed

    assert store.known_sizes(["a.jpg", "b/c.png", "gone.jpg"]) == {
        "a.jpg": ("f3", tall),
        "b/c.png": ("f2", tall),
    }


def test_active_time_adds_up_per_image_and_annotator(store: AnnotationStore) -> None:
    store.add_active_time("batch/a.jpg", "alice", 12.0)
    store.add_active_time("batch/a.jpg", "alice", 3.5)
    store.add_active_time("batch/a.jpg", "bob", 7.0)
    store.add_active_time("other/b.jpg", "alice", 1.0)

    assert store.active_times("batch/") == {
        ("batch/a.jpg", "alice"): 15.5,
        ("batch/a.jpg", "bob"): 7.0,
    }
    assert len(store.active_times()) == 3


# ---------------------------------------------------------------- versions, history, undo


def test_an_edit_made_on_an_older_version_is_refused_not_lost(store: AnnotationStore) -> None:
    """Two tabs of one annotator hold the same shape; the second edit must not win silently."""
    [first] = store.sync_image("batch/a.jpg", "alice", [shape("s")])
    known = (("s", first.version),)
    later = T0 + timedelta(minutes=5)
    tab_one = first.with_geometry((0.0, 0.0, 50.0, 50.0), (), later)
    tab_two = first.with_label("vehicle", later)

    [moved] = store.sync_image("batch/a.jpg", "alice", [tab_one], known)
    with pytest.raises(EditConflict, match="changed in another tab or window"):
        store.sync_image("batch/a.jpg", "alice", [tab_two], known)
    with pytest.raises(EditConflict, match="changed in another tab or window"):
        store.sync_image("batch/a.jpg", "alice", [], known)  # deleting it: refused too

    assert store.annotations_for("batch/a.jpg", "alice") == [moved]
    assert moved.version == 2 and moved.coords == (0.0, 0.0, 50.0, 50.0)
    # A shape drawn in another tab is kept when this tab saves without knowing it.
    store.sync_image("batch/a.jpg", "alice", [moved, shape("t", 1)], (("s", 2),))
    assert {r.id for r in store.sync_image("batch/a.jpg", "alice", [moved], (("s", 2),))} == {
        "s",
        "t",
    }


def test_concurrent_edits_of_one_shape_never_both_succeed(store: AnnotationStore) -> None:
    [base] = store.sync_image("batch/a.jpg", "alice", [shape("s")])
    known = (("s", base.version),)
    edits = [
        base.with_label(label, T0 + timedelta(minutes=n))
        for n, label in enumerate(["animal", "vehicle", "food", "object"], start=1)
    ]

    def save(edit: Annotation) -> str:
        try:
            store.sync_image("batch/a.jpg", "alice", [edit], known)
        except EditConflict:
            return "conflict"
        except SaveFailed:
            return "failed"  # SQLite's busy snapshot: the browser keeps it and retries
        return edit.label

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(save, edits))
    winners = [o for o in outcomes if o not in ("conflict", "failed")]
    [stored_now] = store.annotations_for("batch/a.jpg", "alice")
    assert winners == [stored_now.label] and stored_now.version == 2
    for edit, outcome in zip(edits, outcomes, strict=True):
        if outcome == "failed":  # the retry is told, not applied
            with pytest.raises(EditConflict):
                store.sync_image("batch/a.jpg", "alice", [edit], known)


def test_every_change_is_an_event_with_before_and_after(store: AnnotationStore) -> None:
    [drawn] = store.sync_image("batch/a.jpg", "alice", [shape("s")], (), actor="alice")
    moved = drawn.with_geometry((1.0, 2.0, 3.0, 4.0), (), T0 + timedelta(minutes=1))
    store.sync_image("batch/a.jpg", "alice", [moved], (("s", 1),))
    store.sync_image("batch/a.jpg", "alice", [], (("s", 2),))
    store.set_status("batch/a.jpg", "alice", ImageStatus.SKIPPED)
    store.sync_image("batch/a.jpg", "bob", [shape("b", annotator="bob")])

    events = store.events("batch/a.jpg", "alice")
    assert [(e.action, e.actor) for e in events] == [
        ("create", "alice"),
        ("status", "alice"),
        ("edit", "alice"),
        ("delete", "alice"),
        ("status", "alice"),
        ("status", "alice"),
    ]
    create, done, edit, gone, undone, skipped = events
    assert create.before is None and create.after["coords"] == [10.0, 20.5, 110.0, 220.25]
    assert create.change == done.change  # one save, one change
    assert (done.before, done.after) == (None, {"status": "done"})
    assert edit.before["version"] == 1 and edit.after["coords"] == [1.0, 2.0, 3.0, 4.0]
    assert gone.before["version"] == 2 and gone.after is None
    assert (undone.before, undone.after) == ({"status": "done"}, None)
    assert skipped.after == {"status": "skipped"}
    assert [e.annotator for e in store.events(annotator="bob")] == ["bob", "bob"]


def test_undo_walks_back_ones_own_changes(store: AnnotationStore) -> None:
    [drawn] = store.sync_image("batch/a.jpg", "alice", [shape("s")], ())
    relabelled = drawn.with_label("animal", T0 + timedelta(minutes=1))
    [relabelled] = store.sync_image("batch/a.jpg", "alice", [relabelled], (("s", 1),))
    store.sync_image("batch/a.jpg", "alice", [], (("s", 2),))

    [back] = store.undo_last("batch/a.jpg", "alice", "alice")  # the delete
    assert (back.label, back.coords) == ("animal", relabelled.coords)
    assert store.statuses_for("alice") == {"batch/a.jpg": "done"}
    [back] = store.undo_last("batch/a.jpg", "alice", "alice")  # the relabel
    assert back.label == "person" and back.version > relabelled.version
    assert store.undo_last("batch/a.jpg", "alice", "alice") == ()  # the drawing
    assert store.statuses_for("alice") == {}
    with pytest.raises(NothingToUndo):
        store.undo_last("batch/a.jpg", "alice", "alice")
    # Undos are recorded like any change, naming what they undid.
    undos = [e for e in store.events("batch/a.jpg", "alice") if e.undoes]
    assert len({e.change for e in undos}) == 3


def test_undo_refuses_when_the_shape_changed_since_and_ignores_others_changes(
    store: AnnotationStore,
) -> None:
    [drawn] = store.sync_image("batch/a.jpg", "alice", [shape("s")], (), actor="alice")
    moved = drawn.with_geometry((5.0, 5.0, 9.0, 9.0), (), T0 + timedelta(minutes=1))
    store.sync_image("batch/a.jpg", "alice", [moved], (("s", 1),), actor="alice")
    # An admin's import of alice's image is not alice's change to undo.
    store.replace_images([("batch/a.jpg", "alice", [shape("imp")])], actor="admin")
    with pytest.raises(EditConflict, match="Cannot undo"):
        store.undo_last("batch/a.jpg", "alice", "alice")  # her move: the shape is gone
    assert [r.id for r in store.annotations_for("batch/a.jpg", "alice")] == ["imp"]
    with pytest.raises(NothingToUndo):
        store.undo_last("batch/a.jpg", "alice", "carol")


def test_saves_racing_from_one_tab_are_not_conflicts_but_another_tabs_are(
    store: AnnotationStore,
) -> None:
    """A drag sends several saves, each based on the version the tab knew when it started."""
    [base] = store.sync_image("batch/a.jpg", "alice", [shape("s")], (), writer="tab-1")
    known = (("s", base.version),)
    steps = [base.with_geometry((x, 0.0, x + 10, 10.0), (), T0) for x in (1.0, 2.0, 3.0)]
    for step in steps:  # all sent before any answer came back: all based on version 1
        store.sync_image("batch/a.jpg", "alice", [step], known, writer="tab-1")
    [now] = store.annotations_for("batch/a.jpg", "alice")
    assert now.coords == (3.0, 0.0, 13.0, 10.0) and now.version == 4
    with pytest.raises(EditConflict):
        store.sync_image("batch/a.jpg", "alice", [steps[0]], known, writer="tab-2")
