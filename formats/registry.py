"""The formats Concord reads and writes, by name, and how an upload reaches a codec."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from formats.archive import is_zip, unzip
from formats.coco import export_coco, import_coco
from formats.csv_normalized import export_csv_normalized, import_csv_normalized
from formats.csv_tidy import export_csv, import_csv
from formats.labelme import export_labelme, import_labelme
from formats.model import ExportSet, FormatError, RawImage
from formats.voc import export_voc, import_voc
from formats.yolo import export_yolo, import_yolo

Reader = Callable[[Mapping[str, bytes], tuple[str, ...]], list[RawImage]]


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
        Codec("csv", "CSV (tidy, pixels, every annotator)", "csv", export_csv, import_csv, False),
        Codec(
            "csv-normalized",
            "CSV normalized boxes (0..1)",
            "csv",
            export_csv_normalized,
            import_csv_normalized,
            False,
        ),
        Codec("coco", "COCO JSON", "json", export_coco, import_coco, False),
        Codec("voc", "Pascal VOC XML (zip)", "zip", export_voc, import_voc, True),
        Codec("yolo", "YOLO txt + data.yaml (zip)", "zip", export_yolo, import_yolo, True),
        Codec("labelme", "LabelMe JSON (zip)", "zip", export_labelme, import_labelme, True),
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
    files = unzip(data, filename) if is_zip(data) else {filename: data}
    if is_zip(data) and not codec.archive:
        raise FormatError(f"{filename}: a zip archive, but {codec.name} is a single file")
    return codec.read(files, labels)


def write_export(codec: Codec, data: ExportSet, **options: Any) -> bytes:
    """The exported file's bytes (options such as yolo's `segments` pass through)."""
    return codec.write(data, **options)
