"""Our own tidy CSV: one row per shape, coordinates in original pixels.

Columns `image,annotator,label,kind,x0,y0,x1,y1,points`. Polygons and paths carry their
points as a JSON list of [x, y] (and their bounding box in x0..y1, for convenience); a row
with empty `kind` and `label` says the annotator looked at the image and found nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping

from domain.annotation import BOX_KINDS, KINDS, Point
from formats.model import (
    ExportSet,
    FormatError,
    Problems,
    RawImage,
    RawShape,
    bbox_of,
    decode_text,
    number_text,
)
from formats.spreadsheet import neutralise_row, restore

COLUMNS = ("image", "annotator", "label", "kind", "x0", "y0", "x1", "y1", "points")


def export_csv(data: ExportSet) -> bytes:
    """The tidy CSV of an export set, UTF-8, one row per shape (or per empty image); text
    that a spreadsheet would run as a formula is quoted (formats.spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in data.items:
        if not item.shapes:
            writer.writerow(
                neutralise_row([item.image.key, item.annotator, "", "", "", "", "", "", ""])
            )
        for shape in item.shapes:
            box = bbox_of(shape.kind, shape.coords, shape.points)
            corners = shape.coords if shape.kind in BOX_KINDS else box
            points = (
                json.dumps([[round(x, 4), round(y, 4)] for x, y in shape.points])
                if shape.points
                else ""
            )
            writer.writerow(
                neutralise_row(
                    [item.image.key, item.annotator, shape.label, shape.kind]
                    + [number_text(v) for v in corners]
                    + [points]
                )
            )
    return out.getvalue().encode("utf-8")


def read_rows(data: bytes, filename: str, columns: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, row) pairs of a CSV whose header must hold `columns`; each row maps
    those columns to their stripped cells, un-quoted as formats.spreadsheet.restore says
    (blank lines are skipped)."""
    reader = csv.reader(io.StringIO(decode_text(filename, data), newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise FormatError(f"{filename}: line 1: {exc}") from None
    missing = [name for name in columns if name not in header]
    if missing:
        raise FormatError(
            f"{filename}: line 1: missing column(s) {', '.join(missing)}; "
            f"expected {','.join(columns)}, found {','.join(header) or 'nothing'}"
        )
    wanted = [(name, header.index(name)) for name in columns]
    width = len(header)
    rows = []
    try:
        for cells in reader:
            if not cells:
                continue
            if len(cells) > width:
                raise FormatError(f"{filename}: line {reader.line_num}: more cells than columns")
            short = len(cells) < width
            row = {
                name: restore((cells[i] if not short or i < len(cells) else "").strip())
                for name, i in wanted
            }
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise FormatError(f"{filename}: line {reader.line_num}: {exc}") from None
    return rows


def image_rows(
    files: Mapping[str, bytes], columns: tuple[str, ...], problems: list[str]
) -> Iterator[tuple[str, dict]]:
    """(where, row) of each row of the CSV files that names its image; a row with an empty
    image cell is reported to `problems` instead."""
    for filename, data in files.items():
        for line, row in read_rows(data, filename, columns):
            where = f"{filename}: line {line}"
            if not row["image"]:
                problems.append(f"{where}: the image cell is empty")
                continue
            yield where, row


def cell_number(row: dict, name: str, where: str) -> float:
    """A numeric cell, or a FormatError naming the line and column."""
    try:
        return float(row[name])
    except ValueError:
        raise FormatError(f"{where}: {name} = {row[name]!r} is not a number") from None


def _points(text: str, where: str) -> tuple[Point, ...]:
    try:
        value = json.loads(text)
        return tuple((float(p[0]), float(p[1])) for p in value if len(p) == 2)
    except (ValueError, TypeError, IndexError, KeyError, RecursionError):
        raise FormatError(f"{where}: points must be a JSON list of [x, y] pairs") from None


def import_csv(files: Mapping[str, bytes], labels: tuple[str, ...] = ()) -> list[RawImage]:
    """Images and shapes of tidy CSV files; the annotator cell is kept (None when empty)."""
    groups: dict[tuple[str, str | None], list[RawShape]] = {}
    first_line: dict[tuple[str, str | None], str] = {}
    problems: list[str] = Problems()
    for where, row in image_rows(files, COLUMNS, problems):
        key = (row["image"], row["annotator"] or None)
        shapes = groups.setdefault(key, [])
        first_line.setdefault(key, where)
        try:
            shape = _shape(row, where)
        except FormatError as exc:
            problems.extend(exc.messages)
            continue
        if shape is not None:
            shapes.append(shape)
    if problems:
        raise FormatError(problems)
    return [
        RawImage(name=name, shapes=tuple(shapes), where=first_line[(name, who)], annotator=who)
        for (name, who), shapes in groups.items()
    ]


def _shape(row: dict, where: str) -> RawShape | None:
    kind, label = row["kind"], row["label"]
    if not kind and not label:
        return None  # the no-objects marker
    if kind not in KINDS:
        raise FormatError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if not label:
        raise FormatError(f"{where}: the label cell is empty")
    if kind in BOX_KINDS:
        coords = tuple(cell_number(row, name, where) for name in ("x0", "y0", "x1", "y1"))
        return RawShape(label, kind, coords=coords, where=where)
    if not row["points"]:
        raise FormatError(f"{where}: a {kind} needs its points")
    return RawShape(label, kind, points=_points(row["points"], where), where=where)
