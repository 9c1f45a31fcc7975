"""Pure edits of one image's records: drawn shapes, moved shapes, grid cells, deletions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.annotation import BOX_KINDS, Annotation, Point
from domain.errors import DomainError, ShapeError
from domain.geometry import (
    MIN_POINTS,
    clamp_geometry,
    geometry_of_shape,
    is_degenerate,
    normalise_box,
    parse_coordinate,
    parse_path,
    parse_points_text,
    require_polygon_points,
)
from domain.labels import Label, require_label
from domain.relayout import ShapeChange
from domain.shape_rules import shape_problem, too_many_shapes

Records = tuple[Annotation, ...]
COORD_COLUMNS = ("x0", "y0", "x1", "y1")


@dataclass(frozen=True)
class Canvas:
    """The image being annotated and who is annotating it."""

    image_key: str
    width: int
    height: int
    annotator: str


@dataclass(frozen=True)
class EditResult:
    """New records plus messages for anything that could not be applied."""

    records: Records
    problems: tuple[str, ...] = ()
    changed: bool = False


def apply_shape_change(
    records: Records,
    change: ShapeChange,
    canvas: Canvas,
    labels: tuple[Label, ...],
    selected_label: str,
    now: datetime,
    new_id: Callable[[], str],
) -> EditResult:
    """Apply a parsed relayout event: add drawn shapes, move edited ones, drop erased ones."""
    problems = list(change.problems)
    by_id = {r.id: r for r in records}
    out: list[Annotation] = []
    for record in records:
        if record.id in change.removed:
            continue
        edit = change.edited.get(record.id)
        if edit is not None:
            try:
                record = _apply_geometry_edit(record, edit, canvas, now)
            except DomainError as exc:
                problems.append(f"could not move a {record.label} {record.kind}: {exc}")
        out.append(record)
    for shape in change.added:
        crowded = too_many_shapes(len(out) + 1)
        if crowded:
            problems.append(f"ignored a drawn shape: {crowded}")
            continue
        try:
            out.append(_new_record(shape, canvas, labels, selected_label, now, new_id()))
        except DomainError as exc:
            problems.append(f"ignored a drawn shape: {exc}")
    result = tuple(out)
    changed = len(result) != len(records) or any(
        by_id.get(r.id) is None or by_id[r.id] != r for r in result
    )
    return EditResult(result, tuple(problems), changed)


def _new_record(
    shape: dict[str, Any],
    canvas: Canvas,
    labels: tuple[Label, ...],
    selected_label: str,
    now: datetime,
    record_id: str,
) -> Annotation:
    kind, coords, points = geometry_of_shape(shape)
    coords, points = clamp_geometry(kind, coords, points, canvas.width, canvas.height)
    if is_degenerate(kind, coords, points):
        raise ShapeError("it has no size inside the image")
    _require_within_limits(kind, points)
    label_part = shape.get("label")
    shape_label = label_part.get("text") if isinstance(label_part, dict) else None
    names = {label.name for label in labels}
    label = shape_label if shape_label in names else require_label(selected_label, labels)
    return Annotation(
        id=record_id,
        image_key=canvas.image_key,
        annotator=canvas.annotator,
        label=label,
        kind=kind,
        coords=coords,
        points=points,
        created_at=now,
        updated_at=now,
    )


def _apply_geometry_edit(
    record: Annotation, edit: dict[str, Any], canvas: Canvas, now: datetime
) -> Annotation:
    if record.kind in BOX_KINDS:
        if "type" in edit:
            kind, coords, _ = geometry_of_shape(edit)
            if kind != record.kind:
                raise ShapeError(f"the shape changed kind from {record.kind} to {kind}")
        else:
            values = dict(zip(COORD_COLUMNS, record.coords))
            values.update({k: edit[k] for k in COORD_COLUMNS if k in edit})
            kind, coords, _ = geometry_of_shape({"type": record.kind, **values})
        coords, points = clamp_geometry(record.kind, coords, (), canvas.width, canvas.height)
    else:
        if "path" not in edit:
            return record
        pts, _closed = parse_path(edit["path"])
        if record.kind == "polygon":
            require_polygon_points(pts)
        coords, points = clamp_geometry(record.kind, (), pts, canvas.width, canvas.height)
    if is_degenerate(record.kind, coords, points):
        raise ShapeError("it would have no size left inside the image")
    _require_within_limits(record.kind, points)
    if (coords, points) == (record.coords, record.points):
        return record
    return record.with_geometry(coords, points, now)


def apply_cell_edit(
    records: Records,
    row_id: str,
    column: str,
    value: Any,
    canvas: Canvas,
    labels: tuple[Label, ...],
    now: datetime,
) -> Records:
    """Apply one grid cell edit; raise a DomainError with a message if the value is not valid."""
    index = next((i for i, r in enumerate(records) if r.id == row_id), None)
    if index is None:
        raise ShapeError("that row no longer exists (it may have been deleted)")
    record = records[index]
    if column == "label":
        updated = record.with_label(require_label(value, labels), now)
    elif column in COORD_COLUMNS:
        if record.kind not in BOX_KINDS:
            raise ShapeError(f"edit a {record.kind}'s points in the points column")
        axis = column[0]
        coords = list(record.coords)
        coords[COORD_COLUMNS.index(column)] = parse_coordinate(
            value, axis, canvas.width, canvas.height
        )
        new_coords = normalise_box(record.kind, tuple(coords))
        if is_degenerate(record.kind, new_coords, ()):
            raise ShapeError("that would leave the shape with no size")
        updated = record.with_geometry(new_coords, (), now)
    elif column == "points":
        if record.kind in BOX_KINDS:
            raise ShapeError(f"edit a {record.kind}'s corners in the x0..y1 columns")
        points = parse_points_text(value, canvas.width, canvas.height, MIN_POINTS[record.kind])
        if is_degenerate(record.kind, (), points):
            raise ShapeError("those points would leave the shape with no size")
        _require_within_limits(record.kind, points)
        updated = record.with_geometry((), points, now)
    else:
        raise ShapeError(f"the {column!r} column cannot be edited")
    return records[:index] + (updated,) + records[index + 1 :]


def _require_within_limits(kind: str, points: tuple[Point, ...]) -> None:
    """Refuse a shape over the limits of domain/shape_rules (points, self-crossing)."""
    problem = shape_problem(kind, points)
    if problem:
        raise ShapeError(problem)


def delete_records(records: Records, ids: set[str]) -> Records:
    """Records without the given ids."""
    return tuple(r for r in records if r.id not in ids)
