"""Batches, Previous/Next/jump, 'No objects' and 'Skip', prefetch, position and progress."""

from __future__ import annotations

import random
from typing import Any

import dash_bootstrap_components as dbc
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

from auth.canvas import not_assigned
from auth.scoped import callback
from auth.session import acting_annotator
from callbacks.opening import (
    figure_of,
    load_records,
    ours,
    render_rows,
    render_save_status,
    suggest_controls,
)
from components import ids
from components.feedback import MESSAGE_OUTPUTS, message
from domain.project_marks import MARK, made_in, mark_of
from domain.records_state import RecordsState, state_from_data, tab_id_of
from domain.repeats import pick_repeat, repeat_name
from domain.status import ImageStatus, progress_from_counts
from storage.assigned_places import claim_from, previous_own
from storage.assignments import AssignmentStore
from storage.autosave import save_checked
from storage.catalog import Catalog
from storage.errors import StorageError
from storage.images import ROOT_BATCH, batch_of, batch_prefix, in_batch, is_valid_key
from storage.positions import Place, first_place, place_from_data, settle, step
from storage.runtime import current, repeat_share
from workflows.retraining import maybe_retrain
from workflows.review_queue import rework_notice

chance = random.random  # replaced in tests to make repeats certain

MOVES = {ids.PREV: -1, ids.NEXT: 1, ids.NO_OBJECTS: 1, ids.SKIP: 1}
LINK = "link"  # navigate's name for a move to the image the page's address names
LINK_GONE = (
    "The address names {key!r}, which is not among this project's images (it may have been "
    "moved or deleted)."
)


def linked_key(link: Any) -> str | None:
    """The image key a link store holds ({"key": ...}), or None."""
    key = link.get("key") if isinstance(link, dict) else None
    return key if isinstance(key, str) and key else None


SEARCH_RESULTS = 20
PREFETCH_AHEAD = 2
PROGRESS_PAGES = 3


# What a new place shows, sent with the move itself (one round trip per Next): the image
# view, the records, the prefetch URLs, the progress bar, the batch selector (when the
# batch may have changed) and the suggestion controls.
ARRIVAL_OUTPUTS = [
    Output(ids.IMAGE, "data"),
    Output(ids.POSITION_TEXT, "children"),
    Output(ids.RECORDS, "data", allow_duplicate=True),
    Output(ids.PREFETCH, "data"),
    Output(ids.PROGRESS, "children", allow_duplicate=True),
    Output(ids.PROGRESS_TEXT, "children", allow_duplicate=True),
    Output(ids.BATCH, "options"),
    Output(ids.BATCH, "disabled"),
    Output(ids.SOURCE_WARNING, "children"),
    Output(ids.SOURCE_WARNING, "is_open"),
    Output(ids.SUGGEST_PANEL, "hidden"),
    Output(ids.SUGGEST_BUTTON, "disabled"),
    Output(ids.SUGGEST_BUTTON, "title"),
    Output(ids.SUGGEST_NOTE, "children"),
    Output(ids.SUGGESTIONS, "data", allow_duplicate=True),
    Output(ids.GRAPH, "figure"),
    Output(ids.GRID, "rowData"),
    Output(ids.SAVE_STATUS, "children"),
    Output(ids.RETRY, "style"),
    Output(ids.RETRY_TIMER, "disabled"),
    Output(ids.RENDERED, "data"),
    Output(ids.REWORK_NOTICE, "children"),
    Output(ids.REWORK_NOTICE, "is_open"),
]


@callback(
    Output(ids.POSITION, "data"),
    Output(ids.JUMP, "value"),
    Output(ids.JUMP, "options"),
    Output(ids.BATCH, "value"),
    *MESSAGE_OUTPUTS,
    *ARRIVAL_OUTPUTS,
    Input(ids.PREV, "n_clicks"),
    Input(ids.NEXT, "n_clicks"),
    Input(ids.JUMP, "value"),
    Input(ids.NO_OBJECTS, "n_clicks"),
    Input(ids.SKIP, "n_clicks"),
    Input(ids.BATCH, "value"),
    Input(ids.REFRESH, "n_clicks"),
    Input(ids.POSITION, "data"),
    Input(ids.ANNOTATOR, "data"),
    State(ids.RECORDS, "data"),
    State(ids.TAB_ID, "data"),
    State(ids.SUGGESTIONS, "data"),
    State(ids.LABEL, "data"),
    State(ids.IMAGE, "data"),
    Input(ids.LINK, "data"),  # an image the page's address names (a shared link, Back)
    prevent_initial_call="initial_duplicate",
)
def move(
    prev: Any,
    next_: Any,
    jump: Any,
    empty: Any,
    skip: Any,
    batch: Any,
    refresh: Any,
    position: Any,
    annotator: Any,
    records: Any,
    tab: Any = None,
    suggestions: Any = None,
    label: Any = None,
    shown: Any = None,
    link: Any = None,
) -> tuple[object, ...]:
    """navigate(), then everything the new place shows, in the same answer. The page's
    address may name an image (a shared link, or Back): opening the page, or the address
    changing, goes there."""
    # the address's image: when the address changed, or while the page shows no image yet
    opening = ctx.triggered_id not in (*MOVES, ids.JUMP, ids.BATCH, ids.REFRESH) and not shown
    linked = linked_key(link) if ctx.triggered_id == ids.LINK or opening else None
    if ctx.triggered_id == ids.LINK and not opening:
        if linked is None or (isinstance(shown, dict) and shown.get("key") == linked):
            raise PreventUpdate  # the address names the image shown (or none)
    if not own_position(position):  # another project's place (the store is shared)
        if ctx.triggered_id == ids.POSITION and shown is not None:
            raise PreventUpdate  # a tab of another project moved: this one stays
        position = _place_shown(shown)  # where this page is; none yet: start afresh
    buttons = (prev, next_, jump, empty, skip, batch, refresh)
    moved = navigate(*buttons, position, annotator, records, tab, link=linked, opening=opening)
    if moved[0] is no_update:
        return *moved, *[no_update] * len(ARRIVAL_OUTPUTS)
    lists = ctx.triggered_id not in (*MOVES, ids.JUMP)  # the batch may be another one
    return *moved, *arrival(moved[0], annotator, records, tab, suggestions, lists, label)


def arrival(
    position: Any,
    annotator: Any,
    records: Any,
    tab: Any,
    suggestions: Any,
    lists: bool,
    label: Any = None,
) -> tuple[object, ...]:
    """The ARRIVAL_OUTPUTS for a new position; the batch selector only when `lists`, the
    suggestions store only when it holds another image's suggestions."""
    try:
        view, text = show_image(position)
    except PreventUpdate:  # a remembered image that left: the next move settles it
        return (no_update,) * len(ARRIVAL_OUTPUTS)
    loaded = load_records(view, annotator, records, tab)
    try:  # counted as far as listed: listing more waits until the image is shown
        bars, counts = show_progress(None, annotator, position, pages=0)
    except PreventUpdate:
        bars, counts = no_update, no_update
    selector = batch_options(position) if lists else (no_update,) * 4
    *controls, cleared = suggest_controls(view, annotator)
    empty = suggestions is None or suggestions == cleared
    return (
        view,
        text,
        loaded,
        prefetch_next(view),
        bars,
        counts,
        *selector,
        *controls,
        no_update if empty else cleared,
        figure_of(view, loaded, [], label, new=True),
        render_rows(loaded),
        *render_save_status(loaded),
        _drawn(loaded),
        *_rework_notice(view, annotator),
    )


def _rework_notice(view: dict[str, Any], annotator: Any) -> tuple[object, bool]:
    """A reviewer's open rework comment for this annotator on this image (issue 14)."""
    who = None if view.get("repeat") else acting_annotator(annotator)
    text = rework_notice(current(), view.get("key"), who)
    return text, bool(text)


def _drawn(records: Any) -> dict[str, Any] | None:
    """{key, rev} of the records sent with a move's figure (not to be drawn twice)."""
    if not isinstance(records, dict):
        return None
    return {"key": records.get("image_key"), "rev": records.get("rev")}


def navigate(
    _prev: Any,
    _next: Any,
    jump: str | None,
    _empty: Any,
    _skip: Any,
    batch: str | None,
    _refresh: Any,
    position: dict[str, Any] | None,
    annotator: str | None,
    records: dict[str, Any] | None,
    tab: Any = None,
    link: str | None = None,
    opening: bool = False,
) -> tuple[object, ...]:
    """Move to another image once the current one's changes are saved; record statuses.
    `link`: an image the page's address names, opened like a jump (in its own batch)."""
    jump = jump if isinstance(jump, str) else None  # the page sends texts; anything else
    batch = batch if isinstance(batch, str) else None  # is a crafted request: ignored
    position = position if own_position(position) else None  # never another project's place
    catalog = current().images.catalog
    trigger = LINK if link is not None else ctx.triggered_id
    loading = opening or ctx.triggered_id not in (*MOVES, ids.JUMP, ids.BATCH, ids.LINK)
    annotator = acting_annotator(annotator)
    assigned = current().assignments if annotator else None
    resume = _resume_of(position)  # set while a finished image is back for a second pass
    who = repeat_name(annotator) if annotator and resume is not None else annotator
    end_note = None
    extra: dict[str, Any] | None = None
    try:
        if trigger == ids.REFRESH:
            catalog.refresh()
        here, note = settle(catalog, position)
        if trigger not in MOVES and trigger not in (ids.JUMP, ids.BATCH, LINK):  # load, refresh
            if resume is not None:  # a reload keeps the second pass (and stays blind)
                return *_moved_to(here, _repeat_extra(resume)), *message(note, "info")
            if assigned is not None and annotator and here.key:
                here, note = _assigned_start(catalog, assigned, annotator, here, note)
            return *_moved_to(here), *message(note, "info")
        base = settle(catalog, resume)[0] if resume is not None and trigger in MOVES else here
        if trigger == LINK and link is not None:
            found = catalog.locate(batch_of(link), link) if is_valid_key(link) else None
            if found is None:
                shown = _moved_to(here) if loading else (no_update,) * 4
                return *shown, *message(LINK_GONE.format(key=link[:200]), "warning")
            target = Place(batch_of(link), link, found)
        elif trigger == ids.JUMP:
            found = catalog.locate(here.batch, jump)
            target = here if found is None else Place(here.batch, jump, found)
        elif trigger == ids.BATCH:
            target = here if batch is None else first_place(catalog, batch)
        else:
            target = step(catalog, base, MOVES[trigger])
        forward = trigger in (ids.NEXT, ids.NO_OBJECTS, ids.SKIP)
        back = _second_pass(catalog, annotator, here) if resume is None and forward else None
        if back is not None:
            target, extra = back, _repeat_extra(here.to_data())
        elif assigned is not None and annotator:
            asked = ids.JUMP if trigger == LINK else trigger
            target, end_note = _assigned_target(catalog, assigned, annotator, asked, base, target)
        if resume is not None and target == here:
            target = base  # the end of the batch: back where the labeler was
    except StorageError as exc:
        return no_update, no_update, no_update, no_update, *message(str(exc))
    if end_note and trigger in (ids.JUMP, ids.BATCH, LINK):
        kept = _moved_to(here) if loading else (no_update, *_moved_to(here)[1:])
        return *kept, *message(end_note, "info")
    if target == here and trigger in (ids.JUMP, ids.BATCH, LINK):
        if loading:
            return *_moved_to(here), *message(None)
        raise PreventUpdate
    state = state_from_data(records)
    if not ours(state):  # another project's records (a tab of it shares the store)
        state = RecordsState(None, None, ())
    refusal, saved_note = _save_here(here, who, state, tab_id_of(tab))
    refusal = refusal or _refusal(here, target, trigger, who, state, end_note)
    if refusal:
        return no_update, *_moved_to(here)[1:], *refusal
    if target == here:  # Skip / No objects on the last image: stay, but show the change
        rev = position.get("rev") if isinstance(position, dict) else 0
        rev = rev if isinstance(rev, int) else 0
        stay = {**_position_data(here), "rev": rev + 1}
        return stay, *_moved_to(here)[1:], *_note(saved_note)
    if forward:
        maybe_retrain(current())  # RETRAIN_EVERY: one worker retrains in the background
    return *_moved_to(target, extra), *_note(saved_note)


def own_position(position: Any) -> bool:
    """True when the position store holds a place of the project being worked in (the
    browser's local storage is shared by every project open in it)."""
    project = current().project
    return made_in(mark_of(position), project.slug, project.is_first)


def _own(position: Any) -> dict[str, Any] | None:
    """The position if it is this project's, else None (nothing remembered)."""
    return position if isinstance(position, dict) and own_position(position) else None


def _place_shown(shown: Any) -> dict[str, Any] | None:
    """The position of the image this page shows (its image store), or None."""
    if not isinstance(shown, dict):
        return None
    batch, key, index = place_from_data(shown)
    if batch is None or key is None:
        return None
    return _position_data(Place(batch, key, index))


def _position_data(place: Place, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The position store's value for a place, marked with the project it is in."""
    return {**place.to_data(), **(extra or {}), MARK: current().project.slug}


def _resume_of(position: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where the labeler was before a finished image came back, or None if none did."""
    if isinstance(position, dict) and position.get("repeat") is True:
        resume = position.get("resume")
        return resume if isinstance(resume, dict) else {}
    return None


def _repeat_extra(resume: dict[str, Any]) -> dict[str, Any]:
    return {"repeat": True, "resume": resume}


def _second_pass(catalog: Catalog, annotator: str | None, here: Place) -> Place | None:
    """Now and then (the repeat share), one of the labeler's finished images of this batch
    comes back, unannounced, for a second pass kept under their repeat name."""
    services = current()
    share = repeat_share(services.settings, services.app_settings)
    if not annotator or share <= 0 or chance() >= share:
        return None
    finished = services.store.finished_in_order(annotator, batch_prefix(here.batch))
    done_again = set(services.store.statuses_for(repeat_name(annotator)))
    mine = [k for k in finished if in_batch(k, here.batch)]
    key = pick_repeat(mine, done_again | {here.key or ""})
    index = catalog.locate(here.batch, key) if key else None
    return Place(here.batch, key, index) if key and index is not None else None


NOTHING_LEFT = (
    "No other image of this batch needs you now: each is done by you, skipped by you, or "
    "has its {k} annotator(s)."
)


def _assigned_start(
    catalog: Catalog, assigned: AssignmentStore, annotator: str, here: Place, note: str | None
) -> tuple[Place, str | None]:
    """On loading the page: stay on an image that is yours, else claim one from here on."""
    if assigned.holds(annotator, here.key or ""):
        return here, note
    mine = claim_from(catalog, assigned, annotator, here, here=True)
    if mine is None:
        return here, NOTHING_LEFT.format(k=assigned.per_image)
    return mine, note


def _assigned_target(
    catalog: Catalog,
    assigned: AssignmentStore,
    annotator: str,
    trigger: Any,
    here: Place,
    target: Place,
) -> tuple[Place, str | None]:
    """Where a move goes when images are assigned, and why it stays when it cannot move."""
    k = assigned.per_image
    if trigger == ids.PREV:
        back = previous_own(catalog, assigned, annotator, here)
        return (back, None) if back else (here, "This is your first image in this batch.")
    if trigger == ids.JUMP:
        if target.key is None or assigned.hold_or_claim(annotator, target.key):
            return target, None
        return here, f"{target.key} already has its {k} annotator(s) or is done by you."
    start = target if trigger == ids.BATCH else here
    mine = claim_from(catalog, assigned, annotator, start, here=trigger == ids.BATCH)
    return (mine, None) if mine else (here, NOTHING_LEFT.format(k=k))


def _moved_to(place: Place, extra: dict[str, Any] | None = None) -> tuple[object, ...]:
    """Position, jump value and choices, and batch value for a place. The jump choices come
    with the value: the dropdown drops a value it has no option for."""
    try:
        choices = _jump_choices(current().images.catalog, place, "")
    except StorageError:
        choices = _as_options(place, [])
    return _position_data(place, extra), place.key, choices, place.batch


def _save_here(
    here: Place, annotator: str | None, state: RecordsState, tab: str | None
) -> tuple[tuple[object, ...] | None, str | None]:
    """Save the image's unsaved changes before leaving it, with the server's checks: (why
    not moving on, as banner outputs, or None; what was refused, to say on moving)."""
    if not (state.unsaved and state.belongs_to(here.key, annotator)):
        return None, None
    refused = not_assigned(here.key, annotator)
    if refused:  # never theirs to store: leaving drops them, and says so
        return None, f"Your unsaved changes to {here.key} were not stored: {refused}"
    state = save_checked(current(), state, tab)
    if state.unsaved:
        return message(
            f"Not moving on: your changes to {here.key} are not saved yet ({state.error})."
        ), None
    return None, state.notice


def _note(text: str | None) -> tuple[object, ...]:
    """The banner after a move: what the save before it refused, or cleared."""
    return message(text, "warning") if text else message(None)


def _refusal(
    here: Place,
    target: Place,
    trigger: Any,
    annotator: str | None,
    state: RecordsState,
    end_note: str | None = None,
) -> tuple[object, ...] | None:
    """Why the move cannot happen (as banner outputs), or None after recording any status."""
    services = current()
    if trigger in (ids.PREV, ids.NEXT) and target == here:
        end = "first" if trigger == ids.PREV else "last"
        return message(end_note or f"This is the {end} image of the batch.", "info")
    if trigger not in (ids.NO_OBJECTS, ids.SKIP):
        return None
    if not annotator or here.key is None:
        raise PreventUpdate
    if trigger == ids.NO_OBJECTS and state.belongs_to(here.key, annotator) and state.records:
        return message(
            "This image has shapes: delete them before marking it 'No objects'.", "warning"
        )
    status = ImageStatus.EMPTY if trigger == ids.NO_OBJECTS else ImageStatus.SKIPPED
    try:
        services.store.set_status(here.key, annotator, status)
    except StorageError as exc:
        return message(f"Could not record '{status.value}': {exc}")
    return None


def show_image(position: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Describe the current image for the figure: key, size, URL, or why it cannot be shown."""
    images = current().images
    batch, key, index = place_from_data(position)
    if batch is None:
        raise PreventUpdate  # navigate settles the position first
    if key is None:
        where = f"batch {batch}" if batch else images.source.description
        return {"key": None, "error": f"No images in {where}"}, "0 of 0"
    view: dict[str, Any] = {"key": key, "batch": batch}
    if isinstance(position, dict) and position.get("repeat") is True:
        view["repeat"] = True  # a second pass: shapes are kept under the repeat name
    try:
        found = images.catalog.locate(batch, key, index)
        if found is None:
            raise PreventUpdate  # a remembered image that left: navigate moves on
        count, final = images.catalog.count(batch)
        total = f"{count:,}" if final else f"{max(count, found + 1):,}+"
        view.update(index=found, total=total)
        info = images.info(key)
        view.update(width=info.width, height=info.height, url=images.url(key), error=None)
    except StorageError as exc:
        view.update(width=100, height=100, url=None, error=str(exc))
    number = view.get("index", -1) + 1
    return view, f"{number:,} of {view.get('total', '?')} · {key}" if number else key


def prefetch_next(view: dict[str, Any] | None) -> list[str]:
    """URLs of the next images in the batch, for the browser to fetch ahead."""
    if not isinstance(view, dict) or not isinstance(view.get("index"), int):
        return []
    images = current().images
    urls = []
    for ahead in range(1, PREFETCH_AHEAD + 1):
        try:
            key = images.catalog.key_at(view["batch"], view["index"] + ahead)
            if key is None:
                break
            urls.append(images.url(key))
        except StorageError:
            continue  # a broken next image is reported when the labeler gets there
    return urls


clientside_callback(
    ClientsideFunction(namespace="concord", function_name="prefetch"),
    Output(ids.PREFETCHED, "data"),
    Input(ids.PREFETCH, "data"),
)


@callback(
    Output(ids.JUMP, "options", allow_duplicate=True),
    Input(ids.JUMP, "search_value"),
    State(ids.POSITION, "data"),
    prevent_initial_call=True,
)
def jump_options(search: str | None, position: dict[str, Any] | None) -> list[dict[str, str]]:
    """The images the jump box offers for the typed text (navigate sets the others: an
    answer to the search being cleared on selection would race with the new value)."""
    batch, key, index = place_from_data(_own(position))
    if batch is None or key is None or not (search or "").strip():
        raise PreventUpdate
    place = Place(batch, key, index)
    try:
        return _jump_choices(current().images.catalog, place, (search or "").strip())
    except StorageError:
        return _as_options(place, [])  # the banner already explains source trouble


def _jump_choices(catalog: Catalog, place: Place, text: str) -> list[dict[str, str]]:
    """The current image, then: the image at a typed position number, the images whose
    name starts with the typed text, or (nothing typed) the next images."""
    numbered: list[tuple[int | None, str]] = []
    if place.key is None:
        return []
    if text.isdigit():
        found = catalog.key_at(place.batch, int(text) - 1)
        numbered += [(int(text), found)] if found else []
    elif text:
        numbered += [(None, hit) for hit in catalog.search(place.batch, text, SEARCH_RESULTS)]
    else:
        start = place.index or 0
        following = catalog.keys_from(place.batch, start, SEARCH_RESULTS)
        numbered += [(start + offset + 1, key) for offset, key in enumerate(following)]
    return _as_options(place, numbered)


def _as_options(place: Place, numbered: list[tuple[int | None, str]]) -> list[dict[str, str]]:
    prefix = batch_prefix(place.batch)
    options = {place.key: (place.key or "").removeprefix(prefix)}
    for number, hit in numbered:
        name = hit.removeprefix(prefix)
        options.setdefault(hit, f"{number}. {name}" if number else name)
    return [{"label": label, "value": value} for value, label in options.items() if value]


def batch_options(position: dict[str, Any] | None) -> tuple[object, ...]:
    """The batch selector's choices, and a warning when the source has nothing to show."""
    services = current()
    catalog = services.images.catalog
    try:
        found = catalog.batches()
    except StorageError as exc:
        text = f"{exc}. Concord keeps running; press Refresh once the source is back."
        return no_update, no_update, text, True
    options = [{"label": name or "(top level)", "value": name} for name in found.names]
    warning = None
    if not found.complete:
        warning = (
            f"Batches were looked for among the first {catalog.max_batch_entries:,} entries "
            f"of {catalog.source.description} only; more may exist."
        )
    batch, key, _ = place_from_data(_own(position))
    if key is None and found.names == (ROOT_BATCH,) and batch is not None:
        warning = (
            f"No images in {catalog.source.description}. Add .jpg, .png, .tif, .bmp, .webp or "
            ".gif files there (or set IMAGE_SOURCE) and press Refresh."
        )
    return options, len(options) < 2, warning, bool(warning)


# The progress bar changes between moves only when the image's saved shapes appear or
# all go (its status becomes or stops being 'done'): the browser notices, and only then
# asks the server (records not saved yet are not counted, so they wait).
clientside_callback(
    """function(records, seen) {
        const skip = window.dash_clientside.no_update;
        if (!records || typeof records !== "object" || records.unsaved) return [skip, skip];
        const now = {key: records.image_key || null,
                     drawn: Array.isArray(records.items) && records.items.length > 0};
        if (seen && seen.key === now.key && seen.drawn === now.drawn) return [skip, skip];
        const flipped = !!seen && seen.key === now.key;
        return [now, flipped ? now : skip];
    }""",
    Output(ids.PROGRESS_SEEN, "data"),
    Output(ids.PROGRESS_ASK, "data"),
    Input(ids.RECORDS, "data"),
    State(ids.PROGRESS_SEEN, "data"),
)


# A batch still being counted ("4,000+ images"): once a move has shown its image, one more
# request lists a few more pages of it (refresh_progress), off the move's path; once per
# image, so the answer does not ask again.
clientside_callback(
    """function(text, position, asked) {
        const dc = window.dash_clientside;
        const key = position && position.key;
        if (typeof text !== "string" || text.indexOf("+ images") < 0) {
            return dc.no_update;
        }
        return asked && asked.counting === key ? dc.no_update : {counting: key, at: Date.now()};
    }""",
    Output(ids.PROGRESS_ASK, "data", allow_duplicate=True),
    Input(ids.PROGRESS_TEXT, "children"),
    State(ids.POSITION, "data"),
    State(ids.PROGRESS_ASK, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.PROGRESS, "children", allow_duplicate=True),
    Output(ids.PROGRESS_TEXT, "children", allow_duplicate=True),
    Input(ids.PROGRESS_ASK, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.POSITION, "data"),
    prevent_initial_call=True,
)
def refresh_progress(ask: Any, annotator: str | None, position: Any) -> tuple[object, str]:
    """The progress bar again, after shapes were saved on an image without any, or the
    last ones deleted (moves send it with the move), or to count more of a huge batch."""
    return show_progress(ask, annotator, position)


def show_progress(
    _records: Any,
    annotator: str | None,
    position: dict[str, Any] | None,
    pages: int | None = None,
) -> tuple[object, str]:
    """A stacked bar of done / empty / skipped images of this batch for this annotator,
    from the store's per-batch counts (never a listing of every status); a batch not yet
    listed to its end is listed `pages` (PROGRESS_PAGES) more pages first."""
    batch, _, _ = place_from_data(_own(position))
    annotator = acting_annotator(annotator)
    if not annotator or batch is None:
        raise PreventUpdate
    services = current()
    try:
        # A huge batch is counted a few pages per update, never in one long listing.
        more = PROGRESS_PAGES if pages is None else pages
        total, final = services.images.catalog.extend(batch, more)
        counts = services.store.progress_counts(annotator, batch)
    except StorageError as exc:
        return no_update, f"Progress unavailable: {exc}"
    progress = progress_from_counts(total, counts)
    bars = dbc.Progress(
        [
            dbc.Progress(value=progress.percent(progress.done), color="success", bar=True),
            dbc.Progress(value=progress.percent(progress.empty), color="info", bar=True),
            dbc.Progress(value=progress.percent(progress.skipped), color="warning", bar=True),
        ],
        style={"height": "1.1rem"},
    )
    of = f"{progress.total:,}" if final else f"{progress.total:,}+"  # '+': still counting
    text = (
        f"{progress.finished:,} of {of} images done "
        f"({progress.done:,} with shapes, {progress.empty:,} with no objects, "
        f"{progress.skipped:,} skipped)"
    )
    return bars, text
