"""The review queue's contents and order: finished by k people, not accepted, no open
rework; most disputed first, then by name."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.review import Review, ReviewStatus
from workflows.review_queue import order_queue

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def review(key: str, status: ReviewStatus) -> Review:
    return Review(key, status, "rita", T0)


FINISHED = {
    "b/a.jpg": {"alice", "bob"},
    "b/b.jpg": {"alice", "bob"},
    "b/c.jpg": {"alice"},
    "b/d.jpg": {"alice", "bob"},
    "b/e.jpg": {"bob", "alice"},
    "b/f.jpg": {"alice", "bob"},
}


def test_most_disputed_first_then_the_rest_by_name() -> None:
    queue = order_queue(FINISHED, 2, {}, set(), {"b/f.jpg": 0.2, "b/d.jpg": 0.9, "b/b.jpg": 0.2})
    assert [i.key for i in queue.items] == ["b/d.jpg", "b/b.jpg", "b/f.jpg", "b/a.jpg", "b/e.jpg"]
    assert queue.items[0].disagreement == 0.9
    assert queue.items[0].annotators == ("alice", "bob")


def test_accepted_and_sent_back_images_wait_no_more_until_redone() -> None:
    reviews = {
        "b/a.jpg": review("b/a.jpg", ReviewStatus.ACCEPTED),
        "b/b.jpg": review("b/b.jpg", ReviewStatus.REWORK),  # sent back, still open
        "b/d.jpg": review("b/d.jpg", ReviewStatus.REWORK),  # sent back and redone
    }
    queue = order_queue(FINISHED, 2, reviews, {"b/b.jpg"}, {})
    assert [i.key for i in queue.items] == ["b/d.jpg", "b/e.jpg", "b/f.jpg"]
    assert queue.items[0].redone and not queue.items[1].redone
    assert (queue.reviewed, queue.rework) == (1, 1)


def test_without_k_one_finished_person_is_enough() -> None:
    queue = order_queue(FINISHED, None, {}, set(), {})
    assert "b/c.jpg" in [i.key for i in queue.items]
    assert "b/c.jpg" not in [i.key for i in order_queue(FINISHED, 2, {}, set(), {}).items]
    assert [i.key for i in order_queue(FINISHED, 3, {}, set(), {}).items] == []


def test_next_after_skips_the_image_on_screen() -> None:
    queue = order_queue(FINISHED, 2, {}, set(), {})
    assert queue.next_after("b/a.jpg").key == "b/b.jpg"  # type: ignore[union-attr]
    assert queue.next_after(None).key == "b/a.jpg"  # type: ignore[union-attr]
