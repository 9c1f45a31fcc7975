"""What the codecs exchange: shapes in original pixels, grouped per image and annotator.

Export codecs take an `ExportSet` and return bytes. Import codecs return `RawImage`s,
which still name images as the file does (and may hold normalized coordinates); `resolve`
in formats/resolve.py checks them against the image source and the label set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domain.annotation import Kind, Point


class FormatError(ValueError):
    """A file cannot be read; `messages` name the file, line or record of each problem."""

    def __init__(self, messages: list[str] | str) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages[:5]))


@dataclass(frozen=True)
class ImageRef:
    """An image of the source: its key and size in original pixels."""

    key: str
    width: int
    height: int


@dataclass(frozen=True)
class Shape:
    """A shape in original pixels: rect/circle/line use coords (x0, y0, x1, y1),
    polygon/path use points. A circle's coords are its bounding box."""

    label: str
    kind: Kind
    coords: tuple[float, ...] = ()
    points: tuple[Point, ...] = ()
    score: float | None = None  # a detector's confidence; COCO writes it, as results do


@dataclass(frozen=True)
class ImageAnnotations:
    """One annotator's finished work on one image; no shapes means 'looked, found none'."""

    image: ImageRef
    annotator: str
    shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class ExportSet:
    """Everything one export writes. `labels` fixes class ids: index i is class i
    (COCO category i + 1)."""

    labels: tuple[str, ...]
    items: tuple[ImageAnnotations, ...]


@dataclass(frozen=True)
class RawShape:
    """A shape as a file gives it. With `normalized`, coordinates are fractions (0..1)
    of the image's width and height. `where` names its file and line or record."""

    label: str
    kind: Kind
    coords: tuple[float, ...] = ()
    points: tuple[Point, ...] = ()
    where: str = ""
    normalized: bool = False


@dataclass(frozen=True)
class RawImage:
    """One image's shapes as a file gives them.

    `name` is the image as the file names it (a source key, or only a file name);
    `annotator` is None unless the file says who drew them; `size` is (width, height)
    when the file states it."""

    name: str
    shapes: tuple[RawShape, ...]
    where: str
    annotator: str | None = None
    size: tuple[int, int] | None = None


def bbox_of(
    kind: str, coords: tuple[float, ...], points: tuple[Point, ...]
) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) with x0 <= x1 and y0 <= y1 enclosing a shape."""
    if coords:
        x0, y0, x1, y1 = coords
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def number_text(value: float) -> str:
    """A coordinate as text: short, and exact enough to round-trip (no '1e-05')."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def by_image(items: Iterable[ImageAnnotations]) -> dict[str, list[ImageAnnotations]]:
    """Items grouped by image key, images in first-seen order: the items of several
    annotators on one image go to the same file or entry."""
    merged: dict[str, list[ImageAnnotations]] = {}
    for item in items:
        merged.setdefault(item.image.key, []).append(item)
    return merged


def decode_text(filename: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped), or a FormatError naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{filename}: not UTF-8 text (byte {exc.start})") from None


def finite_number(text: str, message: str | Callable[[], str]) -> float:
    """`text` as a float, or FormatError(message) when it is no number, nan or infinite.
    A message may be a function, called only then (imports parse numbers by the million)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FormatError(message if isinstance(message, str) else message())
    return value
