"""What the review queue reads: which people finished which images of a batch, one image's
shapes by person (not a detector, not gold, not a second pass), and its detectors' shapes
(shown in the review view beside the people's, never counted with them)."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import Annotation
from domain.repeats import is_repeat
from domain.sources import MODEL_PREFIX, is_person
from domain.status import FINISHED
from storage.annotation_store import AnnotationStore
from storage.errors import StorageError, database_reason
from storage.schema import ANNOTATIONS, REWORK, STATUSES


def counts_as_person(annotator: str) -> bool:
    """True for a person's first pass: the work a review adjudicates."""
    return is_person(annotator) and not is_repeat(annotator)


def finished_people(
    engine: Engine, key_prefix: str = "", image_key: str | None = None
) -> dict[str, set[str]]:
    """image key -> the people who finished it (done or no objects), for keys starting
    with a prefix ('' for all) or one image."""
    query = select(STATUSES.c.image_key, STATUSES.c.annotator).where(
        STATUSES.c.status.in_(FINISHED)
    )
    if image_key is not None:
        query = query.where(STATUSES.c.image_key == image_key)
    elif key_prefix:
        query = query.where(STATUSES.c.image_key.startswith(key_prefix, autoescape=True))
    found: dict[str, set[str]] = {}
    try:
        with engine.connect() as conn:
            for key, who in conn.execute(query):
                if counts_as_person(who):
                    found.setdefault(key, set()).add(who)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read statuses: {database_reason(exc)}") from None
    return found


def people_shapes(store: AnnotationStore, image_key: str) -> dict[str, tuple[Annotation, ...]]:
    """annotator -> their shapes on the image, for each person who finished it or was
    sent it back for rework (their work stays in view while they redo it)."""
    people = finished_people(store.engine, image_key=image_key).get(image_key, set())
    query = select(REWORK.c.annotator).where(
        REWORK.c.image_key == image_key, REWORK.c.done_at.is_(None)
    )
    try:
        with store.engine.connect() as conn:
            people |= {who for (who,) in conn.execute(query) if counts_as_person(who)}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read rework requests: {database_reason(exc)}") from None
    return {who: tuple(store.annotations_for(image_key, who)) for who in sorted(people)}


def model_shapes(store: AnnotationStore, image_key: str) -> dict[str, tuple[Annotation, ...]]:
    """model:<name> -> that detector's stored shapes on the image (oldest first), for each
    detector with shapes there, sorted by name."""
    column = ANNOTATIONS.c.annotator
    query = (
        select(column)
        .where(ANNOTATIONS.c.image_key == image_key)
        .where(column.startswith(MODEL_PREFIX, autoescape=True))
        .distinct()
    )
    try:
        with store.engine.connect() as conn:
            models = sorted(conn.execute(query).scalars())
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the detectors' shapes: {database_reason(exc)}") from None
    return {who: tuple(store.annotations_for(image_key, who)) for who in models}
