"""Check what a file gives against the image source and the label set, all or nothing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


def _in_image(point: Point, ref: ImageRef) -> bool:
    x, y = point
    slack_x = EDGE_TOLERANCE * max(ref.width, 1)
    slack_y = EDGE_TOLERANCE * max(ref.height, 1)
    return -slack_x <= x <= ref.width + slack_x and -slack_y <= y <= ref.height + slack_y


def _clip(value: float, upper: int) -> float:
    return round(min(max(value, 0.0), float(upper)), 4)


def _to_pixels(shape: RawShape, ref: ImageRef) -> tuple[tuple[float, ...], tuple[Point, ...]]:
    if not shape.normalized:
        return shape.coords, shape.points
    coords = tuple(
        v * (ref.width if i % 2 == 0 else ref.height) for i, v in enumerate(shape.coords)
    )
    points = tuple((x * ref.width, y * ref.height) for x, y in shape.points)
    return coords, points


def check_shape(shape: RawShape, ref: ImageRef, labels: Sequence[str]) -> Shape | str:
    """The shape in pixels, inside the image, with a known label; or why not."""
    where = shape.where or ref.key
    if shape.label not in labels:
        known = ", ".join(labels)
        return f"{where}: label {shape.label!r} is not one of the project's labels ({known})"
    coords, points = _to_pixels(shape, ref)
    numbers = list(coords) + [v for p in points for v in p]
    if not all(math.isfinite(v) for v in numbers):
        return f"{where}: a coordinate is not a finite number"
    if shape.kind in BOX_KINDS:
        if len(coords) != 4:
            return f"{where}: a {shape.kind} needs four coordinates x0, y0, x1, y1"
        corners: tuple[Point, ...] = ((coords[0], coords[1]), (coords[2], coords[3]))
    else:
        minimum = 3 if shape.kind == "polygon" else 2
        if len(points) < minimum:
            return f"{where}: a {shape.kind} needs at least {minimum} points"
        corners = points
    if not all(_in_image(p, ref) for p in corners):
        return (
            f"{where}: the {shape.kind} reaches outside the image "
            f"({ref.width}x{ref.height}): {_describe(coords, points)}"
        )
    if shape.kind in ("rect", "circle") and (coords[0] == coords[2] or coords[1] == coords[3]):
        return f"{where}: the {shape.kind} has no area: {_describe(coords, points)}"
    if shape.kind in BOX_KINDS:
        x0, y0, x1, y1 = (
            _clip(v, ref.width if i % 2 == 0 else ref.height) for i, v in enumerate(coords)
        )
        if shape.kind != "line":
            x0, x1 = min(x0, x1), max(x0, x1)
            y0, y1 = min(y0, y1), max(y0, y1)
        return Shape(shape.label, shape.kind, (x0, y0, x1, y1), ())
    clipped = tuple((_clip(x, ref.width), _clip(y, ref.height)) for x, y in points)
    return Shape(shape.label, shape.kind, (), clipped)


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
