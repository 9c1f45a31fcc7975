"""Previous/Next/jump, 'No objects' and 'Skip', the position indicator and progress."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from components import ids
from components.feedback import message
from domain.paging import resolve_key, step
from domain.records_state import RecordsState, state_from_data
from domain.status import ImageStatus, progress_of
from storage.autosave import autosave
from storage.errors import StorageError
from storage.runtime import current

MOVES = {ids.PREV: -1, ids.NEXT: 1, ids.NO_OBJECTS: 1, ids.SKIP: 1}


@callback(
    Output(ids.POSITION, "data"),
    Output(ids.JUMP, "value"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "is_open", allow_duplicate=True),
    Output(ids.MESSAGE, "color", allow_duplicate=True),
    Input(ids.PREV, "n_clicks"),
    Input(ids.NEXT, "n_clicks"),
    Input(ids.JUMP, "value"),
    Input(ids.NO_OBJECTS, "n_clicks"),
    Input(ids.SKIP, "n_clicks"),
    Input(ids.POSITION, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.RECORDS, "data"),
    prevent_initial_call="initial_duplicate",
)
def navigate(
    _prev: Any,
    _next: Any,
    jump: str | None,
    _empty: Any,
    _skip: Any,
    position: dict[str, Any] | None,
    annotator: str | None,
    records: dict[str, Any] | None,
) -> tuple[object, ...]:
    """Move to another image once the current one's changes are saved; record statuses."""
    keys = current().images.source.keys()
    wanted = (position or {}).get("key")
    here = resolve_key(keys, wanted)
    trigger = ctx.triggered_id
    if trigger not in MOVES and trigger != ids.JUMP:  # page load: settle on a real image
        gone = wanted and wanted != here
        text = f"{wanted} is no longer in the batch; showing {here}." if gone else None
        return {"key": here}, here, *message(text, "info")
    target = jump if trigger == ids.JUMP else step(keys, here, MOVES[trigger])
    if target == here and trigger == ids.JUMP:
        raise PreventUpdate
    refusal = _refusal(here, target, trigger, annotator, state_from_data(records))
    if refusal:
        return no_update, here, *refusal
    if target == here:  # Skip / No objects on the last image: stay, but show the change
        return {"key": here, "rev": (position or {}).get("rev", 0) + 1}, here, *message(None)
    return {"key": target}, target, *message(None)


def _refusal(
    here: str | None,
    target: str | None,
    trigger: Any,
    annotator: str | None,
    state: RecordsState,
) -> tuple[object, ...] | None:
    """Why the move cannot happen (as banner outputs), or None after recording any status."""
    services = current()
    if state.unsaved and state.image_key == here:
        state = autosave(services.store, state)
        if state.unsaved:
            return message(
                f"Not moving on: your changes to {here} are not saved yet ({state.error})."
            )
    if trigger in (ids.PREV, ids.NEXT) and target == here:
        end = "first" if trigger == ids.PREV else "last"
        return message(f"This is the {end} image of the batch.", "info")
    if trigger not in (ids.NO_OBJECTS, ids.SKIP):
        return None
    if not annotator or here is None:
        raise PreventUpdate
    if trigger == ids.NO_OBJECTS and state.belongs_to(here, annotator) and state.records:
        return message(
            "This image has shapes: delete them before marking it 'No objects'.", "warning"
        )
    status = ImageStatus.EMPTY if trigger == ids.NO_OBJECTS else ImageStatus.SKIPPED
    try:
        services.store.set_status(here, annotator, status)
    except StorageError as exc:
        return message(f"Could not record '{status.value}': {exc}")
    return None


@callback(
    Output(ids.IMAGE, "data"),
    Output(ids.POSITION_TEXT, "children"),
    Input(ids.POSITION, "data"),
)
def show_image(position: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Describe the current image for the figure: key, size, URL, or why it cannot be shown."""
    images = current().images
    keys = images.source.keys()
    key = resolve_key(keys, (position or {}).get("key"))
    if key is None:
        return {"key": None, "error": f"No images in {images.source.description}"}, "0 of 0"
    view: dict[str, Any] = {"key": key, "index": keys.index(key) + 1, "total": len(keys)}
    try:
        info = images.info(key)
        view.update(width=info.width, height=info.height, url=images.url(key), error=None)
    except StorageError as exc:
        view.update(width=100, height=100, url=None, error=str(exc))
    return view, f"{view['index']} of {view['total']} · {key}"


@callback(
    Output(ids.PROGRESS, "children"),
    Output(ids.PROGRESS_TEXT, "children"),
    Input(ids.RECORDS, "data"),
    Input(ids.ANNOTATOR, "data"),
)
def show_progress(_records: Any, annotator: str | None) -> tuple[object, str]:
    """A stacked bar of done / empty / skipped images for this annotator."""
    if not annotator:
        raise PreventUpdate
    services = current()
    try:
        progress = progress_of(
            services.images.source.keys(), services.store.statuses_for(annotator)
        )
    except StorageError as exc:
        return no_update, f"Progress unavailable: {exc}"
    bars = dbc.Progress(
        [
            dbc.Progress(value=progress.percent(progress.done), color="success", bar=True),
            dbc.Progress(value=progress.percent(progress.empty), color="info", bar=True),
            dbc.Progress(value=progress.percent(progress.skipped), color="warning", bar=True),
        ],
        style={"height": "1.1rem"},
    )
    text = (
        f"{progress.finished} of {progress.total} images done "
        f"({progress.done} with shapes, {progress.empty} with no objects, "
        f"{progress.skipped} skipped)"
    )
    return bars, text
