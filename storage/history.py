"""The append-only history of shapes and statuses: events written inside the transaction
of the change they describe, read back per image, exported, and undone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from domain.annotation import utc_now
from domain.changes import REVIEW_ACTIONS, ShapeChange, shape_json
from storage.schema import EVENTS, as_utc


def new_change_id() -> str:
    """An id shared by the events of one save."""
    return str(uuid.uuid4())


@dataclass
class EventLog:
    """Collects the events of one change; `write` adds them in the caller's transaction."""

    actor: str
    change: str = field(default_factory=new_change_id)
    undoes: str | None = None
    at: datetime = field(default_factory=utc_now)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, image_key: str, annotator: str, action: str, **values: Any) -> None:
        self.rows.append(
            {
                "at": self.at,
                "actor": self.actor,
                "image_key": image_key,
                "annotator": annotator,
                "action": action,
                "annotation_id": values.get("annotation_id"),
                "before": values.get("before"),
                "after": values.get("after"),
                "change": self.change,
                "undoes": self.undoes,
            }
        )

    def shape(self, change: ShapeChange) -> None:
        """A shape created, edited or deleted."""
        record = change.after or change.before
        assert record is not None
        self._add(
            record.image_key,
            record.annotator,
            change.action,
            annotation_id=record.id,
            before=shape_json(change.before) if change.before else None,
            after=shape_json(change.after) if change.after else None,
        )

    def status(self, image_key: str, annotator: str, before: str | None, after: str | None) -> None:
        """An image's status set, changed or cleared."""
        self._add(
            image_key,
            annotator,
            "status",
            before={"status": before} if before else None,
            after={"status": after} if after else None,
        )

    def decision(self, image_key: str, annotator: str, action: str, **values: Any) -> None:
        """A labeler's accept or reject of a model's suggestion (values: annotation_id,
        before = the suggestion, after = {"id": the shape an accept made})."""
        self._add(image_key, annotator, action, **values)

    def write(self, conn: Any) -> None:
        """Append the collected events."""
        for start in range(0, len(self.rows), 1000):
            conn.execute(insert(EVENTS), self.rows[start : start + 1000])
        self.rows.clear()


@dataclass(frozen=True)
class Event:
    """One recorded change."""

    id: int
    at: datetime
    actor: str
    image_key: str
    annotator: str
    action: str
    annotation_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    change: str
    undoes: str | None


def event_of(row: Any) -> Event:
    """An Event from a row of the events table."""
    return Event(
        row.id,
        as_utc(row.at),
        row.actor,
        row.image_key,
        row.annotator,
        row.action,
        row.annotation_id,
        row.before,
        row.after,
        row.change,
        row.undoes,
    )


def events_query(image_key: str | None = None, annotator: str | None = None, key_prefix: str = ""):
    """Events oldest first, of one image and/or annotator, of keys starting with a prefix."""
    query = select(EVENTS).order_by(EVENTS.c.id)
    if image_key is not None:
        query = query.where(EVENTS.c.image_key == image_key)
    if annotator is not None:
        query = query.where(EVENTS.c.annotator == annotator)
    if key_prefix:
        query = query.where(EVENTS.c.image_key.startswith(key_prefix, autoescape=True))
    return query


def last_undoable(history: list[Event], actor: str) -> str | None:
    """The newest change by actor that is neither an undo nor undone already."""
    undone = {e.undoes for e in history if e.undoes}
    # a verdict, a comment or a rework request (and the statuses it set) is not undone
    reviewed = {e.change for e in history if e.action in REVIEW_ACTIONS}
    for event in reversed(history):
        if event.change in reviewed:
            continue
        if event.actor == actor and event.undoes is None and event.change not in undone:
            return event.change
    return None
