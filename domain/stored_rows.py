"""Whether a stored shape can be read back: the readers (the annotate page, exports,
agreement) skip a row that fails here and say so, instead of failing whole.

Writes are checked where they come in (domain/record_checks); this is the reading side's
last line for rows written before those checks, by older releases or by hand. A label
outside the project's labels is NOT a reason to skip: a retired label stays exportable.
"""

from __future__ import annotations

import json
from math import isfinite
from typing import NamedTuple

from domain.annotation import BOX_KINDS, KINDS, Point

# Why a stored row was skipped: code -> what it means (for reports and messages).
SKIP_REASONS: dict[str, str] = {
    "unreadable_geometry": "the stored geometry is not JSON of numbers (coords, points)",
    "unknown_kind": "the shape kind is not rect, circle, line, polygon or path",
    "wrong_coordinate_count": "a rect, circle or line needs exactly 4 coordinates",
    "not_finite": "a coordinate is NaN or infinite",
    "too_few_points": "a polygon needs at least 3 points, a path at least 1",
}


class StoredGeometry(NamedTuple):
    """A stored row's geometry as numbers."""

    coords: tuple[float, ...]
    points: tuple[Point, ...]


class SkippedRow(NamedTuple):
    """A stored shape a reader left out, and why (a code of SKIP_REASONS)."""

    image_key: str
    annotator: str
    id: str
    reason: str


def _number(value: object) -> float:
    """A JSON number as it was stored (an int stays an int); TypeError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return value


def read_geometry(kind: object, raw: object) -> StoredGeometry | str:
    """The numbers of a stored shape, as stored (raw: its geometry as JSON text or already
    decoded), or the SKIP_REASONS code of why it cannot be used."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return "unreadable_geometry"
    if not isinstance(raw, dict):
        return "unreadable_geometry"
    try:
        coords = tuple(_number(v) for v in raw.get("coords") or ())
        points = tuple((_number(p[0]), _number(p[1])) for p in raw.get("points") or ())
        if any(len(p) != 2 for p in raw.get("points") or ()):
            return "unreadable_geometry"
    except (TypeError, KeyError, IndexError):
        return "unreadable_geometry"
    problem = geometry_problem(kind, coords, points)
    return problem if problem else StoredGeometry(coords, points)


def geometry_problem(
    kind: object, coords: tuple[float, ...], points: tuple[Point, ...]
) -> str | None:
    """The SKIP_REASONS code of a shape no reader can use, or None."""
    if kind in BOX_KINDS:  # the common case first, without a generator (it runs per shape)
        if len(coords) != 4:
            return "wrong_coordinate_count"
        x0, y0, x1, y1 = coords
        finite = isfinite(x0) and isfinite(y0) and isfinite(x1) and isfinite(y1)
        if not finite or points and points_problem(points):
            return "not_finite"
        return None
    if kind not in KINDS:
        return "unknown_kind"
    if not all(isfinite(v) for v in coords) or points_problem(points):
        return "not_finite"
    if kind == "polygon" and len(points) < 3 or kind == "path" and not points:
        return "too_few_points"
    return None


def points_problem(points: tuple[Point, ...]) -> bool:
    """True when a point's coordinate is NaN or infinite."""
    return not all(isfinite(x) and isfinite(y) for x, y in points)


def skipped_summary(skipped: list[SkippedRow] | tuple[SkippedRow, ...], shown: int = 3) -> str:
    """One sentence for a person: how many stored shapes were left out, why, and the first
    few (image, annotator, id); empty when none were."""
    if not skipped:
        return ""
    reasons: dict[str, int] = {}
    for row in skipped:
        reasons[row.reason] = reasons.get(row.reason, 0) + 1
    why = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in reasons.items())
    first = "; ".join(f"{r.image_key} by {r.annotator} (id {r.id})" for r in skipped[:shown])
    more = " ..." if len(skipped) > shown else ""
    return f"{len(skipped)} stored shape(s) left out as unusable ({why}): {first}{more}"
