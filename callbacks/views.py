"""Views rendered from the records store: the figure's shapes, the grid rows, save status."""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, Patch, callback, clientside_callback, ctx, html

from components import ids
from components.figure import image_figure, newshape_for, shapes_of
from components.grid import row_of
from domain.records_state import state_from_data
from storage.runtime import current

# Fits the axes to a new image once Plotly has drawn it (assets/fit_image.js).
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="fitImage"),
    Output(ids.FITTED, "data"),
    Input(ids.GRAPH, "figure"),
)


@callback(
    Output(ids.GRAPH, "figure"),
    Input(ids.IMAGE, "data"),
    Input(ids.RECORDS, "data"),
    Input(ids.GRID, "selectedRows"),
    Input(ids.LABEL, "data"),
)
def render_figure(image: Any, records: Any, selected_rows: Any, label: Any) -> object:
    """A new figure when the image changes; otherwise a Patch of shapes and drawing style."""
    labels = current().settings.labels
    chosen = label if any(lab.name == label for lab in labels) else labels[0].name
    newshape = newshape_for(chosen, labels)
    image = image if isinstance(image, dict) else {}
    state = state_from_data(records)
    shown = state.records if state.image_key and state.image_key == image.get("key") else ()
    rows = selected_rows if isinstance(selected_rows, list) else []
    selected = {row.get("id") for row in rows if isinstance(row, dict)}
    shapes = shapes_of(shown, labels, selected)
    if ctx.triggered_id in (None, ids.IMAGE) or f"{ids.IMAGE}.data" in ctx.triggered_prop_ids:
        return image_figure(
            _text(image.get("key")) or "none",
            _text(image.get("url")) or None,
            _size(image.get("width")),
            _size(image.get("height")),
            shapes,
            newshape,
            _text(image.get("error")) or None,
        )
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    patch["layout"]["newshape"] = newshape
    return patch


@callback(Output(ids.GRID, "rowData"), Input(ids.RECORDS, "data"))
def render_rows(records: Any) -> list[dict[str, Any]]:
    """One row per record of the current image."""
    return [row_of(r) for r in state_from_data(records).records]


@callback(
    Output(ids.SAVE_STATUS, "children"),
    Output(ids.RETRY, "style"),
    Output(ids.RETRY_TIMER, "disabled"),
    Input(ids.RECORDS, "data"),
)
def render_save_status(records: Any) -> tuple[object, dict[str, str], bool]:
    """'All changes saved', why a change was refused (another tab's edit came first), or why
    nothing is saved, with a Retry button (and a retry every 5 s)."""
    state = state_from_data(records)
    hidden = {"display": "none"}
    if state.unsaved:
        text = html.Span(f"Not saved: {state.error}", className="text-danger")
        return text, {}, False
    if not state.loaded:
        return html.Span(f"Could not load: {state.error}", className="text-danger"), hidden, True
    if state.notice:
        return html.Span(f"⚠ {state.notice}", className="text-warning-emphasis"), hidden, True
    return html.Span("✓ All changes saved", className="text-success"), hidden, True


def _text(value: Any) -> str:
    """A text field of the image store ('' when the browser sent something else)."""
    return value if isinstance(value, str) else ""


def _size(value: Any) -> int:
    """A width or height of the image store (100 when the browser sent something else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 100
