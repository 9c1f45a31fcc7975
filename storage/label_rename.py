"""A label renamed in a project's label set: every stored shape with the old name follows,
everyone's (people, detectors, gold), in one transaction, each change in the history."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import utc_now
from domain.changes import ShapeChange
from storage.annotation_store import AnnotationStore, _readable, _rows
from storage.errors import SaveFailed, StorageError, database_reason
from storage.history import EventLog
from storage.schema import ANNOTATIONS


def stored_label_counts(engine: Engine) -> dict[str, int]:
    """label -> how many stored shapes carry it, in one project's space."""
    query = select(ANNOTATIONS.c.label, func.count()).group_by(ANNOTATIONS.c.label)
    try:
        with engine.connect() as conn:
            return {label: int(count) for label, count in conn.execute(query)}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot count the stored labels: {database_reason(exc)}") from None


def rename_stored_label(store: AnnotationStore, old: str, new: str, actor: str) -> int:
    """Give every stored shape labelled `old` the label `new` (a new version each, one
    history event each, all under one change); how many shapes changed."""
    now = utc_now()
    log = EventLog(actor)
    try:
        with store.engine.begin() as conn:
            shapes = _readable(conn.execute(_rows().where(ANNOTATIONS.c.label == old)))
            for shape in shapes:
                after = replace(shape, label=new, updated_at=now, version=shape.version + 1)
                conn.execute(
                    update(ANNOTATIONS)
                    .where(ANNOTATIONS.c.id == shape.id)
                    .values(label=new, updated_at=now, version=after.version, writer=None)
                )
                log.shape(ShapeChange(shape, after))
            log.write(conn)
    except SQLAlchemyError as exc:
        raise SaveFailed(f"the label was not renamed: {database_reason(exc)}") from None
    return len(shapes)
