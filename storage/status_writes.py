"""Writing one (image, annotator) status inside a caller's transaction, with everything a
status change carries along: the per-batch counts, the history event, the assignment claim
and an open rework request. The annotation store and the review store both write through
it, so a status is never changed without the rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from domain.annotation import utc_now
from domain.status import FINISHED
from storage.assignments import settle_claim
from storage.history import EventLog
from storage.schema import REWORK, STATUSES
from storage.status_counts import count_changes


def close_rework_in(conn: Any, image_key: str, annotator: str, status: str | None) -> None:
    """In a status change's transaction: finishing an image closes the annotator's open
    rework request on it (their new pass is then reviewed again)."""
    if status not in FINISHED:
        return
    conn.execute(
        update(REWORK)
        .where(
            REWORK.c.image_key == image_key,
            REWORK.c.annotator == annotator,
            REWORK.c.done_at.is_(None),
        )
        .values(done_at=utc_now())
    )


def locked_status(conn: Any, key: Any) -> str | None:
    """The status now, read under a write lock held until the transaction ends, so a
    concurrent change waits and the counts move by what really changed. PostgreSQL locks
    the row; SQLite's driver begins its transaction at the first write only, so a write
    that changes nothing comes first and takes the database's one write lock."""
    if conn.dialect.name == "sqlite":
        conn.execute(update(STATUSES).where(key).values(status=STATUSES.c.status))
    return conn.execute(select(STATUSES.c.status).where(key).with_for_update()).scalar()


def put_status(
    conn: Any, image_key: str, annotator: str, status: str | None, log: EventLog
) -> None:
    """Set (or with None clear) a status whatever it is now, as undo puts one back."""
    key = (STATUSES.c.image_key == image_key) & (STATUSES.c.annotator == annotator)
    current = locked_status(conn, key)
    if current == status:
        return
    conn.execute(delete(STATUSES).where(key))
    if status is not None:
        conn.execute(
            insert(STATUSES).values(
                image_key=image_key, annotator=annotator, status=status, updated_at=utc_now()
            )
        )
    count_changes(conn, [(image_key, annotator, current, status)])
    log.status(image_key, annotator, current, status)
    settle_claim(conn, image_key, annotator, status)
    close_rework_in(conn, image_key, annotator, status)
