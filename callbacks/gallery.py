"""The Gallery tab: the URL's filter and page rendered as thumbnails, and a thumbnail click
opening the image (issue 14).

Quiet at load: clientside gates ask the server only when the gallery tab is open and the
URL says view=gallery; the filter controls and the pagination write the URL in the browser.
"""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, Input, Output, State, clientside_callback, html, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import acting_annotator, may
from components import ids
from components.gallery_tab import overlay_uri, tile_card
from domain.accounts import Role
from domain.gallery_filter import (
    GalleryFilter,
    for_viewer,
    open_target,
    parse_query,
    show_choices,
)
from domain.project_marks import MARK
from domain.sources import is_model, is_person
from storage.errors import StorageError
from storage.gallery_query import UNKNOWN
from storage.images import ROOT_BATCH
from storage.positions import place_from_data
from storage.runtime import Services, current

# The URL's view=gallery opens the tab (a link to a gallery view lands on it).
clientside_callback(
    """function(search, active) {
        const asked = new URLSearchParams(search || "").getAll("view").includes("gallery");
        return asked && active !== "@ID@" ? "@ID@" : window.dash_clientside.no_update;
    }""".replace("@ID@", ids.TAB_GALLERY),
    Output(ids.TABS, "active_tab", allow_duplicate=True),
    Input(ids.URL, "search"),
    State(ids.TABS, "active_tab"),
    prevent_initial_call="initial_duplicate",
)

# Opening the tab puts view=gallery in the URL (so it can be shared); leaving takes it out.
clientside_callback(
    """function(active, search) {
        const params = new URLSearchParams(search || "");
        const asked = params.getAll("view").includes("gallery");
        if ((active === "@ID@") === asked) { return window.dash_clientside.no_update; }
        params.delete("view");
        if (active === "@ID@") {
            const rest = params.toString();
            return "?view=gallery" + (rest ? "&" + rest : "");
        }
        const rest = params.toString();
        return rest ? "?" + rest : "";
    }""".replace("@ID@", ids.TAB_GALLERY),
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.TABS, "active_tab"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)

# The gate: the server renders only while the tab is open and the URL asks for it.
clientside_callback(
    """function(search, active) {
        const asked = new URLSearchParams(search || "").getAll("view").includes("gallery");
        if (active !== "@ID@" || !asked) { return window.dash_clientside.no_update; }
        return {search: search, at: Date.now()};
    }""".replace("@ID@", ids.TAB_GALLERY),
    Output(ids.GALLERY_ASK, "data"),
    Input(ids.URL, "search"),
    Input(ids.TABS, "active_tab"),
)

# Apply (or Enter in the name) and the pagination write the URL; the URL renders the page.
# A page number the server itself set (the one on screen) writes nothing.
clientside_callback(
    """function(apply, enter, page, batch, status, label, annotator, finished, disagreement,
                score, name, show, search, shown) {
        const no = window.dash_clientside.no_update;
        const trigger = window.dash_clientside.callback_context.triggered_id;
        const params = new URLSearchParams(search || "");
        params.delete("view");
        if (trigger === "@ID@") {
            if (!page || (shown && shown.page === page)) { return no; }
            if (page === 1) { params.delete("page"); } else { params.set("page", String(page)); }
        } else {
            const fields = {batch, status, label, annotator, finished, disagreement, score,
                            name, show};
            for (const [key, value] of Object.entries(fields)) {
                if (value === null || value === undefined || value === "") {
                    params.delete(key);
                } else {
                    params.set(key, String(value));
                }
            }
            params.delete("page");
        }
        const rest = params.toString();
        const out = "?view=gallery" + (rest ? "&" + rest : "");
        return out === search ? no : out;
    }""".replace("@ID@", ids.GALLERY_PAGES),
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.GALLERY_APPLY, "n_clicks"),
    Input(ids.GALLERY_NAME, "n_submit"),
    Input(ids.GALLERY_PAGES, "active_page"),
    State(ids.GALLERY_BATCH, "value"),
    State(ids.GALLERY_STATUS, "value"),
    State(ids.GALLERY_LABEL, "value"),
    State(ids.GALLERY_ANNOTATOR, "value"),
    State(ids.GALLERY_FINISHED, "value"),
    State(ids.GALLERY_DISAGREEMENT, "value"),
    State(ids.GALLERY_SCORE, "value"),
    State(ids.GALLERY_NAME, "value"),
    State(ids.GALLERY_SHOW, "value"),
    State(ids.URL, "search"),
    State(ids.GALLERY_ITEMS, "data"),
    prevent_initial_call=True,
)

# A click on a thumbnail (not the tiles appearing with n_clicks 0) becomes one request.
clientside_callback(
    """function(clicks) {
        const no = window.dash_clientside.no_update;
        const ctx = window.dash_clientside.callback_context;
        const trigger = ctx.triggered_id;
        if (!trigger || ctx.triggered.length !== 1 || !ctx.triggered[0].value) { return no; }
        return {tile: trigger.index, at: Date.now()};
    }""",
    Output(ids.GALLERY_CLICK, "data"),
    Input({"type": ids.GALLERY_TILE, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)

CONTROLS = [
    Output(ids.GALLERY_BATCH, "options"),
    Output(ids.GALLERY_BATCH, "value"),
    Output(ids.GALLERY_STATUS, "value"),
    Output(ids.GALLERY_LABEL, "options"),
    Output(ids.GALLERY_LABEL, "value"),
    Output(ids.GALLERY_ANNOTATOR, "options"),
    Output(ids.GALLERY_ANNOTATOR, "value"),
    Output(ids.GALLERY_FINISHED, "value"),
    Output(ids.GALLERY_DISAGREEMENT, "value"),
    Output(ids.GALLERY_SCORE, "value"),
    Output(ids.GALLERY_NAME, "value"),
    Output(ids.GALLERY_SHOW, "options"),
    Output(ids.GALLERY_SHOW, "value"),
]


@callback(
    Output(ids.GALLERY_GRID, "children"),
    Output(ids.GALLERY_SUMMARY, "children"),
    Output(ids.GALLERY_NOTES, "children"),
    Output(ids.GALLERY_NOTES, "is_open"),
    Output(ids.GALLERY_PAGES, "max_value"),
    Output(ids.GALLERY_PAGES, "active_page"),
    Output(ids.GALLERY_ITEMS, "data"),
    *CONTROLS,
    Input(ids.GALLERY_ASK, "data"),
    State(ids.POSITION, "data"),
    State(ids.ANNOTATOR, "data"),
    prevent_initial_call=True,
)
def show_gallery(ask: Any, position: Any, claimed: Any) -> tuple[object, ...]:
    """The page of thumbnails the URL asks for, for whoever asks (an annotator: their own
    work only, whatever the URL says), and the controls set to match."""
    if not isinstance(ask, dict):
        raise PreventUpdate
    started = time.perf_counter()
    found, notes = parse_query(ask.get("search"))
    reviewer = may(Role.REVIEWER)
    name = acting_annotator(claimed)
    if not reviewer and not name:
        nothing = ("Choose your name first (Annotate tab).",)
        return [], "", nothing, True, 1, 1, None, *[no_update] * len(CONTROLS)
    found, scope, dropped = for_viewer(found, name, reviewer)
    services = current()
    try:
        batches = services.images.catalog.batches().names
        batch, moved = _batch(found.batch, place_from_data(position)[0], batches)
        notes += moved
        from workflows.gallery_page import gallery_page

        page = gallery_page(services, batch, found, scope)
        people, models = _annotators(services) if reviewer else ([], [])
    except StorageError as exc:
        text = f"The gallery cannot be shown now: {exc}."
        return [], "", text, True, 1, 1, None, *[no_update] * len(CONTROLS)
    labels = services.settings.labels
    tiles = [
        tile_card(
            number,
            tile.name,
            tile.thumb,
            tile.badges,
            overlay_uri(tile.shapes, tile.size, labels) if tile.shapes and tile.size else None,
            tile.problem,
        )
        for number, tile in enumerate(page.tiles)
    ]
    notes += dropped + list(page.notes)
    what = "images match" if found.narrows else "images in this batch"
    count = f"{page.total:,}" if page.exact else f"at least {page.total:,}"
    summary = f"{count} {what}"
    if tiles and page.tiles[0].index >= 0:
        first, last = page.tiles[0].index + 1, page.tiles[-1].index + 1
        summary += f" · showing {first:,}–{last:,} of the batch"
    summary += f" · {time.perf_counter() - started:.2f} s"
    items = {
        "batch": batch,
        "page": page.page,
        "tiles": [{"key": t.key, "index": t.index} for t in page.tiles],
    }
    controls = _controls(found, batch, batches, labels, people, models, scope.shown, reviewer)
    shown_notes = [_note(n) for n in notes]
    return tiles, summary, shown_notes, bool(notes), page.pages, page.page, items, *controls


def _note(text: str) -> object:
    return html.Div(text)


def _batch(
    asked: str | None, current_batch: str | None, batches: tuple[str, ...]
) -> tuple[str, list[str]]:
    """The batch to show: the URL's, else the annotate view's, else the first one."""
    fallback = current_batch if current_batch in batches else (batches or (ROOT_BATCH,))[0]
    if asked is None or asked in batches:
        return (asked if asked is not None else fallback), []
    return fallback, [f"There is no batch {asked[:60]!r}: showing {fallback or '(top level)'}."]


def _annotators(services: Services) -> tuple[list[str], list[str]]:
    """(people, models) who have work in the store."""
    names = services.store.annotators()
    return [n for n in names if is_person(n) and "#" not in n], [n for n in names if is_model(n)]


def _controls(
    found: GalleryFilter,
    batch: str,
    batches: tuple[str, ...],
    labels: Any,
    people: list[str],
    models: list[str],
    shown: str,
    reviewer: bool,
) -> tuple[object, ...]:
    batch_options = [{"label": b or "(top level)", "value": b} for b in batches]
    label_options = [{"label": label.name, "value": label.name} for label in labels]
    people_options = [{"label": p, "value": p} for p in people]
    show_options = [{"label": text, "value": v} for v, text in show_choices(people, models)]
    return (
        batch_options,
        batch,
        found.status,
        label_options,
        found.label or None,
        people_options,
        found.annotator or None,
        found.finished,
        found.disagreement,
        found.score,
        found.name,
        show_options,
        (found.show or None) if reviewer else shown,
    )


@callback(
    Output(ids.POSITION, "data", allow_duplicate=True),
    Output(ids.OPEN_IMAGE, "data", allow_duplicate=True),
    Output(ids.TABS, "active_tab", allow_duplicate=True),
    Input(ids.GALLERY_CLICK, "data"),
    State(ids.GALLERY_ITEMS, "data"),
    prevent_initial_call=True,
)
def open_clicked(click: Any, items: Any) -> tuple[object, ...]:
    """A clicked thumbnail opens its image: in the review view for reviewers, else in the
    annotate view (whose move callback loads the position)."""
    target = open_target(click, items, may(Role.REVIEWER))
    if target is None:
        raise PreventUpdate
    place, view = target
    if place["index"] == UNKNOWN:  # a filter answered from the database alone
        try:
            index = current().images.catalog.locate(str(place["batch"]), str(place["key"]))
        except StorageError:
            index = None
        if index is None:
            raise PreventUpdate  # no longer in the source: its tile says so
        place = {**place, "index": index}
    if view == "review":
        return no_update, {**place, "view": "review"}, ids.TAB_REVIEW
    return {**place, MARK: current().project.slug}, no_update, ids.TAB_ANNOTATE
