"""Areas and intersection-over-union (IoU) of annotation shapes.

IoU, the Jaccard index of two regions, is |A ∩ B| / |A ∪ B| (Jaccard 1912, "The distribution of
the flora in the alpine zone", New Phytologist 11(2):37-50); the PASCAL VOC detection criterion
thresholds it at 0.5 (Everingham et al. 2010, "The PASCAL Visual Object Classes (VOC)
Challenge", IJCV 88(2):303-338). Areas are continuous geometry in original image pixels: a rect
(x0, y0, x1, y1) covers |x1 - x0| * |y1 - y0|, a circle is the ellipse inscribed in its box.
Rect pairs are computed with plain arithmetic; every other areal shape goes through shapely
(GEOS). Lines and open paths enclose no area, so their IoU with anything is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from domain.annotation import Annotation

# Vertices of the polygon that stands in for an ellipse; the inscribed 64-gon keeps
# 64/(2*pi) * sin(2*pi/64) = 99.84 % of the ellipse's area.
ELLIPSE_VERTICES = 64

Areal: TypeAlias = Polygon | MultiPolygon


def shape_polygon(
    kind: str, coords: tuple[float, ...], points: tuple[tuple[float, float], ...]
) -> Areal | None:
    """The region a shape encloses, or None when it encloses no area (line, path, degenerate).

    A self-intersecting polygon is repaired with shapely.make_valid, keeping its areal part,
    which can be a MultiPolygon (a bow-tie becomes two triangles).
    """
    if kind == "rect":
        x0, y0, x1, y1 = _box(kind, coords)
        geom: BaseGeometry = shapely.box(x0, y0, x1, y1)
    elif kind == "circle":
        geom = _ellipse(*_box(kind, coords))
    elif kind == "polygon":
        if len(points) < 3:
            return None
        geom = shapely.make_valid(Polygon(points))
    elif kind in ("line", "path"):
        return None
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    areal = _areal_part(geom)
    if areal is None or areal.is_empty or areal.area <= 0.0:
        return None
    return areal


def area(annotation: Annotation) -> float:
    """The pixel area the annotation encloses (0.0 for lines and paths)."""
    if annotation.kind == "rect":
        x0, y0, x1, y1 = _box(annotation.kind, annotation.coords)
        return (x1 - x0) * (y1 - y0)
    geom = _polygon_of(annotation)
    return 0.0 if geom is None else float(geom.area)


def iou(a: Annotation, b: Annotation) -> float:
    """Area intersection-over-union of two annotations; 0.0 if either has no area or no overlap."""
    if a.kind == "rect" and b.kind == "rect":
        ax0, ay0, ax1, ay1 = _box(a.kind, a.coords)
        bx0, by0, bx1, by1 = _box(b.kind, b.coords)
        inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
        union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
        return _ratio(inter, union)
    ga, gb = _polygon_of(a), _polygon_of(b)
    if ga is None or gb is None:
        return 0.0
    inter = float(shapely.intersection(ga, gb).area)
    return _ratio(inter, float(ga.area) + float(gb.area) - inter)


def iou_matrix(a: Sequence[Annotation], b: Sequence[Annotation]) -> np.ndarray:
    """IoU of every pair, shape (len(a), len(b)); rect pairs are vectorised with numpy."""
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
    ga = np.array([_polygon_of(x) for x in a], dtype=object)
    gb = np.array([_polygon_of(x) for x in b], dtype=object)
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
    out[ii, jj] = _ratios(inter, union)


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
    """The 64-gon inscribed in the ellipse inscribed in the box."""
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    angles = [2 * math.pi * k / ELLIPSE_VERTICES for k in range(ELLIPSE_VERTICES)]
    return Polygon([(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in angles])


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
