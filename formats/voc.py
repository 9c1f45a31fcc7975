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
from xml.sax.saxutils import escape

from domain.annotation import KINDS, POINT_KINDS, Kind, Point
from formats.archive import zip_files
from formats.model import (
    ExportSet,
    FormatError,
    ImageAnnotations,
    Problems,
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
# A VOC file describes one image: some kB, under a MB with thousands of polygon points.
# ElementTree takes about 20 times a file's size in memory, so the cap keeps that small.
MAX_XML_BYTES = 16_000_000


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


_HEAD = """<?xml version='1.0' encoding='utf-8'?>
<annotation>
  <folder>{folder}</folder>
  <filename>{filename}</filename>
  <path>{path}</path>
  <source>
    <database>Concord</database>
  </source>
  <size>
    <width>{width}</width>
    <height>{height}</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
"""
_OBJECT = """  <object>
    <name>{name}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>{0}</xmin>
      <ymin>{1}</ymin>
      <xmax>{2}</xmax>
      <ymax>{3}</ymax>
    </bndbox>
"""
_POINT = "      <pt>\n        <x>{}</x>\n        <y>{}</y>\n      </pt>\n"


def _document(item: ImageAnnotations, shapes: list[Shape]) -> bytes:
    # Written from templates (ElementTree's serializer was most of a large export's time);
    # every text goes through escape().
    key = item.image.key
    parts = [
        _HEAD.format(
            folder=escape(posixpath.dirname(key)),
            filename=escape(posixpath.basename(key)),
            path=escape(key),
            width=item.image.width,
            height=item.image.height,
        )
    ]
    parts.extend(_object(shape) for shape in shapes)
    parts.append("</annotation>\n")
    return "".join(parts).encode("utf-8")


def _object(shape: Shape) -> str:
    box = (number_text(v) for v in bbox_of(shape.kind, shape.coords, shape.points))
    text = _OBJECT.format(*box, name=escape(shape.label))
    if shape.kind == "rect":
        return text + "  </object>\n"
    text += f"    <shape>{shape.kind}</shape>\n"
    if shape.kind == "line":
        x0, y0, x1, y1 = shape.coords
        points: tuple[Point, ...] = ((x0, y0), (x1, y1))  # the box alone loses direction
    elif shape.kind in POINT_KINDS:
        points = shape.points
    else:
        return text + "  </object>\n"  # a circle is its bounding box
    pts = "".join(_POINT.format(number_text(x), number_text(y)) for x, y in points)
    return text + f"    <points>\n{pts}    </points>\n  </object>\n"


class _NoDoctype(ET.TreeBuilder):
    """Refuses a DOCTYPE in any encoding, where the byte check cannot see it."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise FormatError("DTDs are not allowed")


def parse_xml(member: str, data: bytes) -> ET.Element:
    """The root element of an XML member, refusing DTDs (entity expansion attacks) and
    files larger than any VOC file."""
    if len(data) > MAX_XML_BYTES:
        raise FormatError(
            f"{member}: {len(data):,} bytes; a VOC XML file may have at most {MAX_XML_BYTES:,}"
        )
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
    problems = Problems()
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
    problems = Problems()
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
    # isdigit() let '²' and 5,000-digit numbers through, which int() refuses.
    if all(value.isdecimal() and len(value) <= 9 and int(value) > 0 for value in values):
        return (int(values[0]), int(values[1]))
    return None


def _number(text: str, what: str, where: str) -> float:
    return finite_number(text, lambda: f"{where}: {what} = {text!r} is not a number")


def _shape(element: ET.Element, where: str) -> RawShape:
    label = _text(element, "name")
    if not label:
        raise FormatError(f"{where}: no <name> (the label)")
    box = element.find("bndbox")
    if box is None:
        raise FormatError(f"{where}: no <bndbox>")
    texts = [_text(box, tag) for tag in BOX_FIELDS]
    missing = [tag for tag, text in zip(BOX_FIELDS, texts) if not text]
    if missing:
        raise FormatError(f"{where}: <bndbox> has no {', '.join(f'<{t}>' for t in missing)}")
    x0, y0, x1, y1 = (_number(text, tag, where) for tag, text in zip(BOX_FIELDS, texts))
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
