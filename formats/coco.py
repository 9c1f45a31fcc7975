"""COCO object-detection JSON: images, categories and annotations in one file.

Categories are the project's labels (id i + 1). Every shape carries its bbox and
`attributes.kind`; rectangles, polygons and circles (a 32-point ellipse) also carry a
polygon segmentation, so COCO tools can draw masks. Lines and paths have no segmentation;
their exact points travel in `attributes.points`. An image can be listed only once, so the
shapes of every annotator of an image go to the same image entry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from domain.annotation import KINDS, Point
from formats.model import (
    ExportSet,
    FormatError,
    Problems,
    RawImage,
    RawShape,
    Shape,
    bbox_of,
    brief,
    cut,
    decode_text,
)

ELLIPSE_POINTS = 32
# COCO's own instances_train2017.json is 448 MB, the largest file a real dataset brings.
MAX_JSON_BYTES = 512_000_000


def json_number(value: float) -> float | int:
    """A coordinate for JSON: 4 decimals, and an int when it is whole (10, not 10.0)."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded


def ellipse_points(coords: tuple[float, ...], count: int = ELLIPSE_POINTS) -> tuple[Point, ...]:
    """The ellipse inscribed in a bounding box as a polygon of `count` points; the four
    extreme points are among them, so the polygon has the same bounding box."""
    x0, y0, x1, y1 = bbox_of("circle", coords, ())
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    steps = [2 * math.pi * k / count for k in range(count)]
    return tuple((cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in steps)


def polygon_area(points: tuple[Point, ...]) -> float:
    """The shoelace area of a closed polygon (positive whatever its orientation)."""
    twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))
    return abs(twice) / 2


def _flat(points: tuple[Point, ...]) -> list[float | int]:
    return [json_number(v) for point in points for v in point]


def _annotation(shape: Shape, ann_id: int, image_id: int, category_id: int) -> dict[str, Any]:
    x0, y0, x1, y1 = bbox_of(shape.kind, shape.coords, shape.points)
    attributes: dict[str, Any] = {"kind": shape.kind}
    segmentation: list[list[float | int]] = []
    if shape.kind == "rect":
        segmentation = [_flat(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))]
        area = (x1 - x0) * (y1 - y0)
    elif shape.kind == "polygon":
        segmentation = [_flat(shape.points)]
        area = polygon_area(shape.points)
    elif shape.kind == "circle":
        outline = ellipse_points(shape.coords)
        segmentation = [_flat(outline)]
        area = polygon_area(outline)
    else:  # line and path: no area, so no mask; keep the exact points (and direction)
        points = shape.points or (
            (shape.coords[0], shape.coords[1]),
            (shape.coords[2], shape.coords[3]),
        )
        attributes["points"] = [[json_number(x), json_number(y)] for x, y in points]
        area = 0.0
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [json_number(v) for v in (x0, y0, x1 - x0, y1 - y0)],
        "area": json_number(area),
        "segmentation": segmentation,
        "iscrowd": 0,
        "attributes": attributes,
        **({"score": shape.score} if shape.score is not None else {}),
    }


def export_coco(data: ExportSet) -> bytes:
    """The COCO JSON of an export set, UTF-8; images with no shapes are listed too."""
    category_ids = {label: i + 1 for i, label in enumerate(data.labels)}
    image_ids: dict[str, int] = {}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for item in data.items:
        ref = item.image
        if ref.key not in image_ids:
            image_ids[ref.key] = len(images) + 1
            images.append(
                {
                    "id": len(images) + 1,
                    "file_name": ref.key,
                    "width": ref.width,
                    "height": ref.height,
                }
            )
        for shape in item.shapes:
            annotations.append(
                _annotation(
                    shape, len(annotations) + 1, image_ids[ref.key], category_ids[shape.label]
                )
            )
    document = {
        "info": {"description": "Concord export"},
        "licenses": [],
        "images": images,
        "categories": [
            {"id": i + 1, "name": label, "supercategory": ""} for i, label in enumerate(data.labels)
        ],
        "annotations": annotations,
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def is_number(value: object) -> TypeGuard[int | float]:
    """True for a JSON number (not a bool, which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_id(value: object) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def _record_id(entry: dict[str, Any]) -> int | str | None:
    value = entry.get("id")
    return value if _is_id(value) else None


def _name(what: str, entry: dict[str, Any], position: int) -> str:
    """'image id 3', or 'images[2]' (0-based, as in the file) when the entry has no id."""
    ident = _record_id(entry)
    return f"{what} id {cut(str(ident))}" if ident is not None else f"{what}s[{position}]"


def load_json(filename: str, data: bytes) -> Any:
    """The JSON value of a UTF-8 file, or a FormatError naming the bad byte or line,
    or saying the file is too large or nested too deeply."""
    if len(data) > MAX_JSON_BYTES:
        raise FormatError(
            f"{filename}: {len(data):,} bytes; a JSON file may have at most {MAX_JSON_BYTES:,}"
        )
    text = decode_text(filename, data)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{filename}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        # Python's parser recurses per level: about a thousand levels exhaust the stack,
        # where COCO and LabelMe files are five or six levels deep.
        raise FormatError(f"{filename}: the JSON is nested too deeply") from None


def _load(filename: str, data: bytes) -> dict[str, Any]:
    document = load_json(filename, data)
    if not isinstance(document, dict):
        raise FormatError(f"{filename}: the top level must be a JSON object, not a list or value")
    missing = [key for key in ("images", "annotations", "categories") if key not in document]
    if missing:
        raise FormatError(f"{filename}: missing {', '.join(repr(k) for k in missing)}")
    wrong = [
        key
        for key in ("images", "annotations", "categories")
        if not isinstance(document[key], list)
    ]
    if wrong:
        raise FormatError(f"{filename}: {', '.join(repr(k) for k in wrong)} must be a list")
    return document


def _records(
    filename: str, entries: list[Any], key: str, what: str, problems: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, entry) of each object among `entries` (the file's list `key`, of `what`s);
    an entry that is not an object is reported to `problems` instead."""
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"{filename}: {key}[{position}] is not an object")
            continue
        yield f"{filename}: {_name(what, entry, position)}", entry


def _images(
    filename: str, entries: list[Any], problems: list[str]
) -> tuple[dict[Any, RawImage], set[Any]]:
    """Valid images by id, and the ids of every image entry (valid or not)."""
    images: dict[Any, RawImage] = {}
    seen: set[Any] = set()
    for where, entry in _records(filename, entries, "images", "image", problems):
        ident = _record_id(entry)
        if ident is None:
            problems.append(f"{where}: the image has no id")
            continue
        if ident in seen:
            problems.append(f"{where}: image id {ident} appears more than once")
            continue
        seen.add(ident)
        name = entry.get("file_name")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: file_name is missing")
            continue
        width, height = entry.get("width"), entry.get("height")
        if not (is_number(width) and is_number(height)):
            problems.append(
                f"{where}: width and height must be numbers, got {brief(width)} and {brief(height)}"
            )
            continue
        if not (0 < width < math.inf and 0 < height < math.inf):  # NaN fails both too
            problems.append(f"{where}: width and height must be positive, got {width}x{height}")
            continue
        size = (int(width), int(height))
        images[ident] = RawImage(name=name, shapes=(), where=where, size=size)
    return images, seen


def _categories(filename: str, entries: list[Any], problems: list[str]) -> dict[Any, str]:
    names: dict[Any, str] = {}
    for where, entry in _records(filename, entries, "categories", "category", problems):
        ident = _record_id(entry)
        name = entry.get("name")
        if ident is None:
            problems.append(f"{where}: the category has no id")
        elif ident in names:
            problems.append(f"{where}: category id {ident} appears more than once")
        elif not isinstance(name, str) or not name:
            problems.append(f"{where}: the category has no name")
        else:
            names[ident] = name
    return names


def json_points(value: Any, message: str) -> tuple[Point, ...]:
    """A JSON list of [x, y] number pairs as points, or FormatError(message)."""
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in value
    ):
        raise FormatError(message)
    return tuple((float(p[0]), float(p[1])) for p in value)


def _polygons(segmentation: Any, where: str) -> list[tuple[Point, ...]]:
    """The parts of a polygon segmentation ([] for RLE or none)."""
    if not isinstance(segmentation, list):
        return []  # an RLE dict, or nothing: the bbox stands for the shape
    parts = []
    for part in segmentation:
        if not isinstance(part, list) or not all(is_number(v) for v in part):
            raise FormatError(f"{where}: segmentation must be lists of numbers")
        if len(part) % 2:
            raise FormatError(f"{where}: a segmentation polygon has an odd count of numbers")
        parts.append(tuple((float(part[i]), float(part[i + 1])) for i in range(0, len(part), 2)))
    return parts


def _shapes(entry: dict[str, Any], label: str, where: str) -> list[RawShape]:
    box = entry.get("bbox")
    if not isinstance(box, list) or len(box) != 4 or not all(is_number(v) for v in box):
        raise FormatError(
            f"{where}: bbox must be 4 numbers [x, y, width, height], got {brief(box)}"
        )
    x, y, w, h = (float(v) for v in box)
    if w < 0 or h < 0:
        raise FormatError(f"{where}: bbox width and height must not be negative, got {box}")
    coords = (x, y, x + w, y + h)
    attributes = entry.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}
    kind = attributes.get("kind")
    if kind not in KINDS:
        kind = None  # another tool's attribute of that name: guess from the geometry
    if kind in ("line", "path"):
        message = f"{where}: attributes.points must be a list of [x, y] pairs"
        points = json_points(attributes.get("points"), message)
        if kind == "path":
            return [RawShape(label, "path", points=points, where=where)]
        if len(points) != 2:
            raise FormatError(f"{where}: a line needs exactly 2 attributes.points")
        (x0, y0), (x1, y1) = points
        return [RawShape(label, "line", coords=(x0, y0, x1, y1), where=where)]
    if kind in ("rect", "circle"):
        return [RawShape(label, kind, coords=coords, where=where)]
    parts = [p for p in _polygons(entry.get("segmentation"), where) if p]
    if not parts:
        if kind == "polygon":
            raise FormatError(f"{where}: a polygon needs its segmentation")
        return [RawShape(label, "rect", coords=coords, where=where)]
    if len(parts) == 1:
        return [RawShape(label, "polygon", points=parts[0], where=where)]
    return [
        RawShape(label, "polygon", points=part, where=f"{where} part {i}")
        for i, part in enumerate(parts, 1)
    ]


def _read_file(filename: str, data: bytes, problems: list[str]) -> list[RawImage]:
    document = _load(filename, data)
    images, image_ids = _images(filename, document["images"], problems)
    categories = _categories(filename, document["categories"], problems)
    shapes: dict[Any, list[RawShape]] = {ident: [] for ident in images}
    annotations = _records(filename, document["annotations"], "annotations", "annotation", problems)
    for where, entry in annotations:
        image_id, category_id = entry.get("image_id"), entry.get("category_id")
        if not _is_id(image_id) or image_id not in image_ids:
            problems.append(f"{where}: image_id {brief(image_id)} is not among the images")
            continue
        if not _is_id(category_id) or category_id not in categories:
            problems.append(
                f"{where}: category_id {brief(category_id)} is not among the categories"
            )
            continue
        try:
            found = _shapes(entry, categories[category_id], where)
        except FormatError as exc:
            problems.extend(exc.messages)
            continue
        if image_id in shapes:  # else the image entry itself was bad, already reported
            shapes[image_id].extend(found)
    return [
        RawImage(name=image.name, shapes=tuple(shapes[ident]), where=image.where, size=image.size)
        for ident, image in images.items()
    ]


def import_coco(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
    """Images and shapes of COCO JSON files; labels are the category names."""
    problems = Problems()
    result: list[RawImage] = []
    for filename, data in files.items():
        try:
            result.extend(_read_file(filename, data, problems))
        except FormatError as exc:
            problems.extend(exc.messages)
    if problems:
        raise FormatError(problems)
    return result
