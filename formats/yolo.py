"""YOLO in the Ultralytics layout: `data.yaml` and `labels/<key without extension>.txt`.

Each line is `class cx cy w h`, the box's centre and size as fractions (0..1) of the
image's width and height. Every shape is written as its bounding box (lossy for all but
rectangles) unless `segments` asks for polygons as `class x1 y1 x2 y2 ...` lines. An
empty .txt is an image looked at and found empty. YOLO files do not state image sizes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from domain.shape_rules import MAX_SHAPES_PER_IMAGE
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
    cut,
    decode_text,
    finite_number,
)
from formats.voc import member_name

DATA_YAML = "data.yaml"
# A data.yaml names some classes and folders: a few kB even for a thousand classes.
MAX_YAML_BYTES = 1_000_000


# A data.yaml is two or three levels deep; deeper nesting only exhausts the parser.
MAX_YAML_DEPTH = 20
# libyaml (C) when PyYAML has it: ten times faster than the pure-Python loader.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _plain_yaml_problem(text: str) -> str | None:
    """Why a YAML text is refused before it is built, or None: anchors and aliases (a
    data.yaml never needs them, and a few hundred bytes of nested aliases expand to
    gigabytes: 'billion laughs') and deep nesting. Its events are read, not composed."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1
            return f"line {line}: YAML anchors and aliases (& and *) are not allowed"
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return f"nested too deeply (over {MAX_YAML_DEPTH} levels) to be a {DATA_YAML}"
        elif isinstance(event, _CLOSES):
            depth -= 1
    return None


def export_yolo(data: ExportSet, segments: bool = False) -> bytes:
    """A zip of data.yaml and one label file per image (items of one image share it)."""
    classes = {label: index for index, label in enumerate(data.labels)}
    for item in data.items:
        for shape in item.shapes:
            # A label since dropped from the project still gets a class, after the others.
            classes.setdefault(shape.label, len(classes))
    files: dict[str, bytes] = {DATA_YAML: _data_yaml(tuple(classes))}
    for key, items in by_image(data.items).items():
        lines = [
            _line(shape, classes[shape.label], item, segments)
            for item in items
            for shape in item.shapes
        ]
        text = "".join(line + "\n" for line in lines)
        files[member_name(key, "labels", ".txt", files)] = text.encode("utf-8")
    return zip_files(files)


def _data_yaml(names: tuple[str, ...]) -> bytes:
    document = {
        "path": ".",
        "train": "images",
        "val": "images",
        "nc": len(names),
        "names": dict(enumerate(names)),
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")


def _line(shape: Shape, class_id: int, item: ImageAnnotations, segments: bool) -> str:
    width, height = item.image.width, item.image.height
    if width <= 0 or height <= 0:
        raise FormatError(f"{item.image.key}: the image size is unknown ({width}x{height})")
    if segments and shape.kind == "polygon" and len(shape.points) >= 3:
        values = [v for x, y in shape.points for v in (x / width, y / height)]
    else:
        x0, y0, x1, y1 = bbox_of(shape.kind, shape.coords, shape.points)
        values = [
            (x0 + x1) / 2 / width,
            (y0 + y1) / 2 / height,
            (x1 - x0) / width,
            (y1 - y0) / height,
        ]
    return " ".join([str(class_id)] + [f"{v:.6f}" for v in values])


def import_yolo(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
    """Images of the label files under a labels/ folder (or of one uploaded .txt);
    class names come from data.yaml, or else are the project's `labels` in order."""
    names, source = _class_names(files, labels)
    members = _label_members(files)
    if not members:
        raise FormatError("no YOLO label files found (.txt files under a labels/ folder)")
    images: list[RawImage] = []
    problems = Problems()
    for member, name in members:
        shapes: list[RawShape] = []
        try:
            text = decode_text(member, files[member])
        except FormatError as exc:
            problems.extend(exc.messages)
            continue
        for number, line in _content_lines(text):
            if len(shapes) == MAX_SHAPES_PER_IMAGE:
                problems.append(
                    f"{member}: line {number}: more than {MAX_SHAPES_PER_IMAGE:,} shapes; "
                    f"an image may hold at most {MAX_SHAPES_PER_IMAGE:,} per annotator"
                )
                break  # the rest cannot be imported: do not spend memory on it
            try:
                shapes.append(_shape(line, f"{member}: line {number}", names, source))
            except FormatError as exc:
                problems.extend(exc.messages)
        images.append(RawImage(name=name, shapes=tuple(shapes), where=member))
    if problems:
        raise FormatError(problems)
    return images


_CONTENT_LINE = re.compile(r"^[^\S\n]*(\S[^\n]*)", re.MULTILINE)


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of the lines that are not blank, found without making a
    string per line (a file of millions of blank lines costs no memory)."""
    number, counted = 1, 0
    for match in _CONTENT_LINE.finditer(text):
        number += text.count("\n", counted, match.start())
        counted = match.start()
        yield number, match.group(1)


def _parts(member: str) -> tuple[str, ...]:
    # Zips made on Windows sometimes use backslashes.
    return PurePosixPath(member.replace("\\", "/")).parts


def _class_names(files: Mapping[str, bytes], labels: tuple[str, ...]) -> tuple[dict[int, str], str]:
    """Class id -> name, and how messages call that list."""
    found = sorted((m for m in files if _parts(m)[-1] == DATA_YAML), key=lambda m: len(_parts(m)))
    if not found:
        return dict(enumerate(labels)), f"the project's {len(labels)} labels"
    member = found[0]  # the shallowest, if several
    document = _load_yaml(member, files[member])
    raw = document.get("names") if isinstance(document, dict) else None
    if isinstance(raw, list):
        names = dict(enumerate(str(name) for name in raw))
    elif isinstance(raw, dict):
        try:
            names = {int(key): str(name) for key, name in raw.items()}
        except (TypeError, ValueError):
            raise FormatError(f"{member}: the ids of 'names' must be integers") from None
    else:
        raise FormatError(f"{member}: 'names' must be a list or a mapping of id: name")
    return names, f"{DATA_YAML}'s {len(names)} names"


def _load_yaml(member: str, data: bytes) -> Any:
    """The YAML document of a data.yaml, or a FormatError saying why it is refused."""
    if len(data) > MAX_YAML_BYTES:
        raise FormatError(
            f"{member}: {len(data):,} bytes; a {DATA_YAML} may have at most {MAX_YAML_BYTES:,}"
        )
    try:
        text = data.decode("utf-8-sig")
        problem = _plain_yaml_problem(text)
        if problem is None:
            return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except RecursionError:
        problem = f"nested too deeply to be a {DATA_YAML}"
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # ValueError also covers bad bytes, and values the safe loader cannot build
        # (a 5,000-digit number, a 99th month).
        problem = f"not readable YAML ({cut(_one_line(exc), 200)})"
    raise FormatError(f"{member}: {problem}")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _label_members(files: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(member, image name) of each label file: the path after the last labels/ folder,
    without .txt; a lone uploaded .txt names its image by its own stem."""
    texts = [m for m in files if m.lower().endswith(".txt")]
    members = []
    for member in texts:
        parts = _parts(member)
        folders = [i for i, part in enumerate(parts[:-1]) if part == "labels"]
        if folders:
            name = "/".join(parts[folders[-1] + 1 :])
            members.append((member, name[: -len(".txt")]))
    if not members and len(files) == 1 and texts:
        members.append((texts[0], _parts(texts[0])[-1][: -len(".txt")]))
    return members


def _shape(line: str, where: str, names: Mapping[int, str], source: str) -> RawShape:
    tokens = line.split()
    count = len(tokens)
    if count != 5 and (count % 2 == 0 or count < 7):
        raise FormatError(
            f"{where}: expected 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 ...', "
            f"found {count} value(s)"
        )
    class_id = _class_id(tokens[0], where)
    if class_id not in names:
        raise FormatError(f"{where}: class id {tokens[0]} is not in {source}")
    try:
        values = [float(token) for token in tokens[1:]]
    except ValueError:
        values = [math.nan]
    if not all(map(math.isfinite, values)):
        for position, token in enumerate(tokens[1:], 2):  # find the culprit for the message
            finite_number(token, f"{where}: value {position} ({token!r}) is not a number")
    label = names[class_id]
    if count == 5:
        cx, cy, w, h = values
        if w < 0 or h < 0:
            raise FormatError(f"{where}: negative width or height (w={w:g} h={h:g})")
        coords = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        return RawShape(label, "rect", coords=coords, where=where, normalized=True)
    points = tuple(zip(values[0::2], values[1::2]))
    return RawShape(label, "polygon", points=points, where=where, normalized=True)


def _class_id(token: str, where: str) -> int:
    try:
        return int(token)
    except ValueError:
        pass
    message = f"{where}: class id {token!r} is not an integer"
    value = finite_number(token, message)  # some tools write "3.0"
    if not value.is_integer():
        raise FormatError(message)
    return int(value)
