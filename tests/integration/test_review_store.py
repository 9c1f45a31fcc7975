"""Review statuses, comment threads and rework requests, on each database backend: a send
back puts the image into the annotator's queue again, their new pass closes the request,
and everything is in the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.annotation import Annotation
from domain.errors import ReviewError
from domain.review import ReviewStatus
from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore
from storage.review_store import ReviewStore

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def box(record_id: str, key: str, annotator: str) -> Annotation:
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


def test_send_back_reopens_the_image_for_the_chosen_annotators(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    assigned = AssignmentStore(store.engine, per_image=2)
    for who in ("alice", "bob"):
        assert assigned.claim_first(who, ["b/1.jpg"]) == "b/1.jpg"
        store.sync_image("b/1.jpg", who, [box(f"{who}-1", "b/1.jpg", who)])
    assert store.progress_counts("alice", "b") == {"done": 1}

    reviews.send_back("b/1.jpg", ["alice"], "rita", "  the left person is a dog  ")

    assert reviews.reviews_of(["b/1.jpg"])["b/1.jpg"].status == ReviewStatus.REWORK
    assert "b/1.jpg" not in store.statuses_for("alice")  # back in her queue
    assert store.statuses_for("bob") == {"b/1.jpg": "done"}  # bob's work stands
    assert store.progress_counts("alice", "b").get("done", 0) == 0
    assert assigned.claim_first("alice", ["b/1.jpg"]) == "b/1.jpg"  # still hers
    assert assigned.claim_first("carol", ["b/1.jpg"]) is None  # her slot is not freed
    request = reviews.open_rework("alice", "b/1.jpg")
    assert request is not None and request.comment == "the left person is a dog"
    assert reviews.open_rework_keys("alice") == {"b/1.jpg"}
    assert [c.text for c in reviews.comments("b/1.jpg")] == ["the left person is a dog"]

    store.set_status("b/1.jpg", "alice", ImageStatus.DONE)  # her new pass

    assert reviews.open_rework("alice", "b/1.jpg") is None
    assert reviews.open_rework_keys() == set()
    history = [(e.actor, e.annotator, e.action) for e in store.events("b/1.jpg")]
    assert ("rita", "gold", "review") in history
    assert ("rita", "gold", "comment") in history
    assert ("rita", "alice", "rework") in history
    assert ("rita", "alice", "status") in history  # the status the send-back cleared


def test_accept_closes_open_requests_and_comments_make_a_thread(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    store.sync_image("b/2.jpg", "alice", [box("a", "b/2.jpg", "alice")])
    reviews.send_back("b/2.jpg", ["alice"], "rita", "redo")
    reviews.add_comment("b/2.jpg", "alice", "which one?")
    reviews.accept("b/2.jpg", "rita", "fixed it myself")

    assert reviews.reviews_of(["b/2.jpg", "b/9.jpg"])["b/2.jpg"].status == "accepted"
    assert reviews.open_rework("alice", "b/2.jpg") is None
    thread = [(c.author, c.text) for c in reviews.comments("b/2.jpg")]
    assert thread == [("rita", "redo"), ("alice", "which one?"), ("rita", "fixed it myself")]
    assert set(reviews.reviews_under("b/")) == {"b/2.jpg"}
    reviews.clear_review("b/2.jpg", "rita")
    assert reviews.reviews_of(["b/2.jpg"]) == {}


def test_bad_review_input_is_refused_and_changes_nothing(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    store.sync_image("b/3.jpg", "alice", [box("a", "b/3.jpg", "alice")])
    with pytest.raises(ReviewError, match="comment is empty"):
        reviews.send_back("b/3.jpg", ["alice"], "rita", "   ")
    with pytest.raises(ReviewError, match="whose work"):
        reviews.send_back("b/3.jpg", [], "rita", "redo")
    with pytest.raises(ReviewError, match="at most"):
        reviews.add_comment("b/3.jpg", "rita", "x" * 2001)
    assert reviews.reviews_of(["b/3.jpg"]) == {}
    assert store.statuses_for("alice") == {"b/3.jpg": "done"}
    assert reviews.comments("b/3.jpg") == []


def test_undo_passes_over_review_events(store: AnnotationStore) -> None:
    """A gold edit is undone even when a verdict came after it (verdicts are not undone)."""
    reviews = ReviewStore(store.engine)
    store.sync_image("b/4.jpg", "gold", [box("g1", "b/4.jpg", "gold")], actor="rita")
    reviews.accept("b/4.jpg", "rita")
    assert store.undo_last("b/4.jpg", "gold", "rita") == ()
    assert "b/4.jpg" in store.statuses_for("gold")  # the accept stands
    assert reviews.reviews_of(["b/4.jpg"])["b/4.jpg"].status == "accepted"


def test_disagreement_scores_are_replaced(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    reviews.save_disagreement({"b/1.jpg": 0.5, "b/2.jpg": 0.0}, 0.5)
    reviews.save_disagreement({"b/1.jpg": 0.25}, 0.5)
    assert reviews.disagreement_of(["b/1.jpg", "b/2.jpg", "b/3.jpg"]) == {
        "b/1.jpg": 0.25,
        "b/2.jpg": 0.0,
    }
    assert reviews.disagreement_of() == {"b/1.jpg": 0.25, "b/2.jpg": 0.0}


def test_gold_counts_once_accepted_and_not_while_sent_back(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    store.sync_image("b/5.jpg", "alice", [box("a5", "b/5.jpg", "alice")])
    store.sync_image("b/5.jpg", "gold", [box("g5", "b/5.jpg", "gold")], actor="rita")
    assert store.statuses_for("gold") == {}  # drawn, not yet accepted
    reviews.accept("b/5.jpg", "rita")
    assert store.statuses_for("gold") == {"b/5.jpg": "done"}
    reviews.send_back("b/5.jpg", ["alice"], "rita", "again")
    assert store.statuses_for("gold") == {}
    reviews.accept("b/6.jpg", "rita")  # nothing drawn: gold says the image is empty
    assert store.statuses_for("gold") == {"b/6.jpg": "empty"}


def test_a_new_ranking_drops_the_scores_of_images_it_leaves_out(store: AnnotationStore) -> None:
    reviews = ReviewStore(store.engine)
    reviews.save_disagreement({"b/1.jpg": 0.5, "b/2.jpg": 0.4, "c/1.jpg": 0.3}, 0.5)
    reviews.save_disagreement({"b/1.jpg": 0.1}, 0.5, replace_under="b/")
    assert reviews.disagreement_of() == {"b/1.jpg": 0.1, "c/1.jpg": 0.3}
    reviews.save_disagreement({}, 0.5, replace_under="")
    assert reviews.disagreement_of() == {}


def test_accepted_gold_edited_to_nothing_says_empty_and_back(store: AnnotationStore) -> None:
    """After an accept, gold's status follows its shapes: no shape left is 'empty' (the
    image has no objects), a shape drawn again is 'done'; unaccepted gold gets none."""
    reviews = ReviewStore(store.engine)
    store.sync_image("b/7.jpg", "gold", [box("g7", "b/7.jpg", "gold")], actor="rita")
    reviews.accept("b/7.jpg", "rita")
    store.sync_image("b/7.jpg", "gold", [], actor="rita")
    assert store.statuses_for("gold") == {"b/7.jpg": "empty"}
    store.sync_image("b/7.jpg", "gold", [box("g8", "b/7.jpg", "gold")], actor="rita")
    assert store.statuses_for("gold") == {"b/7.jpg": "done"}
    store.sync_image("b/8.jpg", "gold", [box("g9", "b/8.jpg", "gold")], actor="rita")
    assert "b/8.jpg" not in store.statuses_for("gold")
