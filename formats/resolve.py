"""Check what a file gives against the image source and the label set, all or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import isfinite

from domain.annotation import BOX_KINDS, Point
from formats.model import FormatError, ImageAnnotations, ImageRef, RawImage, RawShape, Shape

MAX_MESSAGES = 50
# A box may touch the edge: x1 == width is inside. Tolerate float noise from normalizing.
EDGE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ImportRejected(ValueError):
    """The file was refused; nothing was written. `messages` say why, record by record."""

    messages: tuple[str, ...]

    def __str__(self) -> str:
        more = len(self.messages) - 3
        head = "; ".join(self.messages[:3])
        return head + (f"; and {more} more" if more > 0 else "")


def reject(error: FormatError, filename: str) -> ImportRejected:
    """A FormatError from a codec as a rejection (naming the file if the codec did not)."""
    messages = [m if m.startswith(filename) else f"{filename}: {m}" for m in error.messages]
    return ImportRejected(tuple(messages))


# Imported coordinates are kept to 4 decimals of a pixel: far finer than anyone draws, and
# what every export writes back, so a round trip gives the same numbers. The no-area checks
# run on the rounded values, so nothing is stored that would be refused when read back.
DECIMALS = 4


def _clip(value: float, upper: int) -> float:
    return round(min(max(value, 0.0), float(upper)), DECIMALS)


def check_shape(shape: RawShape, ref: ImageRef, labels: Sequence[str]) -> Shape | str:
    """The shape in pixels, inside the image, with a known label; or why not.

    Written for speed (it runs once per shape of an import): plain arithmetic, no helpers
    per coordinate."""
    where = shape.where or ref.key
    if shape.label not in labels:
        known = ", ".join(labels)
        return f"{where}: label {shape.label!r} is not one of the project's labels ({known})"
    width, height = ref.width, ref.height
    coords, points = shape.coords, shape.points
    if shape.normalized:
        coords = tuple(v * (width if i % 2 == 0 else height) for i, v in enumerate(coords))
        points = tuple((x * width, y * height) for x, y in points)
    low_x, low_y = -EDGE_TOLERANCE * max(width, 1), -EDGE_TOLERANCE * max(height, 1)
    high_x, high_y = width - low_x, height - low_y
    if shape.kind in BOX_KINDS:
        if len(coords) != 4:
            return f"{where}: a {shape.kind} needs four coordinates x0, y0, x1, y1"
        x0, y0, x1, y1 = coords
        if not (isfinite(x0) and isfinite(y0) and isfinite(x1) and isfinite(y1)):
            return f"{where}: a coordinate is not a finite number"
        if not (
            low_x <= x0 <= high_x
            and low_x <= x1 <= high_x
            and low_y <= y0 <= high_y
            and low_y <= y1 <= high_y
        ):
            return _outside(where, shape.kind, ref, coords, points)
        if shape.kind != "line":
            x0, x1 = (x0, x1) if x0 <= x1 else (x1, x0)
            y0, y1 = (y0, y1) if y0 <= y1 else (y1, y0)
        box = (_clip(x0, width), _clip(y0, height), _clip(x1, width), _clip(y1, height))
        if shape.kind != "line" and (box[0] == box[2] or box[1] == box[3]):
            return f"{where}: the {shape.kind} has no area{_rounded(coords)}: " + _describe(
                coords, points
            )
        if shape.kind == "line" and box[:2] == box[2:]:
            return f"{where}: the line has no length{_rounded(coords)}: {_describe(coords, ())}"
        return Shape(shape.label, shape.kind, box, ())
    minimum = 3 if shape.kind == "polygon" else 2
    if len(points) < minimum:
        return f"{where}: a {shape.kind} needs at least {minimum} points"
    if not all(isfinite(x) and isfinite(y) for x, y in points):
        return f"{where}: a coordinate is not a finite number"
    if not all(low_x <= x <= high_x and low_y <= y <= high_y for x, y in points):
        return _outside(where, shape.kind, ref, coords, points)
    clipped = tuple((_clip(x, width), _clip(y, height)) for x, y in points)
    if shape.kind == "polygon" and _shoelace(clipped) == 0.0:
        return f"{where}: the polygon has no area{_rounded(points)}: {_describe((), points)}"
    if len(set(clipped)) < 2:
        return f"{where}: the path has no length{_rounded(points)}: {_describe((), points)}"
    return Shape(shape.label, shape.kind, (), clipped)


def _shoelace(points: Sequence[Point]) -> float:
    """Twice the signed area of a polygon (0.0 when its points are collinear)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, (*points[1:], points[0])))


def _rounded(raw: Sequence[object]) -> str:
    """' once rounded to 4 decimals' when the raw values are not already so rounded."""
    flat = [v for item in raw for v in (item if isinstance(item, tuple) else (item,))]
    exact = all(round(float(v), DECIMALS) == v for v in flat)
    return "" if exact else f" once rounded to {DECIMALS} decimals of a pixel"


def _outside(
    where: str, kind: str, ref: ImageRef, coords: tuple[float, ...], points: tuple[Point, ...]
) -> str:
    return (
        f"{where}: the {kind} reaches outside the image "
        f"({ref.width}x{ref.height}): {_describe(coords, points)}"
    )


def _describe(coords: tuple[float, ...], points: tuple[Point, ...]) -> str:
    if coords:
        return "x0={:g} y0={:g} x1={:g} y1={:g}".format(*coords)
    shown = ", ".join(f"({x:g}, {y:g})" for x, y in points[:4])
    return shown + (", ..." if len(points) > 4 else "")


def resolve(
    raw: Sequence[RawImage],
    refs: Mapping[str, ImageRef],
    labels: Sequence[str],
    annotator: str,
) -> list[ImageAnnotations]:
    """Turn a file's images into records to store, or raise ImportRejected listing every
    problem (unknown images, labels, sizes, shapes outside the image).

    `refs` maps each name the file uses to the source image it means (names missing from
    it are unknown images). Images given twice for the same annotator are merged."""
    problems: list[str] = []
    unknown = sorted({item.name for item in raw if item.name not in refs})
    if unknown:
        shown = ", ".join(unknown[:20]) + (
            f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        )
        problems.append(f"{len(unknown)} image(s) are not in the image source: {shown}")
    merged: dict[tuple[str, str], list[Shape]] = {}
    refs_by_key: dict[str, ImageRef] = {}
    for item in raw:
        ref = refs.get(item.name)
        if ref is None:
            continue
        if item.size is not None and item.size != (ref.width, ref.height):
            problems.append(
                f"{item.where}: the file says {item.size[0]}x{item.size[1]} pixels, "
                f"but {ref.key} is {ref.width}x{ref.height}"
            )
            continue
        who = item.annotator or annotator
        shapes = merged.setdefault((ref.key, who), [])
        refs_by_key[ref.key] = ref
        for shape in item.shapes:
            checked = check_shape(shape, ref, labels)
            if isinstance(checked, str):
                problems.append(checked)
            else:
                shapes.append(checked)
        if len(problems) > MAX_MESSAGES:
            break
    if problems:
        raise ImportRejected(tuple(problems[:MAX_MESSAGES]))
    return [
        ImageAnnotations(refs_by_key[key], who, tuple(shapes))
        for (key, who), shapes in sorted(merged.items())
    ]
