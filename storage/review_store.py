"""Reviews into gold: an image's review status, its comment thread, rework requests sent
back to annotators, and the per-image disagreement the review queue is ordered by.

Gold (annotator "gold") is saved like anyone's shapes, with the reviewer as actor; it
counts for an image once a reviewer accepts it (or it was imported): then gold's status is
finished. Review events go into the history (annotator "gold", the reviewer as actor) in the
transaction of the change, so the history CSV carries verdicts, rework requests and
comments with everything else."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import utc_now
from domain.errors import ReviewError
from domain.review import Comment, Review, ReviewStatus, Rework, clean_comment
from domain.sources import GOLD
from domain.status import ImageStatus
from storage.errors import SaveFailed, StorageError, database_reason
from storage.history import EventLog
from storage.schema import (
    ANNOTATIONS,
    ASSIGNMENTS,
    COMMENTS,
    IMAGE_DISAGREEMENT,
    REVIEWS,
    REWORK,
    as_utc,
)
from storage.status_writes import put_status

CHUNK = 500  # keys per IN (...) query


def _put_gold_status(conn: Any, image_key: str, status: str | None, log: EventLog) -> None:
    """Gold counts for an image (scores against gold, exports) while its status is
    finished: an accept sets it (done, or empty when gold has no shape), a send-back or a
    reopened review clears it."""
    put_status(conn, image_key, GOLD, status, log)


def _review_of(row: Any) -> Review:
    return Review(row.image_key, ReviewStatus(row.status), row.reviewer, as_utc(row.updated_at))


def _rework_of(row: Any) -> Rework:
    return Rework(
        row.image_key,
        row.annotator,
        row.requested_by,
        as_utc(row.requested_at),
        row.comment,
        as_utc(row.done_at),
    )


def _chunks(keys: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), CHUNK):
        yield list(keys[start : start + CHUNK])


class ReviewStore:
    """Review statuses, comments, rework requests and disagreement scores, in the same
    database as the annotations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- writing

    def accept(self, image_key: str, reviewer: str, comment: str = "") -> Review:
        """Mark the image's gold as accepted (closing open rework requests on it); an
        optional comment joins the thread."""
        text = clean_comment(comment)
        now = utc_now()
        log = EventLog(reviewer, at=now)
        try:
            with self.engine.begin() as conn:
                self._put_review(conn, image_key, ReviewStatus.ACCEPTED, reviewer, now)
                drawn = conn.execute(
                    select(ANNOTATIONS.c.id).where(
                        ANNOTATIONS.c.image_key == image_key, ANNOTATIONS.c.annotator == GOLD
                    )
                ).first()
                gold = ImageStatus.DONE if drawn else ImageStatus.EMPTY
                _put_gold_status(conn, image_key, gold.value, log)
                conn.execute(
                    update(REWORK)
                    .where(REWORK.c.image_key == image_key, REWORK.c.done_at.is_(None))
                    .values(done_at=now)
                )
                if text:
                    self._comment_in(conn, image_key, reviewer, text, now, log)
                log.decision(image_key, GOLD, "review", after={"review": "accepted"})
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the review: {database_reason(exc)}") from None
        return Review(image_key, ReviewStatus.ACCEPTED, reviewer, now)

    def send_back(
        self, image_key: str, annotators: Sequence[str], reviewer: str, comment: str
    ) -> Review:
        """Needs rework: the image goes back into each chosen annotator's queue (their
        status is cleared; an assignment stays theirs) with the comment, which is shown on
        the image and joins its thread. Raises ReviewError without a comment or anyone."""
        text = clean_comment(comment, required=True)
        chosen = sorted({a for a in annotators if isinstance(a, str) and a})
        if not chosen:
            raise ReviewError("choose whose work goes back for rework")
        now = utc_now()
        log = EventLog(reviewer, at=now)
        try:
            with self.engine.begin() as conn:
                self._put_review(conn, image_key, ReviewStatus.REWORK, reviewer, now)
                _put_gold_status(conn, image_key, None, log)  # not final until accepted again
                self._comment_in(conn, image_key, reviewer, text, now, log)
                for who in chosen:
                    self._reopen_for(conn, image_key, who, reviewer, text, now, log)
                log.decision(
                    image_key, GOLD, "review", after={"review": "rework", "annotators": chosen}
                )
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the review: {database_reason(exc)}") from None
        return Review(image_key, ReviewStatus.REWORK, reviewer, now)

    def add_comment(self, image_key: str, author: str, text: str) -> Comment:
        """Add a message to the image's thread; raises ReviewError when empty or too long."""
        cleaned = clean_comment(text, required=True)
        now = utc_now()
        log = EventLog(author, at=now)
        try:
            with self.engine.begin() as conn:
                number = self._comment_in(conn, image_key, author, cleaned, now, log)
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the comment: {database_reason(exc)}") from None
        return Comment(number, image_key, author, now, cleaned)

    def clear_review(self, image_key: str, reviewer: str) -> None:
        """Back to "not reviewed" (for instance to reopen an accepted image)."""
        log = EventLog(reviewer)
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(REVIEWS).where(REVIEWS.c.image_key == image_key))
                _put_gold_status(conn, image_key, None, log)
                log.decision(image_key, GOLD, "review", after={"review": None})
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the review: {database_reason(exc)}") from None

    def save_disagreement(
        self, scores: Mapping[str, float], threshold: float, replace_under: str | None = None
    ) -> None:
        """Remember each image's disagreement (replacing older values). With
        `replace_under` (a key prefix, '' for every image), the older scores of images under
        it that the new ranking leaves out are removed too (say, down to one finisher after a
        send-back)."""
        now = utc_now()
        keys = list(scores)
        try:
            with self.engine.begin() as conn:
                if replace_under is not None:
                    conn.execute(
                        delete(IMAGE_DISAGREEMENT).where(
                            IMAGE_DISAGREEMENT.c.image_key.startswith(
                                replace_under, autoescape=True
                            )
                        )
                    )
                for chunk in _chunks(keys):
                    conn.execute(
                        delete(IMAGE_DISAGREEMENT).where(IMAGE_DISAGREEMENT.c.image_key.in_(chunk))
                    )
                    conn.execute(
                        insert(IMAGE_DISAGREEMENT),
                        [
                            {
                                "image_key": k,
                                "score": float(scores[k]),
                                "threshold": float(threshold),
                                "computed_at": now,
                            }
                            for k in chunk
                        ],
                    )
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the ranking: {database_reason(exc)}") from None

    def _put_review(
        self, conn: Any, image_key: str, status: ReviewStatus, reviewer: str, now: datetime
    ) -> None:
        values = {"status": status.value, "reviewer": reviewer, "updated_at": now}
        done = conn.execute(update(REVIEWS).where(REVIEWS.c.image_key == image_key).values(values))
        if not done.rowcount:
            conn.execute(insert(REVIEWS).values(image_key=image_key, **values))

    def _comment_in(
        self, conn: Any, image_key: str, author: str, text: str, now: datetime, log: EventLog
    ) -> int:
        result = conn.execute(
            insert(COMMENTS).values(image_key=image_key, author=author, at=now, text=text)
        )
        log.decision(image_key, GOLD, "comment", after={"comment": text})
        return int(result.inserted_primary_key[0])

    def _reopen_for(
        self,
        conn: Any,
        image_key: str,
        annotator: str,
        reviewer: str,
        text: str,
        now: datetime,
        log: EventLog,
    ) -> None:
        mine = (REWORK.c.image_key == image_key) & (REWORK.c.annotator == annotator)
        values = {"requested_by": reviewer, "requested_at": now, "comment": text, "done_at": None}
        if not conn.execute(update(REWORK).where(mine).values(values)).rowcount:
            conn.execute(insert(REWORK).values(image_key=image_key, annotator=annotator, **values))
        log.decision(image_key, annotator, "rework", after={"comment": text})
        put_status(conn, image_key, annotator, None, log)  # back in their queue
        # With k per image, the slot stays theirs while they redo it (no expiry).
        conn.execute(
            update(ASSIGNMENTS)
            .where(ASSIGNMENTS.c.image_key == image_key, ASSIGNMENTS.c.annotator == annotator)
            .values(expires_at=None)
        )

    # ---- reading

    def reviews_of(self, keys: Sequence[str]) -> dict[str, Review]:
        """image key -> its review, for the keys that have one."""
        found: dict[str, Review] = {}
        try:
            with self.engine.connect() as conn:
                for chunk in _chunks(keys):
                    rows = conn.execute(select(REVIEWS).where(REVIEWS.c.image_key.in_(chunk)))
                    found.update({row.image_key: _review_of(row) for row in rows})
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read reviews: {database_reason(exc)}") from None
        return found

    def reviews_under(self, key_prefix: str = "") -> dict[str, Review]:
        """Every review of keys starting with a prefix ('' for all)."""
        query = select(REVIEWS)
        if key_prefix:
            query = query.where(REVIEWS.c.image_key.startswith(key_prefix, autoescape=True))
        try:
            with self.engine.connect() as conn:
                return {row.image_key: _review_of(row) for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read reviews: {database_reason(exc)}") from None

    def comments(self, image_key: str) -> list[Comment]:
        """The image's thread, oldest first."""
        query = select(COMMENTS).where(COMMENTS.c.image_key == image_key).order_by(COMMENTS.c.id)
        try:
            with self.engine.connect() as conn:
                return [
                    Comment(r.id, r.image_key, r.author, as_utc(r.at), r.text)
                    for r in conn.execute(query)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read comments: {database_reason(exc)}") from None

    def rework_of(self, image_key: str) -> list[Rework]:
        """Every rework request on an image (open and done), by annotator."""
        query = select(REWORK).where(REWORK.c.image_key == image_key).order_by(REWORK.c.annotator)
        try:
            with self.engine.connect() as conn:
                return [_rework_of(row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read rework requests: {database_reason(exc)}") from None

    def open_rework(self, annotator: str, image_key: str) -> Rework | None:
        """The annotator's open rework request on an image, if any (shown on the image)."""
        query = select(REWORK).where(
            REWORK.c.image_key == image_key,
            REWORK.c.annotator == annotator,
            REWORK.c.done_at.is_(None),
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read rework requests: {database_reason(exc)}") from None
        return _rework_of(row) if row is not None else None

    def open_rework_keys(self, annotator: str | None = None, key_prefix: str = "") -> set[str]:
        """Images with an open rework request (for one annotator, or anyone's)."""
        query = select(REWORK.c.image_key).where(REWORK.c.done_at.is_(None))
        if annotator is not None:
            query = query.where(REWORK.c.annotator == annotator)
        if key_prefix:
            query = query.where(REWORK.c.image_key.startswith(key_prefix, autoescape=True))
        try:
            with self.engine.connect() as conn:
                return {row.image_key for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read rework requests: {database_reason(exc)}") from None

    def disagreement_of(self, keys: Sequence[str] | None = None) -> dict[str, float]:
        """image key -> remembered disagreement (all images when keys is None)."""
        found: dict[str, float] = {}
        try:
            with self.engine.connect() as conn:
                if keys is None:
                    query = select(IMAGE_DISAGREEMENT.c.image_key, IMAGE_DISAGREEMENT.c.score)
                    return {k: s for k, s in conn.execute(query)}
                for chunk in _chunks(keys):
                    query = select(
                        IMAGE_DISAGREEMENT.c.image_key, IMAGE_DISAGREEMENT.c.score
                    ).where(IMAGE_DISAGREEMENT.c.image_key.in_(chunk))
                    found.update({k: s for k, s in conn.execute(query)})
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read disagreement: {database_reason(exc)}") from None
        return found
