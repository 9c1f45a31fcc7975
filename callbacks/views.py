"""Views rendered from the records store: the figure's shapes, the grid rows, save status.

A move sends its new figure, rows and save status itself (callbacks.navigation.move); the
callback here redraws them after any other change of the records, the selection or the
label."""

from __future__ import annotations

from typing import Any

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    clientside_callback,
    ctx,
    no_update,
)
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from callbacks.opening import figure_of
from callbacks.opening import render_rows as render_rows  # the views, for tests too
from callbacks.opening import render_save_status as render_save_status
from components import ids

# Fits the axes to a new image once Plotly has drawn it (assets/fit_image.js).
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="fitImage"),
    Output(ids.FITTED, "data"),
    Input(ids.GRAPH, "figure"),
)

# New records go to the server to be drawn unless they are those a move just drew, or
# no move has drawn a figure yet (the records local storage brings back at load).
clientside_callback(
    """function(records, rendered) {
        const drawn = !rendered || (records && records.image_key === rendered.key
            && records.rev === rendered.rev);
        return drawn ? window.dash_clientside.no_update : (records || {});
    }""",
    Output(ids.RENDER_ASK, "data"),
    Input(ids.RECORDS, "data"),
    State(ids.RENDERED, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.GRAPH, "figure", allow_duplicate=True),
    Output(ids.GRID, "rowData", allow_duplicate=True),
    Output(ids.SAVE_STATUS, "children", allow_duplicate=True),
    Output(ids.RETRY, "style", allow_duplicate=True),
    Output(ids.RETRY_TIMER, "disabled", allow_duplicate=True),
    State(ids.IMAGE, "data"),
    State(ids.RECORDS, "data"),
    Input(ids.GRID, "selectedRows"),
    Input(ids.LABEL, "data"),
    Input(ids.RENDER_ASK, "data"),
    State(ids.RENDERED, "data"),
    prevent_initial_call=True,
)
def render(
    image: Any,
    records: Any,
    selected_rows: Any,
    label: Any,
    _ask: Any = None,
    rendered: Any = True,
) -> tuple[object, ...]:
    """The figure's shapes, and with new records the grid rows and the save status."""
    if not rendered:
        raise PreventUpdate  # no figure to patch yet: the first move draws it
    figure = render_figure(image, records, selected_rows, label)
    if ctx.triggered_id != ids.RENDER_ASK:
        return figure, no_update, no_update, no_update, no_update
    return figure, render_rows(records), *render_save_status(records)


def render_figure(image: Any, records: Any, selected_rows: Any, label: Any) -> object:
    """A new figure when the image changes; otherwise a Patch of shapes and drawing style."""
    new = ctx.triggered_id in (None, ids.IMAGE) or f"{ids.IMAGE}.data" in ctx.triggered_prop_ids
    return figure_of(image, records, selected_rows, label, new)
