"""Pascal VOC XML: one `Annotations/<key without extension>.xml` per image, in a zip.

Coordinates are continuous pixel coordinates, 0..width and 0..height with the origin at
the top-left corner, written as plain decimals: the convention of most tools today, and
not the 1-based integer pixels of the original VOC devkit (no +1 shift either way).
VOC knows only boxes: every object carries its bounding box, and shapes other than
rectangles add `<shape>` (and `<points>`) elements that other readers ignore.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import cast
from xml.parsers.expat import ErrorString

from domain.annotation import KINDS, POINT_KINDS, Kind, Point
from formats.archive import zip_files
from formats.model import (
    ExportSet,
    FormatError,
    ImageAnnotations,
    RawImage,
    RawShape,
    Shape,
    bbox_of,
    by_image,
    finite_number,
    number_text,
)

BOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")
# ElementTree expands internal entities, so a DTD could blow up memory (billion laughs).
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
DRIVE = re.compile(r"^[A-Za-z]:")


def export_voc(data: ExportSet) -> bytes:
    """A zip of one VOC XML per image; items of the same image (several annotators)
    share one file, their objects in the export set's order."""
    files: dict[str, bytes] = {}
    for key, items in by_image(data.items).items():
        shapes = [shape for item in items for shape in item.shapes]
        files[member_name(key, "Annotations", ".xml", files)] = _document(items[0], shapes)
    return zip_files(files)


def member_name(key: str, folder: str, suffix: str, taken: Mapping[str, object]) -> str:
    """`folder/<key without extension><suffix>`; the whole key when another image of the
    same stem (a.jpg and a.png) already took that name."""
    name = f"{folder}/{posixpath.splitext(key)[0]}{suffix}"
    return f"{folder}/{key}{suffix}" if name in taken else name


def _document(item: ImageAnnotations, shapes: list[Shape]) -> bytes:
    key = item.image.key
    root = ET.Element("annotation")
    _child(root, "folder", posixpath.dirname(key))
    _child(root, "filename", posixpath.basename(key))
    _child(root, "path", key)
    _child(ET.SubElement(root, "source"), "database", "Concord")
    size = ET.SubElement(root, "size")
    _child(size, "width", str(item.image.width))
    _child(size, "height", str(item.image.height))
    _child(size, "depth", "3")
    _child(root, "segmented", "0")
    for shape in shapes:
        _object(root, shape)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _child(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _object(root: ET.Element, shape: Shape) -> None:
    element = ET.SubElement(root, "object")
    _child(element, "name", shape.label)
    _child(element, "pose", "Unspecified")
    _child(element, "truncated", "0")
    _child(element, "difficult", "0")
    box = ET.SubElement(element, "bndbox")
    for tag, value in zip(BOX_FIELDS, bbox_of(shape.kind, shape.coords, shape.points)):
        _child(box, tag, number_text(value))
    if shape.kind == "rect":
        return
    _child(element, "shape", shape.kind)
    if shape.kind == "line":
        x0, y0, x1, y1 = shape.coords
        points: tuple[Point, ...] = ((x0, y0), (x1, y1))  # the box alone loses direction
    elif shape.kind in POINT_KINDS:
        points = shape.points
    else:
        return  # a circle is its bounding box
    holder = ET.SubElement(element, "points")
    for x, y in points:
        pt = ET.SubElement(holder, "pt")
        _child(pt, "x", number_text(x))
        _child(pt, "y", number_text(y))


class _NoDoctype(ET.TreeBuilder):
    """Refuses a DOCTYPE in any encoding, where the byte check cannot see it."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise FormatError("DTDs are not allowed")


def parse_xml(member: str, data: bytes) -> ET.Element:
    """The root element of an XML member, refusing DTDs (entity expansion attacks)."""
    if any(marker in data for marker in DTD_MARKERS):
        raise FormatError(f"{member}: DTDs are not allowed")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        return parser.close()
    except FormatError:
        raise FormatError(f"{member}: DTDs are not allowed") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise FormatError(
            f"{member}: line {line}: not well-formed XML ({ErrorString(exc.code)}, "
            f"column {column + 1})"
        ) from None


def import_voc(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
    """One image per VOC XML member; `labels` is unused (VOC names its classes)."""
    members = [name for name in files if name.lower().endswith(".xml")]
    if not members:
        raise FormatError("no Pascal VOC .xml files found (expected Annotations/*.xml)")
    images: list[RawImage] = []
    problems: list[str] = []
    for member in members:
        try:
            images.append(_image(member, parse_xml(member, files[member])))
        except FormatError as exc:
            problems.extend(exc.messages)
    if problems:
        raise FormatError(problems)
    return images


def _text(parent: ET.Element | None, tag: str) -> str:
    element = parent.find(tag) if parent is not None else None
    return (element.text or "").strip() if element is not None else ""


def _image(member: str, root: ET.Element) -> RawImage:
    if root.tag != "annotation":
        raise FormatError(f"{member}: the root element is <{root.tag}>, not <annotation>")
    name = _image_name(root)
    if not name:
        raise FormatError(f"{member}: no <filename> and no relative <path> name the image")
    problems: list[str] = []
    shapes: list[RawShape] = []
    for number, element in enumerate(root.findall("object"), start=1):
        try:
            shapes.append(_shape(element, f"{member}: object {number}"))
        except FormatError as exc:
            problems.extend(exc.messages)
    if problems:
        raise FormatError(problems)
    return RawImage(name=name, shapes=tuple(shapes), where=member, size=_size(root))


def _image_name(root: ET.Element) -> str:
    path = _text(root, "path").replace("\\", "/")
    relative = (
        path and not path.startswith("/") and not DRIVE.match(path) and ".." not in path.split("/")
    )
    if relative:
        return path
    folder, filename = _text(root, "folder"), _text(root, "filename")
    if folder and filename:
        return f"{folder}/{filename}"
    return filename


def _size(root: ET.Element) -> tuple[int, int] | None:
    # Other tools write 0 (or nothing) when they did not know the size: then say nothing.
    size = root.find("size")
    values = [_text(size, "width"), _text(size, "height")]
    if all(value.isdigit() and int(value) > 0 for value in values):
        return (int(values[0]), int(values[1]))
    return None


def _number(text: str, what: str, where: str) -> float:
    return finite_number(text, f"{where}: {what} = {text!r} is not a number")


def _shape(element: ET.Element, where: str) -> RawShape:
    label = _text(element, "name")
    if not label:
        raise FormatError(f"{where}: no <name> (the label)")
    box = element.find("bndbox")
    if box is None:
        raise FormatError(f"{where}: no <bndbox>")
    missing = [tag for tag in BOX_FIELDS if not _text(box, tag)]
    if missing:
        raise FormatError(f"{where}: <bndbox> has no {', '.join(f'<{t}>' for t in missing)}")
    x0, y0, x1, y1 = (_number(_text(box, tag), tag, where) for tag in BOX_FIELDS)
    if x1 < x0 or y1 < y0:
        raise FormatError(
            f"{where}: xmax < xmin or ymax < ymin (xmin={x0:g} ymin={y0:g} xmax={x1:g} ymax={y1:g})"
        )
    text = _text(element, "shape") or "rect"
    if text not in KINDS:
        raise FormatError(f"{where}: <shape> {text!r} is not one of {', '.join(KINDS)}")
    kind = cast(Kind, text)
    points = _points(element, where)
    if kind in POINT_KINDS:
        if not points:
            raise FormatError(f"{where}: a {kind} needs its <points>")
        return RawShape(label, kind, points=points, where=where)
    if kind == "line" and points:
        if len(points) != 2:
            raise FormatError(f"{where}: a line needs 2 points, found {len(points)}")
        (px0, py0), (px1, py1) = points
        return RawShape(label, "line", coords=(px0, py0, px1, py1), where=where)
    return RawShape(label, kind, coords=(x0, y0, x1, y1), where=where)


def _points(element: ET.Element, where: str) -> tuple[Point, ...]:
    holder = element.find("points")
    if holder is None:
        return ()
    points = []
    for number, pt in enumerate(holder.findall("pt"), start=1):
        x, y = _text(pt, "x"), _text(pt, "y")
        points.append(
            (_number(x, f"point {number} x", where), _number(y, f"point {number} y", where))
        )
    return tuple(points)
