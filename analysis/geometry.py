"""Similarity of annotation shapes: areas and intersection-over-union (IoU).

IoU, the Jaccard index of two regions, is |A ∩ B| / |A ∪ B| (Jaccard 1912, "The distribution of
the flora in the alpine zone", New Phytologist 11(2):37-50); the PASCAL VOC detection criterion
thresholds it at 0.5 (Everingham et al. 2010, "The PASCAL Visual Object Classes (VOC)
Challenge", IJCV 88(2):303-338). Geometry is continuous, in original image pixels.

Areal shapes (rect, circle, polygon) are compared by the IoU of the regions they enclose. A rect
(x0, y0, x1, y1) covers |x1 - x0| * |y1 - y0|; rect pairs are computed with plain arithmetic.
Every other pair goes through shapely (GEOS); a self-intersecting polygon is repaired to its
areal part (shapely.make_valid).

Repair is bounded: its cost grows with the number of places an outline crosses itself (a
scribbled outline of 400 points crosses itself some 10,000 times and took GEOS a minute and
more memory by the thousand points). An outline of more than REPAIR_VERTICES vertices that
crosses itself more than MAX_CROSSINGS times is compared as its convex hull instead, the
region scribbled over, at the cost of one STRtree query of its edges; an open path like that
is buffered around its convex hull (buffering costs like repair); such shapes are
counted by the agreement report (tangled()). A shape no region can be made of (unknown kind,
wrong coordinate count, NaN or infinite coordinates, too few points, more than
MAX_ANALYSED_POINTS points) is left out of the analysis and reported (unusable()).

A circle is the ellipse inscribed in its box, half-axes a = |x1 - x0| / 2 and b = |y1 - y0| / 2.
It is represented by an N-gon (N = ELLIPSE_VERTICES = 1024) with vertices at the uniform
parameter angles t_k = 2 pi k / N, (cx + s a cos t_k, cy + s b sin t_k), whose radius is scaled
by s = sqrt(2 pi / (N sin(2 pi / N))) so that its area, (N / 2) s^2 a b sin(2 pi / N), equals
pi a b exactly. The ellipse is an affine image of the circle, and on a circle every edge of
this polygon cuts off as much as it adds (the slivers outside and inside the arc have equal
area), so an intersection is only in error on the few edges the other boundary crosses, by a
fraction of one sliver: O((2 pi / N)^3) of the area. Measured against closed forms (the lens of
two circles, concentric circles, a circle in its box, and affine stretches of these, which keep
IoU), the IoU is within 6e-9 of the exact value, so a pair whose exact IoU is the threshold
matches (analysis.matching.IOU_TOLERANCE is 1e-6). The plain inscribed polygon would lose
(2 pi / N)^2 / 6 of the area, 1.6e-3 at N = 64.

Open shapes (line, path) enclose no area, so each is compared as the region within a distance
r of it: the shape buffered with round caps and joins (GEOS, OPEN_QUAD_SEGS segments per
quarter circle; a path of one point is a disc), with

    r = max(OPEN_TOLERANCE_MIN_PX, OPEN_TOLERANCE * d),  OPEN_TOLERANCE = 0.05,
                                                          OPEN_TOLERANCE_MIN_PX = 1 px,

d the diagonal of the shape's own bounding box. The similarity of two open shapes (a line and a
path too: a line is a path of two points) is the IoU of their buffered regions. Proportional to
the shape's own extent, r needs no image size and the similarity is scale-invariant: scaling
the whole drawing leaves it unchanged (down to the 1 px floor, which stands for the width of a
drawn stroke, for shapes under 20 px). For a straight line of length L (r = L / 20) the IoU is
0.5 at a perpendicular shift of 0.655 r = 3.3 % of L, a shift along the line of L / 3 + pi r / 6
= 36 % of L, or a rotation about its middle by 7.0 degrees: a line behaves like a thin box one
tenth as wide as long, which is how box IoU would judge a band drawn along it. Buffering lines
and thresholding the IoU at 0.5 is the lane-matching rule of the CULane benchmark (Pan et al.
2018, "Spatial As Deep: Spatial CNN for Traffic Scene Understanding", AAAI, lanes drawn 30 px
wide), there with a width fixed per data set; lanes are some hundreds of pixels long, so that
width is a few per cent of their length, as here. The points are put in a canonical order first
(the lexicographically smaller of the sequence and its reverse), so a line drawn the other way
round gives the same number, bit for bit.

An open shape against an areal shape has similarity 0: different kinds of object never match.
Two shapes with the very same region (equal vertex for vertex) have IoU exactly 1: GEOS's
overlay of a region with itself can come out a few ulps short. area() is the enclosed area,
0 for lines and paths, pi a b for a circle.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from domain.annotation import Annotation
from domain.stored_rows import geometry_problem

# Vertices of the area-preserving polygon that stands in for an ellipse (see the module doc).
ELLIPSE_VERTICES = 1024


def _unit_ellipse(n: int) -> np.ndarray:
    """(n, 2) vertices of the n-gon of area pi at uniform angles: times the half-axes, plus
    the centre, they are any ellipse's."""
    angles = 2 * np.pi * np.arange(n) / n
    scale = math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n)))
    return scale * np.column_stack([np.cos(angles), np.sin(angles)])


_UNIT_ELLIPSE = _unit_ellipse(ELLIPSE_VERTICES)

# The buffer around an open shape (line, path): a fraction of its bounding box's diagonal, at
# least a pixel; round caps and joins of OPEN_QUAD_SEGS segments per quarter circle.
OPEN_TOLERANCE = 0.05
OPEN_TOLERANCE_MIN_PX = 1.0
OPEN_QUAD_SEGS = 16
OPEN_KINDS = ("line", "path")

Areal: TypeAlias = Polygon | MultiPolygon

# Bounds on the work one polygon may cost (module doc). An outline of up to REPAIR_VERTICES
# vertices is always repaired (at worst a few milliseconds); a longer one is repaired when it
# crosses itself at most MAX_CROSSINGS times, else compared as its convex hull.
REPAIR_VERTICES = 32
MAX_CROSSINGS = 64
MAX_ANALYSED_POINTS = 100_000  # more is not a drawing: left out (unusable)
TANGLED = "tangled_outline"  # the code of a shape compared as its convex hull
TOO_MANY_POINTS = "too_many_points"


def unusable(annotation: Annotation) -> str | None:
    """Why no region can be made of the shape (a code of domain.stored_rows.SKIP_REASONS, or
    TOO_MANY_POINTS), or None."""
    problem = geometry_problem(annotation.kind, annotation.coords, annotation.points)
    if problem is None and len(annotation.points) > MAX_ANALYSED_POINTS:
        return TOO_MANY_POINTS
    return problem


def tangled(points: tuple[tuple[float, float], ...], closed: bool = True) -> bool:
    """True when a polygon's outline (closed) or a path (not closed) is too long and crosses
    itself too often to repair or buffer; it is then compared as its convex hull."""
    if len(points) <= REPAIR_VERTICES:
        return False
    vertices = np.asarray(points, dtype=float)
    # remembered by a digest of the vertices: a shape is asked about once per comparison
    key = (hashlib.blake2b(vertices.tobytes(), digest_size=16).digest(), closed)
    found = _TANGLED.get(key)
    if found is None:
        found = _crossings_exceed(vertices, MAX_CROSSINGS, closed)
        if len(_TANGLED) >= _TANGLED_KEPT:
            _TANGLED.clear()
        _TANGLED[key] = found
    return found


_TANGLED: dict[tuple[bytes, bool], bool] = {}
_TANGLED_KEPT = 100_000


def approximated(annotation: Annotation) -> bool:
    """True when the shape is compared as its convex hull (a tangled polygon or path)."""
    if annotation.kind not in ("polygon", "path") or unusable(annotation):
        return False
    return tangled(annotation.points, closed=annotation.kind == "polygon")


def _crossings_exceed(vertices: np.ndarray, budget: int, closed: bool) -> bool:
    """True when the line's edges (closed: with the one back to the start) cross each other
    more than `budget` times. Edges that only touch (neighbours, a repeated vertex) do not
    cross: a clean outline drawn with repeated points is not tangled.

    Edges are queried against an STRtree of all edges a few at a time, doubling the batch,
    so a scribble stops after a handful of edges and a clean outline costs O(n log n)."""
    ring = np.vstack([vertices, vertices[:1]]) if closed else vertices
    edges = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
    count = len(edges)
    tree = shapely.STRtree(edges)
    found, start, batch = 0, 0, 8
    while start < count:
        mine = np.arange(start, min(count, start + batch))
        rows, others = tree.query(edges[mine], predicate="crosses")
        found += int(np.count_nonzero(others > mine[rows]))  # each pair once
        if found > budget:
            return True
        start, batch = start + batch, batch * 2
    return False


def shape_polygon(
    kind: str, coords: tuple[float, ...], points: tuple[tuple[float, float], ...]
) -> Areal | None:
    """The region a shape encloses, or None when it encloses no area (line, path, degenerate).

    A self-intersecting polygon is repaired with shapely.make_valid, keeping its areal part,
    which can be a MultiPolygon (a bow-tie becomes two triangles); a tangled() one is
    replaced by its convex hull. None too for a polygon with coordinates that are not
    finite or more than MAX_ANALYSED_POINTS points.
    """
    if kind == "rect":
        x0, y0, x1, y1 = _box(kind, coords)
        geom: BaseGeometry = shapely.box(x0, y0, x1, y1)
    elif kind == "circle":
        geom = _ellipse(*_box(kind, coords))
    elif kind == "polygon":
        if len(points) < 3 or len(points) > MAX_ANALYSED_POINTS:
            return None
        if not all(math.isfinite(v) for point in points for v in point):
            return None
        if tangled(points):  # repair would cost minutes and gigabytes (module doc)
            geom = shapely.convex_hull(shapely.multipoints(points))
        else:
            geom = shapely.make_valid(Polygon(points))
    elif kind in ("line", "path"):
        return None
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    areal = _areal_part(geom)
    if areal is None or areal.is_empty or areal.area <= 0.0:
        return None
    return areal


def open_region(
    kind: str, coords: tuple[float, ...], points: tuple[tuple[float, float], ...]
) -> Polygon | None:
    """The region an open shape (line, path) is compared as: within open_tolerance of it.

    None for a path without points or with coordinates that are not finite (or more than
    MAX_ANALYSED_POINTS points); a tangled() path is buffered around its convex hull.
    """
    if kind == "line":
        x0, y0, x1, y1 = _coords4(kind, coords)
        vertices: tuple[tuple[float, float], ...] = ((x0, y0), (x1, y1))
    elif kind == "path":
        vertices = tuple((float(x), float(y)) for x, y in points)
    else:
        raise ValueError(f"a {kind!r} is not an open shape")
    if not vertices or not all(math.isfinite(v) for point in vertices for v in point):
        return None
    # canonical order, so that a shape drawn the other way round gives the same region
    reverse = vertices[::-1]
    vertices = min(vertices, reverse)
    if len(vertices) > MAX_ANALYSED_POINTS:
        return None
    radius = open_tolerance(vertices)
    skeleton = Point(vertices[0]) if len(vertices) == 1 else LineString(vertices)
    if kind == "path" and tangled(vertices, closed=False):
        skeleton = shapely.convex_hull(skeleton)  # buffering a scribble costs like repair
    region = shapely.buffer(skeleton, radius, quad_segs=OPEN_QUAD_SEGS)
    return region if isinstance(region, Polygon) and not region.is_empty else None


def open_tolerance(points: Sequence[tuple[float, float]]) -> float:
    """The buffer radius of an open shape in pixels: OPEN_TOLERANCE times the diagonal of the
    points' bounding box, at least OPEN_TOLERANCE_MIN_PX."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    diagonal = math.hypot(max(xs) - min(xs), max(ys) - min(ys))
    return max(OPEN_TOLERANCE_MIN_PX, OPEN_TOLERANCE * diagonal)


def shape_region(
    kind: str, coords: tuple[float, ...], points: tuple[tuple[float, float], ...]
) -> Areal | None:
    """The region a shape is compared as: shape_polygon of an areal shape, open_region of a
    line or path; None when there is none (a degenerate areal shape)."""
    if kind in OPEN_KINDS:
        return open_region(kind, coords, points)
    return shape_polygon(kind, coords, points)


def area(annotation: Annotation) -> float:
    """The pixel area the annotation encloses (0.0 for lines and paths; pi a b for a circle)."""
    if annotation.kind in ("rect", "circle"):
        x0, y0, x1, y1 = _box(annotation.kind, annotation.coords)
        if annotation.kind == "circle":
            return math.pi * (x1 - x0) / 2 * (y1 - y0) / 2
        return (x1 - x0) * (y1 - y0)
    geom = _polygon_of(annotation)
    return 0.0 if geom is None else float(geom.area)


def iou(a: Annotation, b: Annotation) -> float:
    """Similarity of two annotations (module doc): the IoU of their regions, buffered for lines
    and paths; 0.0 between an open and an areal shape, or without overlap."""
    if a.kind == "rect" and b.kind == "rect":
        ax0, ay0, ax1, ay1 = _box(a.kind, a.coords)
        bx0, by0, bx1, by1 = _box(b.kind, b.coords)
        inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
        union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
        return _ratio(inter, union)
    ga, gb = _region_of(a), _region_of(b)
    if ga is None or gb is None or _is_open(a) != _is_open(b):
        return 0.0
    if shapely.equals_exact(ga, gb, 0.0):
        return 1.0  # GEOS's overlay of a polygon with itself can lose a few ulps
    inter = float(shapely.intersection(ga, gb).area)
    return _ratio(inter, float(ga.area) + float(gb.area) - inter)


def iou_matrix(a: Sequence[Annotation], b: Sequence[Annotation]) -> np.ndarray:
    """iou() of every pair, shape (len(a), len(b)), equal to it bit for bit; rect pairs are
    vectorised with numpy, the others with shapely."""
    out = np.zeros((len(a), len(b)), dtype=float)
    if not a or not b:
        return out
    boxes_a, boxes_b = rect_boxes(a), rect_boxes(b)
    if boxes_a is not None and boxes_b is not None:
        return box_iou(boxes_a, boxes_b)
    rect_a = np.array([x.kind == "rect" for x in a])
    rect_b = np.array([x.kind == "rect" for x in b])
    if rect_a.any() and rect_b.any():
        ia, ib = np.flatnonzero(rect_a), np.flatnonzero(rect_b)
        rects_a = [x for x in a if x.kind == "rect"]
        rects_b = [x for x in b if x.kind == "rect"]
        out[np.ix_(ia, ib)] = box_iou(_boxes(rects_a), _boxes(rects_b))
    _fill_geometric(out, a, b, ~(rect_a[:, None] & rect_b[None, :]))
    return out


def rect_boxes(annotations: Sequence[Annotation]) -> np.ndarray | None:
    """(n, 4) boxes (xmin, ymin, xmax, ymax) when every annotation is a rect, else None."""
    for x in annotations:
        if x.kind != "rect":
            return None
    return _boxes(annotations)


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of normalised boxes (n, 4) x (m, 4), with the arithmetic of iou() for two rects."""
    return paired_box_iou(boxes_a[:, None, :], boxes_b[None, :, :])


def paired_box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of normalised boxes row by row, (..., 4) and (..., 4) broadcast together."""
    ax0, ay0, ax1, ay1 = (boxes_a[..., k] for k in range(4))
    bx0, by0, bx1, by1 = (boxes_b[..., k] for k in range(4))
    width = np.maximum(0.0, np.minimum(ax1, bx1) - np.maximum(ax0, bx0))
    height = np.maximum(0.0, np.minimum(ay1, by1) - np.maximum(ay0, by0))
    inter = width * height
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return _ratios(inter, union)


def normalised_boxes(raw: np.ndarray) -> np.ndarray:
    """(n, 4) corner pairs as (xmin, ymin, xmax, ymax), whatever corner order was stored."""
    x0, y0, x1, y1 = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
    return np.stack(
        [np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)], axis=1
    )


def _fill_geometric(
    out: np.ndarray, a: Sequence[Annotation], b: Sequence[Annotation], todo: np.ndarray
) -> None:
    """Fill out[i, j] for the pairs marked in todo, with shapely's vectorised GEOS calls."""
    ga = np.array([_region_of(x) for x in a], dtype=object)
    gb = np.array([_region_of(x) for x in b], dtype=object)
    # an open shape and an areal one are different kinds of object: similarity 0
    open_a = np.array([_is_open(x) for x in a], dtype=bool)
    open_b = np.array([_is_open(x) for x in b], dtype=bool)
    todo = todo & (open_a[:, None] == open_b[None, :])
    # A missing geometry yields NaN area and NaN bounds, so every comparison below is False.
    area_a, area_b = shapely.area(ga), shapely.area(gb)
    bounds_a, bounds_b = shapely.bounds(ga), shapely.bounds(gb)
    # Bounding-box rejection first: most pairs on a busy image do not overlap at all.
    overlap = (
        (bounds_a[:, None, 0] < bounds_b[None, :, 2])
        & (bounds_b[None, :, 0] < bounds_a[:, None, 2])
        & (bounds_a[:, None, 1] < bounds_b[None, :, 3])
        & (bounds_b[None, :, 1] < bounds_a[:, None, 3])
    )
    ii, jj = np.nonzero(todo & overlap)
    if ii.size == 0:
        return
    inter = shapely.area(shapely.intersection(ga[ii], gb[jj]))
    union = area_a[ii] + area_b[jj] - inter
    # as iou(): the same region twice is 1, not what GEOS's overlay gives to a few ulps
    out[ii, jj] = np.where(shapely.equals_exact(ga[ii], gb[jj], 0.0), 1.0, _ratios(inter, union))


def _ratio(inter: float, union: float) -> float:
    # Clamped because float rounding in GEOS can push a self-IoU a hair past 1.
    return min(1.0, inter / union) if union > 0.0 and inter > 0.0 else 0.0


def _ratios(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    ok = (union > 0.0) & (inter > 0.0)
    ratio = np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=ok)
    return np.minimum(1.0, ratio)


def _boxes(annotations: Sequence[Annotation]) -> np.ndarray:
    """(n, 4) normalised boxes of box-kind annotations."""
    try:
        raw = np.array([x.coords for x in annotations], dtype=float)
    except ValueError:  # ragged coords
        raw = np.empty(0)
    if raw.shape != (len(annotations), 4) or np.isnan(raw).any():
        # coords that are not 4 numbers (numpy reads None as nan): the scalar path raises the
        # error that names the kind
        raw = np.array([_coords4(x.kind, x.coords) for x in annotations], dtype=float)
    return normalised_boxes(raw.reshape(-1, 4))


def _box(kind: str, coords: tuple[float, ...]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = _coords4(kind, coords)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _coords4(kind: str, coords: tuple[float, ...]) -> tuple[float, float, float, float]:
    if len(coords) != 4:
        raise ValueError(f"a {kind} needs coords (x0, y0, x1, y1), got {len(coords)} values")
    return float(coords[0]), float(coords[1]), float(coords[2]), float(coords[3])


def _ellipse(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """The area-preserving N-gon of the ellipse inscribed in the box (module doc)."""
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half_axes = np.array([(x1 - x0) / 2, (y1 - y0) / 2])
    return Polygon(centre + half_axes * _UNIT_ELLIPSE)


def _areal_part(geom: BaseGeometry) -> Areal | None:
    """The polygonal part of a geometry (make_valid can return a mixed collection)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts: list[Polygon] = []
    for part in getattr(geom, "geoms", ()):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _polygon_of(annotation: Annotation) -> Areal | None:
    return shape_polygon(annotation.kind, annotation.coords, annotation.points)


def _region_of(annotation: Annotation) -> Areal | None:
    return shape_region(annotation.kind, annotation.coords, annotation.points)


def _is_open(annotation: Annotation) -> bool:
    return annotation.kind in OPEN_KINDS
