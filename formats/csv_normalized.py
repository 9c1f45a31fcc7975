"""Normalized box CSV, as Imannotate writes it: `image,label,x0,y0,x1,y1` in 0..1.

Every shape becomes its bounding box. A row with an empty label and empty coordinates
says the image was looked at and holds nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from formats.csv_tidy import cell_number, image_rows
from formats.model import ExportSet, FormatError, Problems, RawImage, RawShape, bbox_of
from formats.spreadsheet import neutralise_row

COLUMNS = ("image", "label", "x0", "y0", "x1", "y1")


def export_csv_normalized(data: ExportSet) -> bytes:
    """One row per shape's bounding box, as fractions of the image's width and height; text
    that a spreadsheet would run as a formula is quoted (formats.spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in data.items:
        width, height = item.image.width, item.image.height
        if not item.shapes:
            writer.writerow(neutralise_row([item.image.key, "", "", "", "", ""]))
        for shape in item.shapes:
            x0, y0, x1, y1 = bbox_of(shape.kind, shape.coords, shape.points)
            values = (x0 / width, y0 / height, x1 / width, y1 / height)
            cells = [item.image.key, shape.label] + [f"{v:.8f}" for v in values]
            writer.writerow(neutralise_row(cells))
    return out.getvalue().encode("utf-8")


def import_csv_normalized(
    files: Mapping[str, bytes], labels: tuple[str, ...] = ()
) -> list[RawImage]:
    """Boxes (as rectangles with normalized coordinates) of normalized CSV files."""
    groups: dict[str, list[RawShape]] = {}
    first_line: dict[str, str] = {}
    problems: list[str] = Problems()
    for where, row in image_rows(files, COLUMNS, problems):
        shapes = groups.setdefault(row["image"], [])
        first_line.setdefault(row["image"], where)
        cells = [row[name] for name in ("x0", "y0", "x1", "y1")]
        if not row["label"] and not any(cells):
            continue  # the no-objects marker
        try:
            coords = tuple(cell_number(row, name, where) for name in COLUMNS[2:])
        except FormatError as exc:
            problems.extend(exc.messages)
            continue
        if not row["label"]:
            problems.append(f"{where}: the label cell is empty")
        elif not all(0.0 <= v <= 1.0 for v in coords):
            problems.append(f"{where}: coordinates must lie between 0 and 1, got {cells}")
        else:
            shapes.append(RawShape(row["label"], "rect", coords, where=where, normalized=True))
    if problems:
        raise FormatError(problems)
    return [RawImage(name, tuple(shapes), first_line[name]) for name, shapes in groups.items()]
