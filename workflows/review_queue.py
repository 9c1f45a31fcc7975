"""The review queue of a batch: images finished by their k annotators, not accepted yet
and not waiting for rework, most disputed first (the agreement report's ranking, 1 - mean
pairwise F1), then the rest by name."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from domain.review import Review, ReviewStatus
from storage.errors import StorageError
from storage.images import batch_prefix, in_batch
from storage.review_reads import counts_as_person, finished_people
from storage.runtime import Services, assignment_setup


@dataclass(frozen=True)
class QueueItem:
    """An image waiting for review: who finished it, its disagreement (None: not ranked),
    and whether it comes back after a rework."""

    key: str
    annotators: tuple[str, ...]
    disagreement: float | None
    redone: bool = False


@dataclass(frozen=True)
class Queue:
    """The waiting images in review order, and the batch's reviewed and rework counts."""

    items: tuple[QueueItem, ...]
    reviewed: int
    rework: int

    def next_after(self, key: str | None) -> QueueItem | None:
        """The first waiting image other than `key`."""
        return next((item for item in self.items if item.key != key), None)


def order_queue(
    finished: Mapping[str, Set[str]],
    k: int | None,
    reviews: Mapping[str, Review],
    open_rework: Set[str],
    scores: Mapping[str, float],
) -> Queue:
    """The queue from who finished what (k people each; at least one when k is None), the
    reviews, the images with an open rework request and the disagreement scores."""
    need = max(k or 1, 1)
    items = []
    for key, people in finished.items():
        review = reviews.get(key)
        if len(people) < need or key in open_rework:
            continue
        if review is not None and review.status == ReviewStatus.ACCEPTED:
            continue
        redone = review is not None and review.status == ReviewStatus.REWORK
        items.append(QueueItem(key, tuple(sorted(people)), scores.get(key), redone))
    items.sort(
        key=lambda i: (0, -i.disagreement, i.key) if i.disagreement is not None else (1, 0.0, i.key)
    )
    accepted = sum(1 for r in reviews.values() if r.status == ReviewStatus.ACCEPTED)
    return Queue(tuple(items), accepted, len(open_rework))


def load_queue(services: Services, batch: str) -> Queue:
    """The review queue of one batch, from the store; raises StorageError."""
    prefix = batch_prefix(batch)
    finished = {
        key: people
        for key, people in finished_people(services.store.engine, prefix).items()
        if in_batch(key, batch)
    }
    reviews_store = services.reviews
    reviews = {k: r for k, r in reviews_store.reviews_under(prefix).items() if in_batch(k, batch)}
    rework = {k for k in reviews_store.open_rework_keys(key_prefix=prefix) if in_batch(k, batch)}
    scores = reviews_store.disagreement_of()  # one read, whatever the batch's size
    k, _minutes = assignment_setup(services.settings, services.app_settings)
    return order_queue(finished, k, reviews, rework, scores)


def rework_notice(services: Services, key: object, annotator: object) -> str | None:
    """The reviewer's open rework comment for this annotator on this image, or None."""
    if not isinstance(key, str) or not key or not isinstance(annotator, str) or not annotator:
        return None
    try:
        found = services.reviews.open_rework(annotator, key)
    except StorageError:
        return None  # the move still shows the image; the banner reports database trouble
    if found is None:
        return None
    return f"Sent back for rework by {found.requested_by}: {found.comment}"


RANK_THRESHOLD = 0.5  # IoU at which two people's shapes are the same object


def rank_batch(services: Services, batch: str) -> int:
    """Compute and save each image's disagreement in the batch (people's first passes
    only: not gold, not a detector); how many images were ranked. Raises StorageError.
    The analysis stack is imported here, by the job, never when a web worker starts."""
    from analysis.report import disagreement_by_image
    from analysis.work import Work
    from workflows.agreement import load_work

    work = load_work(services, batch)
    people = Work(
        {
            key: {who: shapes for who, shapes in done.items() if counts_as_person(who)}
            for key, done in work.by_image.items()
        }
    )
    ranking = disagreement_by_image(people, RANK_THRESHOLD)
    # A batch's older scores go too (an image down to one finisher after a send-back is no
    # longer disputed); the top level has no prefix of its own, so its scores are replaced.
    prefix = batch_prefix(batch) or None
    if ranking or prefix:
        services.reviews.save_disagreement(dict(ranking), RANK_THRESHOLD, replace_under=prefix)
    return len(ranking)
