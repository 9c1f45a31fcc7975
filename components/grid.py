"""The annotation grid: rows from records, and its column definitions."""

from __future__ import annotations

from typing import Any

from domain.annotation import BOX_KINDS, Annotation
from domain.geometry import format_points
from domain.labels import Label, offered

# AG Grid's options for tables where a click selects one row (no checkboxes).
SINGLE_ROW_SELECTION = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}

_BOX_ROW = "['rect','circle','line'].includes(params.data.kind)"


def row_of(record: Annotation) -> dict[str, Any]:
    """One grid row; coordinates rounded for reading, points as 'x,y; x,y'."""
    row: dict[str, Any] = {
        "id": record.id,
        "label": record.label,
        "kind": record.kind,
        "x0": None,
        "y0": None,
        "x1": None,
        "y1": None,
        "points": "",
        "updated": record.updated_at.strftime("%H:%M:%S"),
    }
    if record.kind in BOX_KINDS:
        row.update({k: round(v, 1) for k, v in zip(("x0", "y0", "x1", "y1"), record.coords)})
    else:
        row["points"] = format_points(record.points)
    return row


def column_defs(labels: tuple[Label, ...]) -> list[dict[str, Any]]:
    """Columns: label (dropdown), kind, corners (box kinds), points (polygons, paths), time.

    The corners keep a width that shows "1234.5" whole; the other columns share what is
    left of the grid's width (the grid sizes them to fit, measuring no cell)."""
    coord = {
        "editable": {"function": _BOX_ROW},
        "cellDataType": "text",  # typed text is validated on the server with a clear message
        "width": 60,
        "suppressSizeToFit": True,
        "type": "rightAligned",
    }
    return [
        {
            "field": "label",
            "editable": True,
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": [label.name for label in offered(labels)]},
            "width": 96,
            "minWidth": 84,
        },
        {"field": "kind", "width": 76, "minWidth": 74},
        *({"field": name, **coord} for name in ("x0", "y0", "x1", "y1")),
        {
            "field": "points",
            "editable": {"function": f"!{_BOX_ROW}"},
            "cellDataType": "text",
            "width": 100,
            "minWidth": 60,
            "tooltipField": "points",
        },
        {"field": "updated", "width": 80, "minWidth": 78},
        {"field": "id", "hide": True},
    ]
