"""What the codecs exchange: shapes in original pixels, grouped per image and annotator.

Export codecs take an `ExportSet` and return bytes. Import codecs return `RawImage`s,
which still name images as the file does (and may hold normalized coordinates); `resolve`
in formats/resolve.py checks them against the image source and the label set.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domain.annotation import Kind, Point
from domain.labels import MAX_LABEL_LENGTH

# A refusal lists at most this many problems (then says how many more), each cut to this
# many characters: a file may hold millions of bad lines or a megabyte-long name, and the
# message goes to a browser.
MAX_MESSAGES = 50
MAX_MESSAGE_CHARS = 300
# A label or name echoed inside a message is cut to this many characters.
SHOWN_CHARS = 80


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` if it has at most `limit` characters, else its start and its length."""
    if len(text) <= limit:
        return text
    tail = f"... ({len(text):,} characters)"
    return text[: max(limit - len(tail), 0)] + tail


def cut_middle(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: a long one keeps its start and its end
    (where a message's reason is), and says how long it was."""
    if len(text) <= limit:
        return text
    middle = f" ... ({len(text):,} characters) ... "
    tail = limit // 4
    return text[: max(limit - len(middle) - tail, 0)] + middle + text[-tail:]


def cut_message(message: str) -> str:
    """A message cut to MAX_MESSAGE_CHARS."""
    return cut_middle(message, MAX_MESSAGE_CHARS)


_BRIEF = reprlib.Repr()
_BRIEF.maxstring = _BRIEF.maxother = SHOWN_CHARS
_BRIEF.maxlevel, _BRIEF.maxlist, _BRIEF.maxdict = 3, 6, 4


def brief(value: object) -> str:
    """A value from a file as a message shows it: its repr, cut short whatever its size
    or depth (reprlib stops early, so a huge value costs nothing to show)."""
    return _BRIEF.repr(value)


class FormatError(ValueError):
    """A file cannot be read; `messages` name the file, line or record of each problem
    (at most MAX_MESSAGES of them, each at most MAX_MESSAGE_CHARS long, then a count)."""

    def __init__(self, messages: list[str] | str) -> None:
        given = [messages] if isinstance(messages, str) else messages
        more = len(given) - MAX_MESSAGES + getattr(given, "dropped", 0)
        self.messages = [cut_message(m) for m in given[:MAX_MESSAGES]]
        if more > 0:
            self.messages.append(f"... and {more:,} more problems")
        super().__init__("; ".join(self.messages[:5]))


class Problems(list[str]):
    """The problems a reader finds: it keeps the first MAX_MESSAGES and counts the rest
    (a file of a million bad lines must not build a million messages)."""

    dropped = 0

    def append(self, message: str) -> None:
        """Keep the message (cut to MAX_MESSAGE_CHARS), or count it past MAX_MESSAGES."""
        if len(self) < MAX_MESSAGES:
            super().append(cut_message(message))
        else:
            self.dropped += 1

    def extend(self, messages: Iterable[str]) -> None:
        """Append each message."""
        for message in messages:
            self.append(message)


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


def label_problem(label: str, where: str) -> str | None:
    """Why a label read from a file can be no project label (it is longer than any label
    may be), or None. Checked by the readers, so no message ever echoes a huge label."""
    if len(label) <= MAX_LABEL_LENGTH:
        return None
    return (
        f"{where}: the label {cut(label)!r} ({len(label):,} characters) is longer than "
        f"{MAX_LABEL_LENGTH} characters, the longest a label may be"
    )
