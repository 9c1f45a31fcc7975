"""The progress bar's per-batch counts stay equal to the statuses they count, through every
way a status changes, on each database backend, and under concurrent saves."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert

from domain.annotation import Annotation
from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore, make_engine
from storage.images import batch_of
from storage.migrate import _config
from storage.schema import STATUSES

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def box(record_id: str, key: str, annotator: str = "alice") -> Annotation:
    return Annotation(
        id=record_id,
        image_key=key,
        annotator=annotator,
        label="person",
        kind="rect",
        coords=(1.0, 2.0, 30.0, 40.0),
        created_at=T0,
        updated_at=T0,
    )


def scanned(store: AnnotationStore, annotator: str, batch: str) -> dict[str, int]:
    """What the counts must say: every status of the annotator, filtered to the batch."""
    found = Counter(s for k, s in store.statuses_for(annotator).items() if batch_of(k) == batch)
    return dict(found)


def counted(store: AnnotationStore, annotator: str, batch: str) -> dict[str, int]:
    return {s: n for s, n in store.progress_counts(annotator, batch).items() if n}


def assert_counts(store: AnnotationStore, expected: dict[str, int], batch: str = "b1") -> None:
    assert scanned(store, "alice", batch) == expected  # the statuses themselves
    assert counted(store, "alice", batch) == expected  # and what the progress bar reads


def test_counts_follow_finish_skip_no_objects_undo_delete_and_import(store):
    store.sync_image("b1/a.jpg", "alice", [box("s1", "b1/a.jpg")])  # finished with a shape
    store.set_status("b1/b.jpg", "alice", ImageStatus.SKIPPED)
    store.set_status("b1/c.jpg", "alice", ImageStatus.EMPTY)  # 'No objects'
    store.set_status("top.jpg", "alice", ImageStatus.SKIPPED)  # the top-level batch
    store.set_status("b1/a.jpg", "bob", ImageStatus.EMPTY)  # someone else's
    assert_counts(store, {"done": 1, "skipped": 1, "empty": 1})
    assert_counts(store, {"skipped": 1}, batch="")

    store.set_status("b1/b.jpg", "alice", ImageStatus.EMPTY)  # skipped, then no objects
    store.set_status("b1/b.jpg", "alice", ImageStatus.EMPTY)  # twice: nothing changes
    assert_counts(store, {"done": 1, "empty": 2})

    store.sync_image("b1/a.jpg", "alice", [])  # every shape deleted: no longer done
    assert_counts(store, {"empty": 2})
    store.undo_last("b1/a.jpg", "alice", "alice")  # the shape and its 'done' come back
    assert_counts(store, {"done": 1, "empty": 2})
    store.undo_last("b1/a.jpg", "alice", "alice")  # the drawing undone: not done again
    assert_counts(store, {"empty": 2})

    groups = [
        ("b1/a.jpg", "alice", [box("i1", "b1/a.jpg")]),  # import: done
        ("b1/b.jpg", "alice", [box("i2", "b1/b.jpg")]),  # was empty: done
        ("b1/d.jpg", "alice", []),  # new: empty
        ("b2/x.jpg", "alice", []),  # another batch
    ]
    store.replace_images(groups)
    assert_counts(store, {"done": 2, "empty": 2})
    store.replace_images(groups)  # the same import again changes nothing
    assert_counts(store, {"done": 2, "empty": 2})
    assert_counts(store, {"empty": 1}, batch="b2")
    assert counted(store, "bob", "b1") == {"empty": 1}


def test_counts_stay_right_under_concurrent_saves(database_url):
    stores = [AnnotationStore.from_url(database_url) for _ in range(4)]
    keys = [f"b1/{n:02d}.jpg" for n in range(12)]
    cycle = [ImageStatus.SKIPPED, ImageStatus.EMPTY, ImageStatus.SKIPPED, ImageStatus.EMPTY]

    def work(worker: int) -> None:
        store = stores[worker]
        for round_ in range(3):
            for n, key in enumerate(keys):  # every worker changes every image, in turn
                status = cycle[(worker + n + round_) % len(cycle)]
                for _attempt in range(20):  # a refused write (SQLite busy) is tried again
                    try:
                        if (worker + n) % 3 == 0:
                            store.sync_image(key, "alice", [box(f"w{worker}-{n}", key)])
                            store.sync_image(key, "alice", [])
                        store.set_status(key, "alice", status)
                        break
                    except Exception:
                        continue

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    expected = scanned(stores[0], "alice", "b1")
    assert sum(expected.values()) == len(keys)
    assert counted(stores[0], "alice", "b1") == expected
    for store in stores:
        store.engine.dispose()


def test_statuses_stored_before_the_counts_existed_are_counted(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0007")
        rows = [
            {"image_key": f"b1/{n}.jpg", "annotator": "alice", "status": s, "updated_at": T0}
            for n, s in enumerate(["done", "done", "empty", "skipped"])
        ] + [{"image_key": "top.jpg", "annotator": "alice", "status": "done", "updated_at": T0}]
        conn.execute(insert(STATUSES), rows)
    engine.dispose()
    store = AnnotationStore.from_url(database_url)  # migrates to the newest revision
    assert counted(store, "alice", "b1") == {"done": 2, "empty": 1, "skipped": 1}
    assert counted(store, "alice", "") == {"done": 1}
    store.engine.dispose()
