"""Limits every stored shape keeps, whoever sends it (the drawing tools, the table, an
import, a crafted request): a bounded number of points and polygons that do not cross
themselves. They keep the work of every later step (agreement, exports) bounded."""

from __future__ import annotations

from collections.abc import Sequence

from domain.annotation import Point

# A freeform path drawn by hand in plotly has some tens to a few hundred points; 2,000 is
# far more than anyone draws and keeps a polygon's geometry cheap for GEOS.
MAX_POINTS = 2000
# Shapes one annotator may keep on one image (a dense crowd scene has some hundreds).
MAX_SHAPES_PER_IMAGE = 2000


def too_many_points(points: Sequence[Point]) -> str | None:
    """Why a point list is too long, or None."""
    if len(points) > MAX_POINTS:
        return f"a shape may have at most {MAX_POINTS} points; this one has {len(points)}"
    return None


def crossing_problem(points: Sequence[Point]) -> str | None:
    """Why a polygon's outline is not usable (it crosses or touches itself), or None.

    A self-crossing outline (a bow tie, a scribble) encloses no well-defined region: its
    repair can split it into thousands of pieces, so it is refused where it comes in."""
    from shapely.geometry import LinearRing

    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        return None  # the no-area check explains this one
    ring = LinearRing(points)
    if ring.is_simple:
        return None
    return "the polygon's outline crosses itself: draw it again without crossing"


def shape_problem(kind: str, points: Sequence[Point]) -> str | None:
    """Why a shape's points break the limits above, or None (boxes have no points)."""
    if kind not in ("polygon", "path"):
        return None
    problem = too_many_points(points)
    if problem is None and kind == "polygon":
        problem = crossing_problem(points)
    return problem


def too_many_shapes(count: int) -> str | None:
    """Why an image cannot keep this many shapes of one annotator, or None."""
    if count > MAX_SHAPES_PER_IMAGE:
        return f"an image may hold at most {MAX_SHAPES_PER_IMAGE} shapes per annotator; got {count}"
    return None
