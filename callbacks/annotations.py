"""Every change to the current image's records: draw/move/erase, grid edits, deletes
(loading them comes with each move: callbacks/opening.py).

Each callback turns its input into new records with a pure function from domain/, saves
them at once through storage/ (autosave), and puts the result in the records store.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from dash import Input, Output, State, clientside_callback, ctx
from dash.exceptions import PreventUpdate

from auth.canvas import canvas_of, editable_state, not_assigned
from auth.scoped import callback
from auth.session import acts_as
from callbacks.opening import load_records as load_records  # tests open images with it
from callbacks.opening import ours, stored_state
from components import ids
from components.feedback import MESSAGE_OUTPUTS, message
from domain.annotation import utc_now
from domain.editing import apply_cell_edit, apply_shape_change, delete_records
from domain.errors import DomainError
from domain.records_state import RecordsState, state_from_data, tab_id_of
from domain.relayout import parse_relayout
from storage.autosave import save_checked
from storage.runtime import current
from workflows.label_hint import hint_drawn


def commit(
    state: RecordsState, records: tuple, problems: list[str], tab: Any
) -> tuple[object, ...]:
    """Save new records (if they changed) and report problems and save failures."""
    if not state.loaded:
        return state.to_data(), *message(
            "This image's saved shapes could not be loaded, so "
            "changes are not accepted: reload the page."
        )
    refused = not_assigned(state.image_key, state.annotator)
    if refused:
        return replace(state, rev=state.rev + 1).to_data(), *message(refused, "warning")
    if records != state.records or state.unsaved:
        state = save_checked(current(), replace(state, records=records), tab_id_of(tab))
    else:
        state = replace(state, rev=state.rev + 1)  # re-render: undo what the browser shows
    if state.notice:  # another tab changed these shapes first, or the server refused some
        return state.to_data(), *message([state.notice, *problems], "warning")
    return state.to_data(), *message(problems)


# Only shape changes go to the server: zoom, pan, dragmode and autosize (after every tab
# switch) arrive on the same property and stay in the browser.
clientside_callback(
    """function(relayout) {
        const keys = relayout && typeof relayout === "object" ? Object.keys(relayout) : [];
        const shapes = keys.some((key) => key.startsWith("shapes"));
        return shapes ? relayout : window.dash_clientside.no_update;
    }""",
    Output(ids.GRAPH_EDIT, "data"),
    Input(ids.GRAPH, "relayoutData"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.GRAPH_EDIT, "data"),
    State(ids.RECORDS, "data"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.LABEL, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def on_figure_change(
    relayout: Any, records: Any, image: Any, annotator: Any, label: Any, tab: Any = None
):
    """Shapes drawn, moved, resized or erased in the figure."""
    state, canvas = editable_state(records, canvas_of(image, annotator))
    change = parse_relayout(relayout, [r.id for r in state.records])
    if change.is_empty and not change.problems:
        raise PreventUpdate  # zoom, pan, autosize, dragmode...
    change = hint_drawn(current(), canvas, change, label or "")  # the head's label, if sure
    result = apply_shape_change(
        state.records,
        change,
        canvas,
        current().settings.labels,
        label or "",
        utc_now(),
        lambda: str(uuid.uuid4()),
    )
    return commit(state, result.records, list(result.problems), tab)


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.GRID, "cellValueChanged"),
    State(ids.RECORDS, "data"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def on_cell_edit(changes: Any, records: Any, image: Any, annotator: Any, tab: Any = None):
    """A label or coordinate typed in the grid; invalid values are explained and undone."""
    state, canvas = editable_state(records, canvas_of(image, annotator))
    new, problems = state.records, []
    for change in changes or []:
        column = change.get("colId")
        value = (change.get("data") or {}).get(column, change.get("value"))
        try:
            new = apply_cell_edit(
                new,
                change.get("rowId"),
                column,
                value,
                canvas,
                current().settings.labels,
                utc_now(),
            )
        except DomainError as exc:
            problems.append(f"{column}: {exc}")
    return commit(state, new, problems, tab)


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.DELETE_ROWS, "n_clicks"),
    State(ids.GRID, "selectedRows"),
    State(ids.RECORDS, "data"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def on_delete(
    _clicks: Any, selected: Any, records: Any, image: Any, annotator: Any, tab: Any = None
):
    """Delete the selected rows, and so their shapes."""
    state, _canvas = editable_state(records, canvas_of(image, annotator))
    chosen = {row.get("id") for row in selected or [] if isinstance(row, dict)}
    if not chosen:
        return state.to_data(), *message("Select a row in the table first.", "info")
    return commit(state, delete_records(state.records, chosen), [], tab)


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.RETRY, "n_clicks"),
    Input(ids.RETRY_TIMER, "n_intervals"),
    State(ids.RECORDS, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def retry_save(_clicks: Any, _ticks: Any, records: Any, tab: Any = None) -> tuple[object, ...]:
    """Try again to save records the server has not accepted yet; say what it refused."""
    state = state_from_data(records)
    if not state.unsaved or not acts_as(state.annotator or "") or not state.image_key:
        raise PreventUpdate  # nothing to save, or records claiming someone else
    if not ours(state):
        raise PreventUpdate  # another project's records: its own tab retries them
    refused = not_assigned(state.image_key, state.annotator)
    if refused:  # never theirs to store: show what is stored instead
        kept = stored_state(state.image_key, state.annotator or "", state.rev + 1, refused)
        return kept.to_data(), *message(kept.notice, "warning")
    saved = save_checked(current(), state, tab_id_of(tab))
    if saved.unsaved:  # the save status says why, with Retry; a click says it here too
        clicked = ctx.triggered_id == ids.RETRY
        return saved.to_data(), *message(saved.error if clicked else None)
    return saved.to_data(), *message(saved.notice, "warning")
