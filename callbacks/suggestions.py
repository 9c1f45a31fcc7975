"""Suggest on the annotate page: the model's shapes on the current image, accepted (they
become the labeler's own, through the same autosave as a drawn shape) or rejected.

Every callback here checks on the server that suggestions are offered (SUGGESTIONS, the
detector, and the live annotators-per-image and repeat settings: workflows.suggest.offer),
as the role and assignment guards do, whatever the page shows. Accepting also passes the
assignment guard and the "loaded" check a drawn shape passes.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from dash import ALL, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from auth.canvas import canvas_of, editable_state, not_assigned
from auth.scoped import callback
from callbacks.opening import suggest_controls
from components import ids
from components.feedback import MESSAGE_OUTPUTS, message
from components.figure import base_trace
from components.suggestions import (
    status_text,
    suggestion_rows,
    suggestion_traces,
)
from domain.annotation import utc_now
from domain.editing import Canvas
from domain.records_state import RecordsState, tab_id_of
from domain.suggestions import (
    ACCEPT,
    REJECT,
    Decision,
    Suggestion,
    SuggestionsState,
    accepted,
    shown,
    suggestions_from_data,
)
from models.detector import DetectorError
from storage.autosave import save_checked
from storage.errors import StorageError
from storage.runtime import current
from workflows import suggest as suggesting

NONE = SuggestionsState(None, None)


def show_controls(image: Any, annotator: Any) -> tuple[object, ...]:
    """On every image (each move sends them: callbacks.navigation.move): the controls,
    and the previous image's suggestions forgotten (callbacks.opening.suggest_controls)."""
    return suggest_controls(image, annotator)


@callback(
    Output(ids.SUGGESTIONS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input(ids.SUGGEST_BUTTON, "n_clicks"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    prevent_initial_call=True,
)
def suggest(_clicks: Any, image: Any, annotator: Any) -> tuple[object, ...]:
    """The model's suggestions on this image (found earlier, or now), less those you
    decided on; a detector that fails says so in the banner and changes nothing."""
    canvas = canvas_of(image, annotator)
    if canvas is None:
        raise PreventUpdate
    chance = suggesting.offer(current())
    if not chance.usable:
        return NONE.to_data(), *message(chance.reason, "warning")
    try:
        found = suggesting.suggest(current(), canvas.image_key, canvas.annotator)
    except (DetectorError, StorageError) as exc:
        return NONE.to_data(), *message(f"No suggestions: {exc}")
    return found.to_data(), *message(None)


@callback(
    Output(ids.RECORDS, "data", allow_duplicate=True),
    Output(ids.SUGGESTIONS, "data", allow_duplicate=True),
    *MESSAGE_OUTPUTS,
    Input({"type": ids.SUGGEST_ACCEPT, "index": ALL}, "n_clicks"),
    Input({"type": ids.SUGGEST_REJECT, "index": ALL}, "n_clicks"),
    Input(ids.SUGGEST_ACCEPT_ALL, "n_clicks"),
    Input(ids.SUGGEST_REJECT_ALL, "n_clicks"),
    State(ids.SUGGESTIONS, "data"),
    State(ids.SUGGEST_MIN_SCORE, "value"),
    State(ids.RECORDS, "data"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def decide(
    _accept: Any,
    _reject: Any,
    _accept_all: Any,
    _reject_all: Any,
    suggestions: Any,
    min_score: Any,
    records: Any,
    image: Any,
    annotator: Any,
    tab: Any = None,
) -> tuple[object, ...]:
    """Accept or reject one suggestion (its row's buttons), or all those shown (at or
    above the min score); each decision is recorded."""
    action, picked_ids = _picked()
    state, canvas = editable_state(records, canvas_of(image, annotator))
    offered = suggestions_from_data(suggestions)
    chance = suggesting.offer(current())
    if not chance.shown:
        return no_update, NONE.to_data(), *message(chance.reason, "warning")
    if not offered.belongs_to(canvas):
        raise PreventUpdate  # the list of another image (or name): its own update follows
    listed = {s.id for s in offered.items}
    wanted = {s.id for s in shown(offered.items, min_score)} if picked_ids is None else picked_ids
    if not wanted & listed:
        return no_update, no_update, *message("No suggestion is shown to decide on.", "info")
    try:
        picked = suggesting.still_offered(
            current(), canvas.image_key, canvas.annotator, wanted & listed
        )
    except (DetectorError, StorageError) as exc:
        return no_update, no_update, *message(f"Nothing decided: {exc}")
    if not picked:
        gone = "That suggestion was decided on already, or the model's shapes changed"
        return no_update, offered.without(wanted).to_data(), *message(gone, "info")
    refused = not_assigned(canvas.image_key, canvas.annotator)
    if refused:
        return no_update, no_update, *message(refused, "warning")
    if action == ACCEPT:
        return _save_accepted(state, canvas, offered, picked, tab)
    return _record_rejects(canvas, offered, picked)


def _picked() -> tuple[str, set[str] | None]:
    """(accept or reject, the suggestion ids of the row clicked, None for 'all shown');
    PreventUpdate when no button was pressed (new rows appearing)."""
    trigger, pressed = ctx.triggered_id, (ctx.triggered or [{}])[0].get("value")
    if not pressed:
        raise PreventUpdate
    if isinstance(trigger, dict):
        action = ACCEPT if trigger.get("type") == ids.SUGGEST_ACCEPT else REJECT
        return action, {str(trigger.get("index"))}
    if trigger in (ids.SUGGEST_ACCEPT_ALL, ids.SUGGEST_REJECT_ALL):
        return (ACCEPT if trigger == ids.SUGGEST_ACCEPT_ALL else REJECT), None
    raise PreventUpdate


def _save_accepted(
    state: RecordsState,
    canvas: Canvas,
    offered: SuggestionsState,
    picked: tuple[Suggestion, ...],
    tab: Any,
) -> tuple[object, ...]:
    """New shapes of the labeler's, saved with their accept events in one transaction; on a
    failed save nothing is accepted and the suggestions stay (nothing to retry later)."""
    if not state.loaded or state.unsaved:
        why = "could not be loaded: reload the page" if not state.loaded else "are not saved yet"
        return no_update, no_update, *message(f"This image's shapes {why}; then accept.", "info")
    now = utc_now()
    made = [accepted(s, canvas, lambda: str(uuid.uuid4()), now) for s in picked]
    decisions = [Decision(ACCEPT, s, record.id) for s, record in zip(picked, made, strict=True)]
    wanted = replace(state, records=state.records + tuple(made))
    saved = save_checked(current(), wanted, tab_id_of(tab), decisions)
    if saved.unsaved:
        return (
            replace(state, rev=state.rev + 1).to_data(),
            no_update,
            *message(f"Not accepted: {saved.error}. Try again."),
        )
    kept = {r.id for r in saved.records}
    done = {d.suggestion.id for d in decisions if d.shape_id in kept}
    return (
        saved.to_data(),
        offered.without(done).to_data(),
        *message(saved.notice, "warning"),
    )


def _record_rejects(
    canvas: Canvas, offered: SuggestionsState, picked: tuple[Suggestion, ...]
) -> tuple[object, ...]:
    """Reject events (one change, so one undo takes them back); the rows go."""
    decisions = [Decision(REJECT, s) for s in picked]
    try:
        current().store.record_decisions(
            canvas.image_key, canvas.annotator, decisions, actor=canvas.annotator
        )
    except StorageError as exc:
        return no_update, no_update, *message(f"Not rejected: {exc}")
    return no_update, offered.without({s.id for s in picked}).to_data(), *message(None)


@callback(
    Output(ids.GRAPH, "figure", allow_duplicate=True),
    Output(ids.SUGGEST_LIST, "children"),
    Output(ids.SUGGEST_STATUS, "children"),
    Output(ids.SUGGEST_ACCEPT_ALL, "disabled"),
    Output(ids.SUGGEST_REJECT_ALL, "disabled"),
    Input(ids.SUGGESTIONS, "data"),
    Input(ids.SUGGEST_MIN_SCORE, "value"),
    State(ids.IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.GRAPH, "figure"),
    prevent_initial_call=True,
)
def render_suggestions(
    suggestions: Any, min_score: Any, image: Any, annotator: Any, figure: Any
) -> tuple[object, ...]:
    """The suggestions at or above the min score: dashed outlines over the image (traces
    after the figure's invisible first one) and rows to accept or reject."""
    state = suggestions_from_data(suggestions)
    canvas = canvas_of(image, annotator)
    items = shown(state.items, min_score) if state.belongs_to(canvas) else ()
    labels = current().settings.labels
    traces = suggestion_traces(items, labels)
    drawn = len((figure or {}).get("data") or []) if isinstance(figure, dict) else 0
    if canvas is None or (not traces and drawn <= 1):
        patch: object = no_update  # nothing shown, nothing to take away
    else:
        patch = Patch()
        patch["data"] = [base_trace(canvas.width, canvas.height), *traces]
    floor = float(min_score) if isinstance(min_score, int | float) else 0.0
    status = status_text(state, len(items), floor) if state.belongs_to(canvas) else ""
    return patch, suggestion_rows(items, labels), status, not items, not items
