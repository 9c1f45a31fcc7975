"""ANNOTATORS_PER_IMAGE on SQLite and PostgreSQL: k holders per image, never more, even
with 20 annotators asking at the same moment; finishing keeps a claim, skipping frees it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore

KEYS = [f"batch/img{n:03}.jpg" for n in range(40)]


def test_with_k_1_twenty_annotators_asking_at_once_never_share_an_image(
    store: AnnotationStore,
) -> None:
    people = [f"annotator-{n:02}" for n in range(20)]

    def ask(name: str) -> str | None:
        return AssignmentStore(store.engine, per_image=1).claim_first(name, KEYS)

    with ThreadPoolExecutor(20) as pool:
        handed = list(pool.map(ask, people))
    assert None not in handed
    assert len(set(handed)) == 20  # twenty different images
    assert handed.count(KEYS[0]) == 1
    # Asking again gives each person the image they already hold.
    again = AssignmentStore(store.engine, per_image=1)
    assert [again.claim_first(p, KEYS) for p in people] == handed


def test_with_k_2_each_image_gets_exactly_two_independent_annotators(
    store: AnnotationStore,
) -> None:
    people = [f"p{n}" for n in range(6)]
    assignments = AssignmentStore(store.engine, per_image=2)
    keys = KEYS[:3]
    with ThreadPoolExecutor(6) as pool:
        handed = list(pool.map(lambda p: assignments.claim_first(p, keys), people))
    assert sorted(handed) == sorted([keys[0], keys[0], keys[1], keys[1], keys[2], keys[2]])
    assert assignments.claim_first("late", keys) is None  # every image has its two
    assert {len(h) for h in assignments.holders_of(keys).values()} == {2}


def test_finishing_keeps_a_claim_skipping_frees_it_and_claims_expire(
    store: AnnotationStore,
) -> None:
    assignments = AssignmentStore(store.engine, per_image=1)
    keys = KEYS[:2]
    assert assignments.claim_first("ann", keys) == keys[0]
    store.set_status(keys[0], "ann", ImageStatus.EMPTY)  # finished: kept for good
    assert assignments.claim_first("ann", keys) == keys[1]  # not the finished one again
    store.set_status(keys[1], "ann", ImageStatus.SKIPPED)  # skipped: free for others
    assert assignments.claim_first("ben", keys) == keys[1]
    assert assignments.claim_first("ann", keys) is None  # nothing left for ann

    # A claim nobody finishes expires: another annotator gets the image.
    short = AssignmentStore(store.engine, per_image=1, claim_minutes=0)
    third = KEYS[2:3]
    assert short.claim_first("cat", third) == third[0]
    assert short.claim_first("dan", third) == third[0]
    assert short.holders_of(third) == {third[0]: set()}  # dan's own claim expired at once
    assert AssignmentStore(store.engine, 1, claim_minutes=5).claim_first("eve", third)


def test_images_finished_before_assignment_was_switched_on_count(store: AnnotationStore):
    store.set_status(KEYS[0], "old-hand", ImageStatus.DONE)
    assert AssignmentStore(store.engine, per_image=1).claim_first("new", KEYS[:2]) == KEYS[1]


def test_a_detector_gold_and_second_passes_take_no_annotators_place(store: AnnotationStore):
    """Pre-annotation, an accepted review and a repeat finish images too; with k = 2, two
    people still get each image."""
    for who in ("model:yolo", "gold", "bob#repeat"):
        store.set_status(KEYS[0], who, ImageStatus.DONE)
    store.set_status(KEYS[0], "bob", ImageStatus.DONE)
    assigned = AssignmentStore(store.engine, per_image=2)
    assert assigned.holders_of([KEYS[0]]) == {KEYS[0]: {"bob"}}
    assert assigned.claim_first("alice", KEYS[:1]) == KEYS[0]
    assert assigned.claim_first("carol", KEYS[:1]) is None  # bob and alice: full
