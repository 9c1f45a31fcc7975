"""The label picker: buttons (and keys 1-9, via assets/keyboard.js) choose the drawing label."""

from __future__ import annotations

from dash import ALL, Input, Output, callback, ctx
from dash.exceptions import PreventUpdate

from components import ids
from storage.runtime import current


@callback(
    Output(ids.LABEL, "data"),
    Input({"type": ids.LABEL_BUTTON, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick_label(clicks: list[int | None]) -> str:
    """The clicked button's label."""
    if not isinstance(clicks, list) or not any(clicks) or not isinstance(ctx.triggered_id, dict):
        raise PreventUpdate
    return str(ctx.triggered_id["index"])


@callback(
    Output({"type": ids.LABEL_BUTTON, "index": ALL}, "outline"),
    Output({"type": ids.LABEL_BUTTON, "index": ALL}, "style"),
    Input(ids.LABEL, "data"),
)
def mark_label(selected: str | None) -> tuple[list[bool], list[dict[str, str]]]:
    """Fill the selected label's button with its colour; outline the others."""
    labels = current().settings.labels
    chosen = selected if any(label.name == selected for label in labels) else labels[0].name
    outlines = [label.name != chosen for label in labels]
    styles = [
        {"borderColor": label.color, "backgroundColor": label.color, "color": "#fff"}
        if label.name == chosen
        else {"borderColor": label.color, "color": "#212529"}
        for label in labels
    ]
    return outlines, styles
