"""The Review tab (reviewers; review- ids are role-guarded by the server): the queue of a
batch (people's work only), one image's review into gold (saved at once, with versions,
undo and history under the reviewer's name; the detectors' shapes shown and takeable beside
the people's, never in a consensus), the verdicts and the comment thread."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dash import Input, Output, State, clientside_callback, ctx, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import acting_annotator, may
from components import ids
from components import review_tab as tab
from domain.accounts import Role
from domain.annotation import Annotation, utc_now
from domain.editing import Canvas, apply_shape_change
from domain.errors import DomainError, ReviewError
from domain.labels import offered
from domain.records_state import RecordsState, known_of, state_from_data, tab_id_of
from domain.relayout import ShapeChange, parse_relayout
from domain.review import ReviewStatus
from domain.review_actions import (
    accept_all,
    accept_consensus,
    drop,
    find_gold,
    find_unit,
    relabel,
    take_shape,
)
from domain.sources import GOLD
from storage.autosave import save_checked
from storage.errors import EditConflict, NothingToUndo, StorageError
from storage.images import batch_of, batch_prefix
from storage.review_reads import model_shapes, people_shapes
from storage.runtime import Services, current, detach_after_fork
from workflows.review_queue import load_queue, rank_batch

QUEUE_SHOWN = 500  # rows of the queue sent to the browser (the count says how many wait)
MESSAGE = [
    Output(ids.REVIEW_MESSAGE, "children", allow_duplicate=True),
    Output(ids.REVIEW_MESSAGE, "is_open", allow_duplicate=True),
    Output(ids.REVIEW_MESSAGE, "color", allow_duplicate=True),
]


def say(text: str | None, color: str = "danger") -> tuple[object, ...]:
    """The review banner's outputs: the text, or hidden when there is none."""
    return (text, True, color) if text else (None, False, no_update)


def reviewer_of(claimed: Any) -> str | None:
    """The reviewer's name, or None for anyone below reviewer (or nameless in local mode)."""
    return acting_annotator(claimed) if may(Role.REVIEWER) else None


# ---- the queue


def pick_batch(chosen: Any, position: Any, names: tuple[str, ...]) -> str:
    """The batch to show: the one chosen, else the annotate page's, else the first."""
    if isinstance(chosen, str) and chosen in names:
        return chosen
    here = position.get("batch") if isinstance(position, dict) else None
    if isinstance(here, str) and here in names:
        return here
    return names[0] if names else ""


@callback(
    Output(ids.REVIEW_QUEUE, "rowData"),
    Output(ids.REVIEW_COUNTS, "children"),
    Output(ids.REVIEW_BATCH, "options"),
    Output(ids.REVIEW_BATCH, "value"),
    Input(ids.TABS, "active_tab"),
    Input(ids.REVIEW_BATCH, "value"),
    Input(ids.REVIEW_REFRESH, "n_clicks"),
    Input(ids.REVIEW_CHANGED, "data"),
    Input(ids.REVIEW_RANK_STATUS, "children"),
    State(ids.POSITION, "data"),
    prevent_initial_call=True,  # the page opens on Annotate: listed when the tab opens
)
def show_queue(
    active: Any, batch: Any, _refresh: Any, _changed: Any, _ranked: Any, position: Any
) -> tuple[object, ...]:
    """The batch's review queue, most disputed first, with its counts."""
    if active != ids.TAB_REVIEW or not may(Role.REVIEWER):
        raise PreventUpdate
    services = current()
    try:
        names = services.images.catalog.batches().names
        chosen = pick_batch(batch, position, names)
        queue = load_queue(services, chosen)
    except StorageError as exc:
        return no_update, f"Queue unavailable: {exc}", no_update, no_update
    options = [{"label": name or "(top level)", "value": name} for name in names]
    counts = (
        f"{len(queue.items):,} waiting · {queue.reviewed:,} accepted · "
        f"{queue.rework:,} needs rework"
    )
    if len(queue.items) > QUEUE_SHOWN:
        counts += f" (the first {QUEUE_SHOWN:,} listed)"
    rows = tab.queue_rows(queue.items[:QUEUE_SHOWN], batch_prefix(chosen))
    return rows, counts, options, chosen


@callback(
    Output(ids.REVIEW_RANK_STATUS, "children"),
    Input(ids.REVIEW_RANK, "n_clicks"),
    State(ids.REVIEW_BATCH, "value"),
    background=True,
    running=[
        (Output(ids.REVIEW_RANK, "disabled"), True, False),
        (Output(ids.REVIEW_RANK_PROGRESS, "style"), {"display": "flex"}, {"display": "none"}),
    ],
    prevent_initial_call=True,
)
def rank(clicks: Any, batch: Any) -> str:
    """Compute and save the batch's disagreement per image (a background job); the queue
    is listed again when it is done."""
    if not clicks or not isinstance(batch, str) or not may(Role.REVIEWER):
        raise PreventUpdate
    # A background job runs in a forked process: its pooled connections are the parent's.
    detach_after_fork()
    return rank_text(current(), batch)


def rank_text(services: Services, batch: str) -> str:
    """Rank the batch and say how it went."""
    try:
        ranked = rank_batch(services, batch)
    except StorageError as exc:
        return f"Could not rank the images: {exc}"
    if not ranked:
        return "No image of this batch has been finished by two or more people yet."
    return f"Ranked {ranked:,} image(s) by disagreement (1 - mean pairwise F1 at IoU ≥ 0.5)."


# ---- opening an image


def image_view(services: Services, key: str) -> dict[str, Any]:
    """What the review view needs of an image: key, batch, size and URL, or why not."""
    view: dict[str, Any] = {"key": key, "batch": batch_of(key)}
    try:
        info = services.images.info(key)
        view.update(width=info.width, height=info.height, url=services.images.url(key), error=None)
    except StorageError as exc:
        view.update(width=100, height=100, url=None, error=str(exc))
    return view


def stored_gold(services: Services, key: str, rev: int = 0) -> RecordsState:
    """The image's gold as stored (a records state the edits start from)."""
    try:
        stored = tuple(services.store.annotations_for(key, GOLD))
    except StorageError as exc:
        return RecordsState(key, GOLD, (), error=str(exc), loaded=False, rev=rev)
    return RecordsState(key, GOLD, stored, rev=rev, known=known_of(stored))


def target_of(trigger: Any, clicked: Any, sent: Any, image: Any, batch: Any) -> str | None:
    """The image to open: a clicked queue row, the gallery's target (for the review view),
    or the next in the queue; raises PreventUpdate when the event names none."""
    if trigger == ids.REVIEW_QUEUE:
        key = clicked.get("rowId") if isinstance(clicked, dict) else None
    elif trigger == ids.OPEN_IMAGE:
        if not isinstance(sent, dict) or sent.get("view") != "review":
            raise PreventUpdate
        key = sent.get("key")
    else:
        here = image.get("key") if isinstance(image, dict) else None
        chosen = batch if isinstance(batch, str) else ""
        found = load_queue(current(), chosen).next_after(here)
        return found.key if found else None
    if not isinstance(key, str) or not key:
        raise PreventUpdate
    return key


@callback(
    Output(ids.REVIEW_IMAGE, "data"),
    Output(ids.REVIEW_GOLD, "data"),
    Output(ids.REVIEW_VIEW, "style"),
    Output(ids.REVIEW_TITLE, "children"),
    *MESSAGE,
    Input(ids.REVIEW_QUEUE, "cellClicked"),
    Input(ids.REVIEW_NEXT, "n_clicks"),
    Input(ids.OPEN_IMAGE, "data"),
    State(ids.REVIEW_IMAGE, "data"),
    State(ids.REVIEW_BATCH, "value"),
    State(ids.REVIEW_GOLD, "data"),
    prevent_initial_call=True,
)
def open_image(
    clicked: Any, _next: Any, sent: Any, image: Any, batch: Any, gold: Any = None
) -> tuple[object, ...]:
    """Open an image in the review view: from the queue, Next in queue, or the gallery."""
    if not may(Role.REVIEWER):
        raise PreventUpdate
    services = current()
    try:
        key = target_of(ctx.triggered_id, clicked, sent, image, batch)
    except StorageError as exc:
        return no_update, no_update, no_update, no_update, *say(f"Queue unavailable: {exc}")
    if key is None:
        note = "No other image waits for review in this batch."
        return no_update, no_update, no_update, no_update, *say(note, "info")
    rev = state_from_data(gold).rev + 1  # a new value, so the view is drawn again
    return (
        image_view(services, key),
        stored_gold(services, key, rev).to_data(),
        {},
        key,
        *say(None),
    )


# ---- gold: drawn, moved, unit actions, relabels, undo

# Only shape changes go to the server: zoom, pan and autosize stay in the browser.
clientside_callback(
    """function(relayout) {
        const keys = relayout && typeof relayout === "object" ? Object.keys(relayout) : [];
        return keys.some((key) => key.startsWith("shapes"))
            ? relayout : window.dash_clientside.no_update;
    }""",
    Output(ids.REVIEW_GRAPH_EDIT, "data"),
    Input(ids.REVIEW_GRAPH, "relayoutData"),
    prevent_initial_call=True,
)


def canvas_of_view(image: Any) -> Canvas | None:
    """Gold's canvas on the image the review view shows, or None."""
    if not isinstance(image, dict) or image.get("error"):
        return None
    key, width, height = image.get("key"), image.get("width"), image.get("height")
    sizes = (width, height)
    if not isinstance(key, str) or not key:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes):
        return None
    return Canvas(key, width, height, GOLD)  # type: ignore[arg-type]


Shapes = dict[str, tuple[Annotation, ...]]


def gold_change(
    relayout: Any, people: Shapes, gold: tuple[Annotation, ...], models: Shapes | None = None
) -> ShapeChange:
    """A relayout event as a change of gold's shapes only (the people's and the detectors'
    are not editable)."""
    change = parse_relayout(relayout, tab.shape_names(people, gold, models))
    mine = {r.id for r in gold}
    return ShapeChange(
        added=change.added,
        removed=tuple(i for i in change.removed if i in mine),
        edited={i: edit for i, edit in change.edited.items() if i in mine},
        problems=change.problems,
    )


def edited_gold(
    trigger: Any,
    services: Services,
    canvas: Canvas,
    gold: tuple[Annotation, ...],
    event: Any,
    selected: Any,
    who: Any,
    label: Any,
) -> tuple[tuple[Annotation, ...], list[str]]:
    """Gold after one of the review view's edits, and problems to show; raises
    DomainError (ReviewError) when the edit names something this image does not have."""
    from workflows.review_units import units_of  # the analysis stack, when a review needs it

    labels = services.settings.labels
    now = utc_now()
    new_id: Callable[[], str] = _new_id
    people = people_shapes(services.store, canvas.image_key)
    models = model_shapes(services.store, canvas.image_key)
    if trigger == ids.REVIEW_GRAPH_EDIT:
        change = gold_change(event, people, gold, models)
        if change.is_empty and not change.problems:
            raise PreventUpdate
        chosen = label if isinstance(label, str) else offered(labels)[0].name
        result = apply_shape_change(gold, change, canvas, labels, chosen, now, new_id)
        return result.records, list(result.problems)
    found = units_of(people, gold, models=models)
    if trigger == ids.REVIEW_UNITS:  # a gold label typed in the units table
        problems = []
        for edit in event if isinstance(event, list) else []:
            row = edit.get("rowId") if isinstance(edit, dict) else None
            value = edit.get("value") if isinstance(edit, dict) else None
            gold_id = _gold_id_of(row, found.units, gold)
            if gold_id is None:
                problems.append("gold has nothing there yet: accept or take a shape first")
                continue
            gold = relabel(gold, gold_id, value, labels, now)
        return gold, problems
    if trigger == ids.REVIEW_ACCEPT_ALL:
        gold, added = accept_all(canvas.image_key, gold, found.units, now, new_id)
        return gold, [] if added else ["every unit with a consensus already has gold"]
    row = _selected_row(selected)
    if row is None:
        return gold, ["select a unit in the table first"]
    if trigger == ids.REVIEW_DROP and isinstance(row, str) and row.startswith("g"):
        return drop(gold, find_gold(gold, row[1:]).id), []
    unit = find_unit(found.units, row)
    if trigger == ids.REVIEW_ACCEPT_UNIT:
        return accept_consensus(canvas.image_key, gold, unit, now, new_id), []
    if trigger == ids.REVIEW_TAKE:
        return take_shape(canvas.image_key, gold, unit, who, now, new_id), []
    if trigger == ids.REVIEW_DROP:
        if unit.gold_id is None:
            return gold, [f"gold has nothing in unit {unit.number} to drop"]
        return drop(gold, unit.gold_id), []
    raise PreventUpdate


def _new_id() -> str:
    return str(uuid.uuid4())


def _selected_row(selected: Any) -> object:
    """The id of the units table's selected row, as the browser sent it (or None)."""
    rows = selected if isinstance(selected, list) else []
    first = rows[0] if rows and isinstance(rows[0], dict) else {}
    return first.get("id")


def _gold_id_of(row: Any, units: Any, gold: tuple[Annotation, ...]) -> str | None:
    """The gold shape a units table row stands for; ReviewError for a foreign row."""
    if isinstance(row, str) and row.startswith("g"):
        return find_gold(gold, row[1:]).id
    return find_unit(units, row).gold_id


@callback(
    Output(ids.REVIEW_GOLD, "data", allow_duplicate=True),
    *MESSAGE,
    Input(ids.REVIEW_GRAPH_EDIT, "data"),
    Input(ids.REVIEW_UNITS, "cellValueChanged"),
    Input(ids.REVIEW_ACCEPT_UNIT, "n_clicks"),
    Input(ids.REVIEW_TAKE, "n_clicks"),
    Input(ids.REVIEW_DROP, "n_clicks"),
    Input(ids.REVIEW_ACCEPT_ALL, "n_clicks"),
    Input(ids.REVIEW_UNDO, "n_clicks"),
    State(ids.REVIEW_UNITS, "selectedRows"),
    State(ids.REVIEW_TAKE_WHO, "value"),
    State(ids.REVIEW_LABEL, "value"),
    State(ids.REVIEW_GOLD, "data"),
    State(ids.REVIEW_IMAGE, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.TAB_ID, "data"),
    prevent_initial_call=True,
)
def edit_gold(
    relayout: Any,
    cells: Any,
    _accept: Any,
    _take: Any,
    _drop: Any,
    _all: Any,
    _undo: Any,
    selected: Any,
    who: Any,
    label: Any,
    gold: Any,
    image: Any,
    annotator: Any,
    tab_id: Any = None,
) -> tuple[object, ...]:
    """Every change to the image's gold, saved at once under the reviewer's name."""
    trigger = ctx.triggered_id
    canvas = canvas_of_view(image)
    state = state_from_data(gold)
    if canvas is None or not state.belongs_to(canvas.image_key, GOLD):
        raise PreventUpdate
    reviewer = reviewer_of(annotator)
    if not reviewer:
        return state.to_data(), *say("Give your name (or sign in as a reviewer) first.")
    if not state.loaded:
        return state.to_data(), *say("This image's gold could not be loaded: open it again.")
    services = current()
    if trigger == ids.REVIEW_UNDO:
        return undo_gold(services, state, reviewer)
    event = relayout if trigger == ids.REVIEW_GRAPH_EDIT else cells
    try:
        records, problems = edited_gold(
            trigger, services, canvas, state.records, event, selected, who, label
        )
    except DomainError as exc:
        return replace(state, rev=state.rev + 1).to_data(), *say(f"Nothing changed: {exc}.")
    except StorageError as exc:
        return replace(state, rev=state.rev + 1).to_data(), *say(f"Nothing changed: {exc}")
    if records != state.records or state.unsaved:
        state = save_checked(
            services, replace(state, records=records), tab_id_of(tab_id), actor=reviewer
        )
    else:
        state = replace(state, rev=state.rev + 1)  # re-render: undo what the browser shows
    notes = [t for t in (state.notice, *problems) if t]
    return state.to_data(), *say("; ".join(notes) if notes else None, "warning")


def undo_gold(services: Services, state: RecordsState, reviewer: str) -> tuple[object, ...]:
    """Put back what the reviewer's newest change to this image's gold changed."""
    if state.unsaved:
        return state.to_data(), *say("Gold is not saved yet: change it again to retry first.")
    key = state.image_key or ""
    try:
        after = services.store.undo_last(key, GOLD, reviewer)
    except NothingToUndo as exc:
        return state.to_data(), *say(str(exc), "info")
    except (EditConflict, StorageError) as exc:
        return state.to_data(), *say(f"Could not undo: {exc}", "warning")
    undone = RecordsState(key, GOLD, after, rev=state.rev + 1, known=known_of(after))
    return undone.to_data(), *say(None)


@callback(
    Output(ids.REVIEW_GRAPH, "figure"),
    Output(ids.REVIEW_UNITS, "rowData"),
    Output(ids.REVIEW_UNITS, "columnDefs"),
    Output(ids.REVIEW_TAKE_WHO, "options"),
    Output(ids.REVIEW_SAVE_STATUS, "children"),
    Input(ids.REVIEW_GOLD, "data"),
    Input(ids.REVIEW_LABEL, "value"),
    State(ids.REVIEW_IMAGE, "data"),
    prevent_initial_call=True,
)
def render(gold: Any, label: Any, image: Any) -> tuple[object, ...]:
    """The figure (everyone's shapes, the detectors' and gold), the units table, whose
    shape can be taken, and the save status."""
    from workflows.review_units import units_of

    canvas = canvas_of_view(image)
    state = state_from_data(gold)
    if not isinstance(image, dict) or state.image_key != image.get("key") or not may(Role.REVIEWER):
        raise PreventUpdate
    services = current()
    labels = services.settings.labels
    choices = offered(labels)
    chosen = label if any(lab.name == label for lab in choices) else choices[0].name
    try:
        people = people_shapes(services.store, state.image_key or "")
        models = model_shapes(services.store, state.image_key or "")
    except StorageError as exc:
        return no_update, no_update, no_update, no_update, f"Could not read the shapes: {exc}"
    found = units_of(people, state.records, models=models) if canvas is not None else None
    names, detectors = sorted(people), sorted(models)
    figure = tab.review_figure(image, people, state.records, labels, chosen, models)
    rows = (
        tab.unit_rows(found.units, found.extra_gold, names, state.records, detectors)
        if found
        else []
    )
    return (
        figure,
        rows,
        tab.unit_columns(names, labels, detectors),
        [{"label": who, "value": who} for who in (*names, *detectors)],
        save_text(state),
    )


def save_text(state: RecordsState) -> str:
    """'Gold saved', or why not (kept in the page until a change saves it)."""
    if state.unsaved:
        return f"Gold not saved: {state.error} (kept here; change it again to retry)"
    if not state.loaded:
        return f"Could not load gold: {state.error}"
    return f"✓ Gold saved ({len(state.records)} shape(s))"


# ---- verdicts and comments


def verdict(
    trigger: Any, services: Services, key: str, reviewer: str, comment: Any, chosen: Any
) -> str:
    """Record the reviewer's verdict or comment; what happened. Raises DomainError for bad
    input (an empty rework comment, nobody chosen) and StorageError."""
    reviews = services.reviews
    if trigger == ids.REVIEW_ACCEPT:
        reviews.accept(key, reviewer, comment if isinstance(comment, str) else "")
        return f"Accepted {key}: its gold counts from now on."
    if trigger == ids.REVIEW_REWORK:
        people = set(people_shapes(services.store, key))
        names = chosen if isinstance(chosen, list) else []
        strangers = [n for n in names if not isinstance(n, str) or n not in people]
        if strangers:
            raise ReviewError("choose among the people who finished this image")
        reviews.send_back(key, names, reviewer, comment if isinstance(comment, str) else "")
        return f"Sent {key} back to {', '.join(sorted(names))} for rework."
    if trigger == ids.REVIEW_ADD_COMMENT:
        reviews.add_comment(key, reviewer, comment if isinstance(comment, str) else "")
        return "Comment added."
    raise PreventUpdate


@callback(
    Output(ids.REVIEW_CHANGED, "data"),
    Output(ids.REVIEW_COMMENT, "value"),
    *MESSAGE,
    Input(ids.REVIEW_ACCEPT, "n_clicks"),
    Input(ids.REVIEW_REWORK, "n_clicks"),
    Input(ids.REVIEW_ADD_COMMENT, "n_clicks"),
    State(ids.REVIEW_IMAGE, "data"),
    State(ids.REVIEW_GOLD, "data"),
    State(ids.REVIEW_COMMENT, "value"),
    State(ids.REVIEW_REWORK_WHO, "value"),
    State(ids.ANNOTATOR, "data"),
    prevent_initial_call=True,
)
def decide(
    _accept: Any,
    _rework: Any,
    _comment: Any,
    image: Any,
    gold: Any,
    comment: Any,
    chosen: Any,
    annotator: Any,
) -> tuple[object, ...]:
    """Accept, Needs rework (with a comment, to the chosen annotators) or a comment."""
    key = image.get("key") if isinstance(image, dict) else None
    if not isinstance(key, str) or not key:
        raise PreventUpdate
    reviewer = reviewer_of(annotator)
    if not reviewer:
        return no_update, no_update, *say("Give your name (or sign in as a reviewer) first.")
    trigger = ctx.triggered_id
    if trigger == ids.REVIEW_ACCEPT and state_from_data(gold).unsaved:
        return no_update, no_update, *say("Gold is not saved yet: it cannot be accepted.")
    try:
        done = verdict(trigger, current(), key, reviewer, comment, chosen)
    except DomainError as exc:
        return no_update, no_update, *say(f"Nothing recorded: {exc}.", "warning")
    except StorageError as exc:
        return no_update, no_update, *say(f"Nothing recorded: {exc}")
    return utc_now().isoformat(), "", *say(done, "success")


@callback(
    Output(ids.REVIEW_THREAD, "children"),
    Output(ids.REVIEW_STATUS, "children"),
    Output(ids.REVIEW_REWORK_WHO, "options"),
    Output(ids.REVIEW_REWORK_WHO, "value"),
    Input(ids.REVIEW_IMAGE, "data"),
    Input(ids.REVIEW_CHANGED, "data"),
    prevent_initial_call=True,
)
def show_review(image: Any, _changed: Any) -> tuple[object, ...]:
    """The image's review status, its comment thread and whom it can be sent back to."""
    key = image.get("key") if isinstance(image, dict) else None
    if not isinstance(key, str) or not key or not may(Role.REVIEWER):
        raise PreventUpdate
    services = current()
    try:
        comments = services.reviews.comments(key)
        review = services.reviews.reviews_of([key]).get(key)
        waiting = [r.annotator for r in services.reviews.rework_of(key) if r.open]
        people = sorted(people_shapes(services.store, key))
    except StorageError as exc:
        return f"Comments unavailable: {exc}", no_update, no_update, no_update
    return tab.thread(comments), status_text(review, waiting), people, []


def status_text(review: Any, waiting: list[str]) -> str:
    """The image's review status in words."""
    if review is None:
        return "Not reviewed yet."
    when = review.at.strftime("%Y-%m-%d %H:%M")
    if review.status == ReviewStatus.ACCEPTED:
        return f"Accepted by {review.reviewer} ({when})."
    if waiting:
        return f"Sent back by {review.reviewer} ({when}); waiting for {', '.join(waiting)}."
    return f"Sent back by {review.reviewer} ({when}) and redone: review it again."
