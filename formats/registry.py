"""The formats Concord reads and writes, by name, and how an upload reaches a codec."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.labels import MAX_LABEL_LENGTH
from formats.archive import is_zip, unzip
from formats.coco import export_coco, import_coco
from formats.csv_normalized import export_csv_normalized, import_csv_normalized
from formats.csv_tidy import export_csv, import_csv
from formats.labelme import export_labelme, import_labelme
from formats.model import (
    ExportSet,
    FormatError,
    Problems,
    RawImage,
    RawShape,
    cut,
    cut_middle,
    label_problem,
)
from formats.voc import export_voc, import_voc
from formats.yolo import export_yolo, import_yolo

Reader = Callable[[Mapping[str, bytes], tuple[str, ...]], list[RawImage]]
# No image source has longer keys (S3 allows 1,024 bytes): a longer name matches nothing.
MAX_NAME_CHARS = 1024
# `where` travels into later messages (resolve's): keep it short.
MAX_WHERE_CHARS = 200


def bounded(read: Reader) -> Reader:
    """A reader whose images carry no label or name too long to be a project's, and
    short `where`s: every message made from them later stays short."""

    def read_bounded(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
        problems = Problems()
        images = [_checked(image, problems) for image in read(files, labels)]
        if problems:
            raise FormatError(problems)
        return images

    read_bounded.__doc__ = read.__doc__
    return read_bounded


def _checked(image: RawImage, problems: list[str]) -> RawImage:
    where = _short(image.where)
    if len(image.name) > MAX_NAME_CHARS:
        problems.append(
            f"{where}: the image name {cut(image.name)!r} ({len(image.name):,} characters) "
            f"is longer than {MAX_NAME_CHARS:,} characters"
        )
    shapes = image.shapes
    if any(len(s.label) > MAX_LABEL_LENGTH or len(s.where) > MAX_WHERE_CHARS for s in shapes):
        shapes = tuple(_short_shape(shape, problems) for shape in shapes)
    if where is image.where and shapes is image.shapes:
        return image
    return RawImage(image.name, shapes, where, image.annotator, image.size)


def _short_shape(shape: RawShape, problems: list[str]) -> RawShape:
    where = _short(shape.where)
    problem = label_problem(shape.label, where)
    if problem is not None:
        problems.append(problem)
    return RawShape(shape.label, shape.kind, shape.coords, shape.points, where, shape.normalized)


def _short(where: str) -> str:
    return where if len(where) <= MAX_WHERE_CHARS else cut_middle(where, MAX_WHERE_CHARS)


@dataclass(frozen=True)
class Codec:
    """One format: its name, what it is called in the UI, and its two codecs."""

    name: str
    title: str
    extension: str  # of the exported file: csv, json or zip
    write: Callable[..., bytes]
    read: Reader
    archive: bool  # exports are zips; imports may be a zip or a single member file


CODECS: dict[str, Codec] = {
    codec.name: codec
    for codec in (
        Codec(
            "csv",
            "CSV (tidy, pixels, every annotator)",
            "csv",
            export_csv,
            bounded(import_csv),
            False,
        ),
        Codec(
            "csv-normalized",
            "CSV normalized boxes (0..1)",
            "csv",
            export_csv_normalized,
            bounded(import_csv_normalized),
            False,
        ),
        Codec("coco", "COCO JSON", "json", export_coco, bounded(import_coco), False),
        Codec("voc", "Pascal VOC XML (zip)", "zip", export_voc, bounded(import_voc), True),
        Codec("yolo", "YOLO txt + data.yaml (zip)", "zip", export_yolo, bounded(import_yolo), True),
        Codec(
            "labelme", "LabelMe JSON (zip)", "zip", export_labelme, bounded(import_labelme), True
        ),
    )
}
FORMAT_NAMES: tuple[str, ...] = tuple(CODECS)


def codec_for(name: str) -> Codec:
    """The codec called `name`, or a FormatError listing the known ones."""
    try:
        return CODECS[name]
    except KeyError:
        raise FormatError(
            f"unknown format {name!r}: choose one of {', '.join(FORMAT_NAMES)}"
        ) from None


def read_upload(
    codec: Codec, filename: str, data: bytes, labels: tuple[str, ...]
) -> list[RawImage]:
    """A file's images: archives are unpacked; a single member file is read as it is."""
    if not data:
        raise FormatError(f"{filename}: the file is empty")
    if is_zip(data) and not codec.archive:
        raise FormatError(f"{filename}: a zip archive, but {codec.name} is a single file")
    files = unzip(data, filename) if is_zip(data) else {filename: data}
    return codec.read(files, labels)


def write_export(codec: Codec, data: ExportSet, **options: Any) -> bytes:
    """The exported file's bytes (options such as yolo's `segments` pass through)."""
    return codec.write(data, **options)
