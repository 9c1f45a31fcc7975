"""Undo of one's own last change on the image, and the image's history of changes."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, clientside_callback, html
from dash.exceptions import PreventUpdate

from auth.canvas import canvas_of, editable_state
from auth.scoped import callback
from components import ids
from components.feedback import MESSAGE_OUTPUTS, message
from domain.changes import describe_event
from domain.records_state import RecordsState, known_of, state_from_data
from storage.errors import EditConflict, NothingToUndo, StorageError
from storage.runtime import current

SHOWN = 30  # newest events listed


@callback(
    Output(ids.HISTORY_COLLAPSE, "is_open"),
    Input(ids.HISTORY_OPEN, "n_clicks"),
    State(ids.HISTORY_COLLAPSE, "is_open"),
    prevent_initial_call=True,
)
def toggle_history(_clicks: Any, is_open: bool) -> bool:
    """The History link opens and closes the list."""
    return not is_open


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.HISTORY_UNDO, "n_clicks"),
    State(ids.RECORDS, "data"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    prevent_initial_call=True,
)
def undo_last_change(_clicks: Any, records: Any, image: Any, annotator: Any):
    """Put back what your newest change on this image changed (itself recorded)."""
    state, canvas = editable_state(records, canvas_of(image, annotator))
    if state.unsaved:
        return state.to_data(), *message("Save your changes first (Retry), then undo.", "info")
    try:
        after = current().store.undo_last(canvas.image_key, canvas.annotator, canvas.annotator)
    except NothingToUndo as exc:
        return state.to_data(), *message(str(exc), "info")
    except EditConflict as exc:
        return state.to_data(), *message(str(exc), "warning")
    except StorageError as exc:
        return state.to_data(), *message(f"Could not undo: {exc}")
    undone = RecordsState(
        canvas.image_key,
        canvas.annotator,
        after,
        rev=state.rev + 1,
        known=known_of(after),
        project=state.project,
    )
    return undone.to_data(), *message(None)


# The list is read from the server only while it is open: the browser passes the records
# on when they change or the list opens, and keeps them while it is closed.
clientside_callback(
    """function(records, isOpen) {
        return isOpen ? (records || {}) : window.dash_clientside.no_update;
    }""",
    Output(ids.HISTORY_ASK, "data"),
    Input(ids.RECORDS, "data"),
    Input(ids.HISTORY_COLLAPSE, "is_open"),
)


@callback(
    Output(ids.HISTORY_LIST, "children"),
    Input(ids.HISTORY_ASK, "data"),
    State(ids.HISTORY_COLLAPSE, "is_open"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    prevent_initial_call=True,
)
def show_history(records: Any, is_open: bool, image: Any, annotator: Any) -> object:
    """Your recorded changes to this image, newest first (only yours: the view is blind)."""
    canvas = canvas_of(image, annotator)
    if not is_open or canvas is None:
        raise PreventUpdate
    if state_from_data(records).image_key not in (None, canvas.image_key):
        raise PreventUpdate  # the records of the previous image: wait for this one's
    try:
        events = current().store.events(canvas.image_key, canvas.annotator)
    except StorageError as exc:
        return html.Span(f"History unavailable: {exc}", className="text-danger")
    if not events:
        return html.Span("No changes recorded on this image yet.", className="text-muted")
    rows = [
        html.Tr(
            [
                html.Td(e.at.strftime("%Y-%m-%d %H:%M:%S"), className="text-nowrap pe-2"),
                html.Td(
                    ("undo: " if e.undoes else "") + describe_event(e.action, e.before, e.after)
                ),
                html.Td(e.actor if e.actor != e.annotator else "", className="text-muted ps-2"),
            ]
        )
        for e in reversed(events[-SHOWN:])
    ]
    return html.Table(html.Tbody(rows), className="table table-sm mb-0")
