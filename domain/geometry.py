"""Geometry rules: plotly shape dicts <-> coordinates, clamping, and typed-in values."""

from __future__ import annotations

import math
import re
from typing import Any

from domain.annotation import BOX_KINDS, Annotation, Kind, Point
from domain.errors import ShapeError

# Fewest points a shape of each point kind can have.
MIN_POINTS = {"polygon": 3, "path": 2}
_PATH_TOKEN = re.compile(r"[MLZmlz]|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")


def parse_path(path: str) -> tuple[tuple[Point, ...], bool]:
    """Parse plotly's 'M x,y L x,y ... Z' into points and whether the path is closed."""
    if not isinstance(path, str) or not path.strip():
        raise ShapeError("a path shape has no path string")
    stripped = re.sub(r"[\s,]+", " ", path).strip()
    tokens = _PATH_TOKEN.findall(stripped)
    if "".join(tokens).replace(" ", "") != stripped.replace(" ", ""):
        raise ShapeError(f"unsupported path commands in {path[:40]!r}: only M, L and Z are drawn")
    points: list[Point] = []
    numbers: list[float] = []
    closed = False
    for token in tokens:
        if token in "MLml":
            continue
        if token in "Zz":
            closed = True
            continue
        numbers.append(float(token))
        if len(numbers) == 2:
            points.append((numbers[0], numbers[1]))
            numbers = []
    if numbers:
        raise ShapeError("a path has an odd number of coordinates")
    if len(points) < 2:
        raise ShapeError("a path needs at least two points")
    return tuple(points), closed


def require_polygon_points(points: tuple[Point, ...]) -> None:
    """Refuse a polygon with fewer than MIN_POINTS['polygon'] points."""
    if len(points) < MIN_POINTS["polygon"]:
        raise ShapeError("a polygon needs at least three points")


def format_path(points: tuple[Point, ...], closed: bool) -> str:
    """The plotly path string for points."""
    body = "L".join(f"{x:.2f},{y:.2f}" for x, y in points)
    return f"M{body}{'Z' if closed else ''}"


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ShapeError(f"{what} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ShapeError(f"{what} is not a finite number: {value!r}")
    return number


def geometry_of_shape(shape: dict[str, Any]) -> tuple[Kind, tuple[float, ...], tuple[Point, ...]]:
    """Kind, coords and points of a plotly shape dict (as relayoutData sends it)."""
    shape_type = shape.get("type")
    if shape_type in ("rect", "circle", "line"):
        coords = tuple(_number(shape.get(k), k) for k in ("x0", "y0", "x1", "y1"))
        return shape_type, coords, ()
    if shape_type == "path":
        points, closed = parse_path(shape.get("path", ""))
        if closed:
            require_polygon_points(points)
        return ("polygon" if closed else "path"), (), points
    raise ShapeError(f"unsupported shape type {shape_type!r}")


def normalise_box(kind: str, coords: tuple[float, ...]) -> tuple[float, ...]:
    """Order corners so x0 <= x1 and y0 <= y1; a line keeps its direction."""
    x0, y0, x1, y1 = coords
    if kind == "line":
        return (x0, y0, x1, y1)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def clamp(value: float, upper: float) -> float:
    """Clamp into [0, upper]."""
    return min(max(value, 0.0), upper)


def clamp_geometry(
    kind: str, coords: tuple[float, ...], points: tuple[Point, ...], width: int, height: int
) -> tuple[tuple[float, ...], tuple[Point, ...]]:
    """Pull a drawn shape inside the image, so nothing is stored outside it."""
    if kind in BOX_KINDS:
        x0, y0, x1, y1 = coords
        boxed = (clamp(x0, width), clamp(y0, height), clamp(x1, width), clamp(y1, height))
        return tuple(round(v, 2) for v in normalise_box(kind, boxed)), ()
    return (), tuple((round(clamp(x, width), 2), round(clamp(y, height), 2)) for x, y in points)


def is_degenerate(kind: str, coords: tuple[float, ...], points: tuple[Point, ...]) -> bool:
    """True for a shape with no extent (a click rather than a drag)."""
    if kind in BOX_KINDS:
        x0, y0, x1, y1 = coords
        if kind == "line":
            return math.hypot(x1 - x0, y1 - y0) < 1.0
        return abs(x1 - x0) < 1.0 or abs(y1 - y0) < 1.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (max(xs) - min(xs)) < 1.0 and (max(ys) - min(ys)) < 1.0


def parse_coordinate(value: Any, axis: str, width: int, height: int) -> float:
    """A typed-in coordinate for axis 'x' or 'y', checked against the image size."""
    limit = width if axis == "x" else height
    number = _number(str(value).strip() if isinstance(value, str) else value, f"{axis} value")
    if not 0 <= number <= limit:
        raise ShapeError(f"{axis} = {number:g} is outside the image (0 to {limit})")
    return round(number, 2)


def parse_points_text(text: Any, width: int, height: int, minimum: int) -> tuple[Point, ...]:
    """Points typed as 'x,y; x,y; ...', checked against the image."""
    if not isinstance(text, str):
        raise ShapeError("points must be written as 'x,y; x,y; ...'")
    chunks = [chunk for chunk in re.split(r"[;\n]+", text) if chunk.strip()]
    if len(chunks) == 1:  # no separators: read the numbers two by two ("10, 20 30, 40")
        values = [v for v in re.split(r"[,\s]+", text.strip()) if v]
        if len(values) % 2:
            raise ShapeError("points need an x and a y each: write 'x,y; x,y; ...'")
        chunks = [f"{values[i]},{values[i + 1]}" for i in range(0, len(values), 2)]
    points = []
    for pair in chunks:
        parts = [p for p in re.split(r"[,\s]+", pair.strip()) if p]
        if len(parts) != 2:
            raise ShapeError(f"{pair.strip()!r} is not a point: write 'x,y'")
        points.append(
            (
                parse_coordinate(parts[0], "x", width, height),
                parse_coordinate(parts[1], "y", width, height),
            )
        )
    if len(points) < minimum:
        raise ShapeError(f"this shape needs at least {minimum} points")
    return tuple(points)


def format_points(points: tuple[Point, ...]) -> str:
    """Points as the grid shows them: 'x,y; x,y'."""
    return "; ".join(f"{x:g},{y:g}" for x, y in points)


def bounding_box(annotation: Annotation) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) enclosing the shape."""
    if annotation.coords:
        x0, y0, x1, y1 = annotation.coords
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    xs = [p[0] for p in annotation.points]
    ys = [p[1] for p in annotation.points]
    return (min(xs), min(ys), max(xs), max(ys))
