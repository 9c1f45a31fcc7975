"""Shapes by label for the label QA grid: counted and paged on the server (one query for the
count and one for the page, whatever the page holds), and shapes read back by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import Annotation
from storage.annotation_store import _readable, _rows  # the store's own row reader
from storage.errors import StorageError, database_reason
from storage.schema import ANNOTATIONS

ALL_BATCHES = None  # a batch filter that keeps every key


@dataclass(frozen=True)
class ShapeScope:
    """Which shapes: whose (None: everyone's) and in which batch (None: all; "": the top
    level; else the keys under "<batch>/")."""

    annotators: tuple[str, ...] | None = None
    batch: str | None = ALL_BATCHES


@dataclass(frozen=True)
class ShapePage:
    """One page of shapes with a label, and how many there are in all."""

    total: int
    offset: int
    shapes: list[Annotation]


def _where(scope: ShapeScope) -> list[Any]:
    conditions: list[Any] = []
    if scope.annotators is not None:
        conditions.append(ANNOTATIONS.c.annotator.in_(scope.annotators))
    if scope.batch == "":
        conditions.append(~ANNOTATIONS.c.image_key.contains("/"))
    elif scope.batch is not None:
        prefix = f"{scope.batch}/"
        conditions.append(ANNOTATIONS.c.image_key.startswith(prefix, autoescape=True))
    return conditions


def shapes_page(
    engine: Engine, label: str, scope: ShapeScope, offset: int, limit: int
) -> ShapePage:
    """The shapes with `label` in scope, ordered by image then creation, from `offset`
    (moved back to the last page when past the end)."""
    where = [ANNOTATIONS.c.label == label, *_where(scope)]
    try:
        with engine.connect() as conn:
            total = int(
                conn.execute(
                    select(func.count()).select_from(ANNOTATIONS).where(*where)
                ).scalar_one()
            )
            last = max(0, (total - 1) // limit * limit) if total else 0
            offset = min(max(offset, 0), last)
            query = (
                _rows()
                .where(*where)
                .order_by(ANNOTATIONS.c.image_key, ANNOTATIONS.c.created_at, ANNOTATIONS.c.id)
                .offset(offset)
                .limit(limit)
            )
            shapes = _readable(conn.execute(query))
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read shapes: {database_reason(exc)}") from None
    return ShapePage(total, offset, shapes)


def labels_in_store(engine: Engine, scope: ShapeScope) -> list[str]:
    """The labels shapes in scope carry (old labels no longer in LABELS too), sorted."""
    query = select(ANNOTATIONS.c.label).where(*_where(scope)).distinct()
    try:
        with engine.connect() as conn:
            return sorted(str(label) for label in conn.execute(query).scalars())
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read labels: {database_reason(exc)}") from None


def annotators_in_store(engine: Engine) -> list[str]:
    """Everyone who has shapes stored (people, second passes, models, gold), sorted."""
    query = select(ANNOTATIONS.c.annotator).distinct()
    try:
        with engine.connect() as conn:
            return sorted(str(name) for name in conn.execute(query).scalars())
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read annotators: {database_reason(exc)}") from None


def shapes_by_id(engine: Engine, shape_ids: Sequence[str]) -> dict[str, Annotation]:
    """The stored shapes with these ids (unknown ids are left out), in one query."""
    if not shape_ids:
        return {}
    query = _rows().where(ANNOTATIONS.c.id.in_(list(shape_ids)))
    try:
        with engine.connect() as conn:
            return {shape.id: shape for shape in _readable(conn.execute(query))}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read shapes: {database_reason(exc)}") from None
