"""LabelMe JSON (zip): one `<image key without extension>.json` per image, as LabelMe 5 saves.

`imagePath` is the image's file name, which LabelMe resolves relative to the JSON file.
Lossy: LabelMe has only true circles, so a circle whose bounding box is not (within
0.5 px) square is written as a 32-point polygon and comes back as a polygon. The shapes
of every annotator of an image share its one JSON file.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from math import hypot, inf
from typing import Any

from domain.annotation import Point
from formats.archive import zip_files
from formats.coco import ellipse_points, is_number, json_number, json_points, load_json
from formats.model import (
    ExportSet,
    FormatError,
    Problems,
    RawImage,
    RawShape,
    Shape,
    bbox_of,
    brief,
)

VERSION = "5.5.0"
CIRCLE_TOLERANCE = 0.5  # px by which a circle's width and height may differ


def _shape(shape: Shape) -> dict[str, Any]:
    points: tuple[Point, ...]
    if shape.kind == "rect":
        x0, y0, x1, y1 = bbox_of("rect", shape.coords, ())
        shape_type, points = "rectangle", ((x0, y0), (x1, y1))
    elif shape.kind == "line":
        x0, y0, x1, y1 = shape.coords
        shape_type, points = "line", ((x0, y0), (x1, y1))
    elif shape.kind == "circle":
        x0, y0, x1, y1 = bbox_of("circle", shape.coords, ())
        if abs((x1 - x0) - (y1 - y0)) <= CIRCLE_TOLERANCE:
            radius = ((x1 - x0) + (y1 - y0)) / 4
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            shape_type, points = "circle", ((cx, cy), (cx + radius, cy))
        else:
            shape_type, points = "polygon", ellipse_points(shape.coords)
    else:
        shape_type = "polygon" if shape.kind == "polygon" else "linestrip"
        points = shape.points
    return {
        "label": shape.label,
        "points": [[json_number(x), json_number(y)] for x, y in points],
        "group_id": None,
        "description": "",
        "shape_type": shape_type,
        "flags": {},
        "mask": None,
    }


def _member_name(key: str, taken: set[str]) -> str:
    """`a/b.jpg` -> `a/b.json`; `a/b.png.json` when another image already took `a/b.json`."""
    key = key.lstrip("/")
    name = posixpath.splitext(key)[0] + ".json"
    if name in taken:
        name = key + ".json"
    number = 2
    while name in taken:
        name, number = f"{key}.{number}.json", number + 1
    return name


def export_labelme(data: ExportSet) -> bytes:
    """A zip of one LabelMe JSON per image (an image with no shapes has an empty list)."""
    documents: dict[str, dict[str, Any]] = {}
    for item in data.items:
        ref = item.image
        if ref.key not in documents:
            documents[ref.key] = {
                "version": VERSION,
                "flags": {},
                "shapes": [],
                "imagePath": posixpath.basename(ref.key),
                "imageData": None,
                "imageHeight": ref.height,
                "imageWidth": ref.width,
            }
        documents[ref.key]["shapes"].extend(_shape(shape) for shape in item.shapes)
    taken: set[str] = set()
    files: dict[str, bytes] = {}
    for key, document in documents.items():
        name = _member_name(key, taken)
        taken.add(name)
        # No indent: with it json falls back to its pure-Python encoder (3x slower).
        files[name] = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return zip_files(files)


def _image_name(member: str, image_path: str) -> str:
    """The image a JSON file names, relative to the JSON's folder as LabelMe resolves it."""
    image_path = image_path.replace("\\", "/")  # LabelMe on Windows writes backslashes
    name = posixpath.normpath(posixpath.join(posixpath.dirname(member), image_path))
    if name.startswith(("../", "/")) or name in ("..", "."):
        return posixpath.basename(image_path)
    return name


def _size(document: dict[str, Any], member: str) -> tuple[int, int] | None:
    width, height = document.get("imageWidth"), document.get("imageHeight")
    if width is None or height is None:
        return None
    if not (is_number(width) and is_number(height) and 0 < width < inf and 0 < height < inf):
        raise FormatError(
            f"{member}: imageWidth and imageHeight must be positive numbers, "
            f"got {brief(width)} and {brief(height)}"
        )
    return (int(width), int(height))


def _raw_shape(entry: Any, where: str) -> RawShape:
    if not isinstance(entry, dict):
        raise FormatError(f"{where}: not an object")
    label, points_value = entry.get("label"), entry.get("points")
    if not isinstance(label, str) or not label:
        raise FormatError(f"{where}: the label is missing")
    if not isinstance(points_value, list) or not points_value:
        raise FormatError(f"{where}: the points are missing")
    points = json_points(points_value, f"{where}: points must be [x, y] pairs of numbers")
    # LabelMe's own default: old files leave shape_type out for polygons
    shape_type = entry.get("shape_type") or "polygon"
    if shape_type == "polygon":
        return RawShape(label, "polygon", points=points, where=where)
    if shape_type == "linestrip":
        if len(points) < 2:
            raise FormatError(f"{where}: a linestrip needs at least 2 points")
        return RawShape(label, "path", points=points, where=where)
    if shape_type not in ("rectangle", "circle", "line"):
        raise FormatError(f"{where}: shape_type {brief(shape_type)} is not supported")
    if len(points) != 2:
        raise FormatError(f"{where}: a {shape_type} needs exactly 2 points, got {len(points)}")
    (x0, y0), (x1, y1) = points
    if shape_type == "rectangle":
        coords = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        return RawShape(label, "rect", coords=coords, where=where)
    if shape_type == "circle":  # center, then a point on the rim
        radius = hypot(x1 - x0, y1 - y0)  # inf, not OverflowError, for absurd points
        coords = (x0 - radius, y0 - radius, x0 + radius, y0 + radius)
        return RawShape(label, "circle", coords=coords, where=where)
    return RawShape(label, "line", coords=(x0, y0, x1, y1), where=where)


def _read_member(member: str, data: bytes, problems: list[str]) -> RawImage | None:
    try:
        document = load_json(member, data)
    except FormatError as exc:
        problems.extend(exc.messages)
        return None
    if not isinstance(document, dict):
        problems.append(f"{member}: the top level must be a JSON object")
        return None
    image_path = document.get("imagePath")
    if not isinstance(image_path, str) or not image_path:
        problems.append(f"{member}: imagePath is missing")
        return None
    entries = document.get("shapes")
    if not isinstance(entries, list):
        problems.append(f"{member}: 'shapes' must be a list")
        return None
    try:
        size = _size(document, member)
    except FormatError as exc:
        problems.extend(exc.messages)
        return None
    shapes = []
    for number, entry in enumerate(entries, 1):
        try:
            shapes.append(_raw_shape(entry, f"{member}: shape {number}"))
        except FormatError as exc:
            problems.extend(exc.messages)
    return RawImage(
        name=_image_name(member, image_path), shapes=tuple(shapes), where=member, size=size
    )


def import_labelme(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
    """Images and shapes of the LabelMe .json files among `files` (other files are ignored)."""
    members = sorted(name for name in files if name.lower().endswith(".json"))
    if not members:
        shown = ", ".join(sorted(files)[:5]) + (" ..." if len(files) > 5 else "")
        raise FormatError(f"no LabelMe .json files were found (only {shown or 'nothing'})")
    problems = Problems()
    images = [_read_member(member, files[member], problems) for member in members]
    if problems:
        raise FormatError(problems)
    return [image for image in images if image is not None]
