"""Who works on which image when each image needs k annotators (ANNOTATORS_PER_IMAGE).

An image has k slots: a row (image, slot) is one annotator's claim. A claim expires unless
the annotator finishes the image (done or no objects: the claim becomes permanent, set in
the status's own transaction by the annotation store) or skips it (the claim goes). The
primary key on (image, slot) makes the database itself refuse a (k+1)-th holder, however
many workers hand out images at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from domain.annotation import utc_now
from domain.repeats import REPEAT_SUFFIX
from domain.sources import is_person
from domain.status import FINISHED
from storage.errors import StorageError, database_reason
from storage.schema import ASSIGNMENTS, STATUSES, as_utc

CLAIM = timedelta(minutes=30)  # how long an unfinished claim lasts (CLAIM_MINUTES)


def holds_a_place(annotator: str) -> bool:
    """True for a person's own first pass: a detector's stored shapes (model:<name>),
    reviewed gold and a second pass (name#repeat) finish images too, but take no one's
    place among an image's k annotators."""
    return is_person(annotator) and not annotator.endswith(REPEAT_SUFFIX)


class AssignmentStore:
    """Hands out images to annotators, k per image, over the shared database."""

    def __init__(self, engine: Engine, per_image: int, claim_minutes: float = 30) -> None:
        self.engine = engine
        self.per_image = per_image
        self.ttl = timedelta(minutes=claim_minutes)

    def _holders(self, conn: Any, keys: Sequence[str], now: datetime) -> dict[str, dict[str, Any]]:
        """key -> {annotator: slot or None}: live claims, finished work, finished statuses."""
        found: dict[str, dict[str, Any]] = {k: {} for k in keys}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            rows = conn.execute(select(ASSIGNMENTS).where(ASSIGNMENTS.c.image_key.in_(chunk)))
            for row in rows:
                expires = as_utc(row.expires_at)
                if expires is None or expires > now:
                    found[row.image_key][row.annotator] = row.slot
            done = conn.execute(
                select(STATUSES.c.image_key, STATUSES.c.annotator).where(
                    STATUSES.c.image_key.in_(chunk), STATUSES.c.status.in_(FINISHED)
                )
            )
            for key, who in done:  # finished before assignment was switched on
                if holds_a_place(who):
                    found[key].setdefault(who, None)
        return found

    def _own_statuses(self, conn: Any, annotator: str, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            query = select(STATUSES.c.image_key, STATUSES.c.status).where(
                STATUSES.c.annotator == annotator, STATUSES.c.image_key.in_(chunk)
            )
            found.update({key: status for key, status in conn.execute(query)})
        return found

    def claim_first(self, annotator: str, keys: Sequence[str]) -> str | None:
        """Claim the first of keys (in order) that the annotator has not finished or skipped
        and that has fewer than k holders; an image they hold already counts as claimed."""
        try:
            with self.engine.begin() as conn:
                now = utc_now()
                own = self._own_statuses(conn, annotator, keys)
                holders = self._holders(conn, keys, now)
                for key in keys:
                    if key in own:
                        continue  # done, empty or skipped by them: not theirs to do again
                    mine = holders[key]
                    if annotator in mine:
                        self._renew(conn, key, annotator, now)
                        return key
                    if len(mine) >= self.per_image:
                        continue
                    if self._take_slot(conn, key, annotator, set(mine.values()), now):
                        return key
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot hand out images: {database_reason(exc)}") from None
        return None

    def _take_slot(
        self, conn: Any, key: str, annotator: str, taken: set[Any], now: datetime
    ) -> bool:
        for slot in range(self.per_image):
            if slot in taken:
                continue
            try:
                with conn.begin_nested():  # a savepoint: losing a race keeps the transaction
                    conn.execute(  # an expired claim frees its slot
                        delete(ASSIGNMENTS).where(
                            ASSIGNMENTS.c.image_key == key,
                            or_(ASSIGNMENTS.c.slot == slot, ASSIGNMENTS.c.annotator == annotator),
                            ASSIGNMENTS.c.expires_at.is_not(None),
                            ASSIGNMENTS.c.expires_at <= now,
                        )
                    )
                    conn.execute(
                        insert(ASSIGNMENTS).values(
                            image_key=key,
                            slot=slot,
                            annotator=annotator,
                            claimed_at=now,
                            expires_at=now + self.ttl,
                        )
                    )
                return True
            except IntegrityError:
                continue  # another worker took this slot a moment ago: try the next one
        return False

    def _renew(self, conn: Any, key: str, annotator: str, now: datetime) -> None:
        conn.execute(
            update(ASSIGNMENTS)
            .where(
                ASSIGNMENTS.c.image_key == key,
                ASSIGNMENTS.c.annotator == annotator,
                ASSIGNMENTS.c.expires_at.is_not(None),
            )
            .values(expires_at=now + self.ttl)
        )

    def holds(self, annotator: str, key: str) -> bool:
        """True when the annotator has a live claim on the image or finished it."""
        try:
            with self.engine.connect() as conn:
                holders = self._holders(conn, [key], utc_now())[key]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read assignments: {database_reason(exc)}") from None
        return annotator in holders

    def hold_or_claim(self, annotator: str, key: str) -> bool:
        """True when the image is the annotator's (finished or claimed by them), or was free
        to claim and now is."""
        return self.holds(annotator, key) or self.claim_first(annotator, [key]) == key

    def holders_of(self, keys: Sequence[str]) -> dict[str, set[str]]:
        """Who holds each image now (live claims and finished work)."""
        try:
            with self.engine.connect() as conn:
                found = self._holders(conn, keys, utc_now())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read assignments: {database_reason(exc)}") from None
        return {key: set(people) for key, people in found.items()}


def settle_claim(
    conn: Any, image_key: str, annotator: str, status: str | None, ttl: timedelta = CLAIM
) -> None:
    """In a status change's transaction: finishing makes a claim permanent, skipping gives
    it up, and un-finishing (every shape deleted) makes it expire again in `ttl`."""
    mine = (ASSIGNMENTS.c.image_key == image_key) & (ASSIGNMENTS.c.annotator == annotator)
    if status in FINISHED:
        conn.execute(update(ASSIGNMENTS).where(mine).values(expires_at=None))
    elif status is None:
        conn.execute(update(ASSIGNMENTS).where(mine).values(expires_at=utc_now() + ttl))
    else:
        conn.execute(delete(ASSIGNMENTS).where(mine))
