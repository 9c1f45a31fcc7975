"""One rule for every shape that is stored, whoever sends it (an import, the drawing tools,
a crafted request): a known label, a finite geometry of the right size inside the image
(whose size the server knows), area or length left after rounding, and the limits of
domain/shape_rules. Imports (formats/resolve) and every save (storage/autosave) use it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from math import isfinite

from domain.annotation import BOX_KINDS, KINDS, Annotation, Point, same_content
from domain.shape_rules import MAX_SHAPES_PER_IMAGE, shape_problem, too_many_points, too_many_shapes

# A box may touch the edge: x1 == width is inside. Tolerate float noise from normalizing.
EDGE_TOLERANCE = 1e-6
# Stored coordinates are kept to 4 decimals of a pixel: far finer than anyone draws, and
# what every export writes back, so a round trip gives the same numbers. The no-area checks
# run on the rounded values, so nothing is stored that would be refused when read back.
DECIMALS = 4
# How many refusals one message names; the rest are counted.
SHOWN_PROBLEMS = 3
SHOWN_CHARS = 64  # of a label or kind named in a message (a crafted one may be huge)

Geometry = tuple[tuple[float, ...], tuple[Point, ...]]


def _clip(value: float, upper: int) -> float:
    return round(min(max(value, 0.0), float(upper)), DECIMALS)


def check_geometry(
    label: str,
    kind: str,
    coords: Sequence[float],
    points: Sequence[Point],
    width: int,
    height: int,
    labels: Collection[str],
    where: str,
    normalized: bool = False,
) -> Geometry | str:
    """(coords, points) in pixels, inside a width x height image, rounded; or why not.
    With `normalized`, coordinates are fractions of the image's width and height.

    Written for speed (it runs once per shape of an import): plain arithmetic, no helpers
    per coordinate."""
    if label not in labels:
        known = ", ".join(labels)
        return (
            f"{where}: label {label[:SHOWN_CHARS]!r} is not one of the project's labels ({known})"
        )
    if kind not in KINDS:
        return f"{where}: unknown shape kind {kind[:SHOWN_CHARS]!r}"
    coords, points = tuple(coords), tuple(points)
    if normalized:
        coords = tuple(v * (width if i % 2 == 0 else height) for i, v in enumerate(coords))
        points = tuple((x * width, y * height) for x, y in points)
    low_x, low_y = -EDGE_TOLERANCE * max(width, 1), -EDGE_TOLERANCE * max(height, 1)
    high_x, high_y = width - low_x, height - low_y
    if kind in BOX_KINDS:
        if len(coords) != 4:
            return f"{where}: a {kind} needs four coordinates x0, y0, x1, y1"
        if points:
            return f"{where}: a {kind} has four coordinates, not a list of points"
        x0, y0, x1, y1 = coords
        if not (isfinite(x0) and isfinite(y0) and isfinite(x1) and isfinite(y1)):
            return f"{where}: a coordinate is not a finite number"
        if not (
            low_x <= x0 <= high_x
            and low_x <= x1 <= high_x
            and low_y <= y0 <= high_y
            and low_y <= y1 <= high_y
        ):
            return _outside(where, kind, width, height, coords, points)
        if kind != "line":
            x0, x1 = (x0, x1) if x0 <= x1 else (x1, x0)
            y0, y1 = (y0, y1) if y0 <= y1 else (y1, y0)
        box = (_clip(x0, width), _clip(y0, height), _clip(x1, width), _clip(y1, height))
        if kind != "line" and (box[0] == box[2] or box[1] == box[3]):
            return f"{where}: the {kind} has no area{_rounded(coords)}: " + _describe(
                coords, points
            )
        if kind == "line" and box[:2] == box[2:]:
            return f"{where}: the line has no length{_rounded(coords)}: {_describe(coords, ())}"
        return box, ()
    minimum = 3 if kind == "polygon" else 2
    if len(points) < minimum:
        return f"{where}: a {kind} needs at least {minimum} points"
    if coords:
        return f"{where}: a {kind} has a list of points, not four coordinates"
    too_long = too_many_points(points)  # before any work per point
    if too_long:
        return f"{where}: {too_long}"
    if not all(isfinite(x) and isfinite(y) for x, y in points):
        return f"{where}: a coordinate is not a finite number"
    if not all(low_x <= x <= high_x and low_y <= y <= high_y for x, y in points):
        return _outside(where, kind, width, height, coords, points)
    clipped = tuple((_clip(x, width), _clip(y, height)) for x, y in points)
    if kind == "polygon" and _shoelace(clipped) == 0.0:
        return f"{where}: the polygon has no area{_rounded(points)}: {_describe((), points)}"
    if len(set(clipped)) < 2:
        return f"{where}: the path has no length{_rounded(points)}: {_describe((), points)}"
    problem = shape_problem(kind, clipped)
    if problem:
        return f"{where}: {problem}"
    return (), clipped


def _shoelace(points: Sequence[Point]) -> float:
    """Twice the signed area of a polygon (0.0 when its points are collinear)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, (*points[1:], points[0])))


def _rounded(raw: Sequence[object]) -> str:
    """' once rounded to 4 decimals' when the raw values are not already so rounded."""
    flat = [v for item in raw for v in (item if isinstance(item, tuple) else (item,))]
    exact = all(round(float(v), DECIMALS) == v for v in flat)
    return "" if exact else f" once rounded to {DECIMALS} decimals of a pixel"


def _outside(
    where: str,
    kind: str,
    width: int,
    height: int,
    coords: tuple[float, ...],
    points: tuple[Point, ...],
) -> str:
    return f"{where}: the {kind} reaches outside the image ({width}x{height}): " + _describe(
        coords, points
    )


def _describe(coords: tuple[float, ...], points: tuple[Point, ...]) -> str:
    if coords:
        return "x0={:g} y0={:g} x1={:g} y1={:g}".format(*coords)
    shown = ", ".join(f"({x:g}, {y:g})" for x, y in points[:4])
    return shown + (", ..." if len(points) > 4 else "")


@dataclass(frozen=True)
class Refusal:
    """A record that may not be stored, and why; `record` is None for an entry that was
    not a readable record at all."""

    record_id: str
    problem: str
    record: Annotation | None = None


@dataclass(frozen=True)
class CheckedRecords:
    """What may be saved of one image's records, and why the others may not."""

    records: tuple[Annotation, ...]
    refused: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = ()  # refusals of no single record (too many shapes)

    @property
    def problems(self) -> tuple[str, ...]:
        """Every reason given, record by record."""
        return tuple(r.problem for r in self.refused) + self.notes

    def message(self) -> str | None:
        """One line naming what was refused and why, or None when nothing was."""
        problems = self.problems
        if not problems:
            return None
        more = len(problems) - SHOWN_PROBLEMS
        head = "; ".join(problems[:SHOWN_PROBLEMS])
        tail = f"; and {more} more" if more > 0 else ""
        return f"Some shapes were not saved: {head}{tail}"


def check_record(
    record: Annotation, width: int, height: int, labels: Collection[str]
) -> Annotation | str:
    """The record with its geometry as stored (inside the image, rounded), or why not."""
    where = f"the {record.kind[:SHOWN_CHARS]} {record.label[:SHOWN_CHARS]!r}"
    score = record.score
    if score is not None and not (isfinite(score) and 0.0 <= score <= 1.0):
        return f"{where}: a score must be a number from 0 to 1"
    checked = check_geometry(
        record.label, record.kind, record.coords, record.points, width, height, labels, where
    )
    if isinstance(checked, str):
        return checked
    coords, points = checked
    if (coords, points) == (record.coords, record.points):
        return record
    return replace(record, coords=coords, points=points)


def check_records(
    image_key: str,
    annotator: str,
    records: Sequence[Annotation],
    width: int,
    height: int,
    labels: Collection[str],
    unreadable: Sequence[str] = (),
    stored: Mapping[str, Annotation] | None = None,
) -> CheckedRecords:
    """Split one image's records into those fit to store (as stored) and those refused,
    with a reason each: another image's or annotator's record, or a shape check failing.
    `unreadable` are the ids of entries that were not records at all (refused too). A
    record equal to its `stored` version is kept unchecked: it is stored already."""
    kept: list[Annotation] = []
    refused = [
        Refusal(record_id, "a shape sent was not a readable record") for record_id in unreadable
    ]
    stored = stored or {}
    for record in records:
        old = stored.get(record.id)
        if (
            old is not None
            and (record.image_key, record.annotator) == (old.image_key, old.annotator)
            and same_content(old, record)
        ):
            kept.append(record)
            continue
        if (record.image_key, record.annotator) != (image_key, annotator):
            checked: Annotation | str = (
                f"the {record.kind[:SHOWN_CHARS]} {record.label[:SHOWN_CHARS]!r} belongs to "
                "another image or annotator"
            )
        else:
            checked = check_record(record, width, height, labels)
        if isinstance(checked, str):
            refused.append(Refusal(record.id, checked, record))
        else:
            kept.append(checked)
    return CheckedRecords(tuple(kept), tuple(refused))


def keep_stored(checked: CheckedRecords, stored: Mapping[str, Annotation]) -> CheckedRecords:
    """What to save once the stored records are known: a refused record that is stored
    keeps its stored version (a bad edit changes nothing; a save never deletes a valid
    shape it refuses), and an image keeps at most MAX_SHAPES_PER_IMAGE shapes, stored
    ones first. A refused record equal to its stored version is not reported."""
    records = list(checked.records)
    reported: list[Refusal] = []
    for refusal in checked.refused:
        old = stored.get(refusal.record_id)
        if old is not None and all(r.id != old.id for r in records):
            records.append(old)
            if refusal.record is not None and same_content(old, refusal.record):
                continue
        reported.append(refusal)
    notes: list[str] = []
    problem = too_many_shapes(len(records))
    if problem:  # keep every stored shape, then the new ones in order while there is room
        kept = [r for r in records if r.id in stored]
        new = [r for r in records if r.id not in stored]
        room = max(MAX_SHAPES_PER_IMAGE - len(kept), 0)
        notes.append(f"{len(new) - room} new shape(s) over the limit: {problem}")
        records = kept + new[:room]
    return CheckedRecords(tuple(records), tuple(reported), tuple(notes))
