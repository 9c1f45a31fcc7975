"""The label QA grid: shapes with one label as crops, paged on the server; select several
(in the browser), then relabel or delete them in one action (workflows/bulk_edit).

Its ids (qa-) are open to annotators: every callback here limits an annotator to their own
shapes itself (domain.bulk_edit.shown_annotators and plan_bulk), whatever the browser sends.
Nothing fires at page load: the controls are filled when the tab opens."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, clientside_callback, ctx, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import acting_annotator, may
from callbacks.opening import stored_state
from components import ids
from components.qa_tab import (
    CARD_CLASS,
    PAGE_SIZE,
    SELECTED_CLASS,
    crop_card,
    crop_url,
    option_list,
    page_text,
)
from domain.accounts import Role
from domain.annotation import Annotation
from domain.bulk_edit import DELETE, EVERYONE, RELABEL, shown_annotators
from domain.labels import color_of
from domain.records_state import state_from_data
from domain.sources import GOLD, is_gold
from storage.crops import bounding_box, crop_region
from storage.errors import StorageError
from storage.positions import place_from_data
from storage.runtime import Services, current
from storage.shape_query import (
    ShapeScope,
    annotators_in_store,
    labels_in_store,
    shapes_page,
)
from workflows.bulk_edit import bulk_change

ALL_BATCHES = "*"  # the batch choice of every batch


@callback(
    Output(ids.QA_LABEL, "options"),
    Output(ids.QA_LABEL, "value"),
    Output(ids.QA_WHO, "options"),
    Output(ids.QA_WHO, "value"),
    Output(ids.QA_WHO, "disabled"),
    Output(ids.QA_BATCH, "options"),
    Output(ids.QA_BATCH, "value"),
    Input(ids.TABS, "active_tab"),
    State(ids.POSITION, "data"),
    State(ids.ANNOTATOR, "data"),
    State(ids.QA_LABEL, "value"),
    State(ids.QA_WHO, "value"),
    State(ids.QA_BATCH, "value"),
    prevent_initial_call=True,  # the page opens on Annotate: filled when the tab opens
)
def open_qa(
    active: Any, position: Any, claimed: Any, label: Any, who: Any, batch: Any
) -> tuple[object, ...]:
    """The labels (the project's, then old ones still stored), whose shapes, and the batch
    (the annotate view's by default), when the tab opens."""
    actor = acting_annotator(claimed)
    if active != ids.TAB_QA or actor is None:
        raise PreventUpdate
    services = current()
    reviewer = may(Role.REVIEWER)
    whose = shown_annotators(actor, reviewer, EVERYONE)
    try:
        stored_labels = labels_in_store(services.store.engine, ShapeScope(whose))
        people = annotators_in_store(services.store.engine) if reviewer else []
    except StorageError:
        stored_labels, people = [], []
    labels = label_choices([item.name for item in services.settings.labels], stored_labels)
    label = label if label in dict(labels) else labels[0][0]
    if reviewer:
        who_options = who_choices(people)
        who = who if who in dict(who_options) else EVERYONE
    else:
        who_options, who = [(actor, f"{actor} (your own)")], actor
    batches = batch_choices(services)
    if batch not in dict(batches):
        here = place_from_data(position)[0]
        batch = here if here in dict(batches) else ALL_BATCHES
    return (
        option_list(labels),
        label,
        option_list(who_options),
        who,
        not reviewer,
        option_list(batches),
        batch,
    )


def label_choices(project: list[str], stored: list[str]) -> list[tuple[str, str]]:
    """The project's labels, then labels still stored that LABELS no longer has."""
    old = [(name, f"{name} (not in LABELS)") for name in stored if name not in project]
    return [(name, name) for name in project] + old


def who_choices(people: list[str]) -> list[tuple[str, str]]:
    """A reviewer's choices: everyone, gold, then each person and model with shapes."""
    others = [(name, name) for name in people if not is_gold(name)]
    return [(EVERYONE, "Everyone"), (GOLD, "gold (reviewed)"), *others]


def batch_choices(services: Services) -> list[tuple[str, str]]:
    """Every batch, then the source's batches ('' is the top level)."""
    try:
        names = services.images.catalog.batches().names
    except StorageError:
        names = ()
    return [(ALL_BATCHES, "All batches")] + [(name, name or "(top level)") for name in names]


@callback(
    Output(ids.QA_GRID, "children"),
    Output(ids.QA_PAGE_TEXT, "children"),
    Output(ids.QA_OFFSET, "data"),
    Output(ids.QA_SHOWN, "data"),
    Output(ids.QA_PREV, "disabled"),
    Output(ids.QA_NEXT, "disabled"),
    Output(ids.QA_MESSAGE, "children"),
    Output(ids.QA_MESSAGE, "is_open"),
    Output(ids.QA_MESSAGE, "color"),
    Output(ids.RECORDS, "data", allow_duplicate=True),
    Input(ids.QA_LABEL, "value"),
    Input(ids.QA_WHO, "value"),
    Input(ids.QA_BATCH, "value"),
    Input(ids.QA_PREV, "n_clicks"),
    Input(ids.QA_NEXT, "n_clicks"),
    Input(ids.QA_RELABEL, "n_clicks"),
    Input(ids.QA_DELETE, "n_clicks"),
    State(ids.QA_OFFSET, "data"),
    State(ids.QA_SELECTED, "data"),
    State(ids.QA_NEW_LABEL, "value"),
    State(ids.ANNOTATOR, "data"),
    State(ids.RECORDS, "data"),
    prevent_initial_call=True,
)
def qa_page(
    label: Any,
    who: Any,
    batch: Any,
    _prev: Any,
    _next: Any,
    _relabel: Any,
    _delete: Any,
    offset: Any,
    selected: Any,
    new_label: Any,
    claimed: Any,
    records: Any = None,
) -> tuple[object, ...]:
    """Run the action asked for (relabel or delete the selected shapes), then show the page
    of crops again: one answer for both, so the changed shapes leave the page at once. The
    annotate view's records are read again after a change, so going back shows it."""
    actor = acting_annotator(claimed)
    if actor is None or not isinstance(label, str):
        raise PreventUpdate
    services = current()
    reviewer = may(Role.REVIEWER)
    trigger = ctx.triggered_id
    message: tuple[object, object, object] = (no_update, no_update, no_update)
    annotating: object = no_update
    start = offset if isinstance(offset, int) else 0
    if trigger in (ids.QA_RELABEL, ids.QA_DELETE):
        action = RELABEL if trigger == ids.QA_RELABEL else DELETE
        result = bulk_change(services, actor, reviewer, action, new_label, selected)
        color = "success" if result.ok and not result.refused else "warning"
        message = (result.message, True, color if result.ok else "danger")
        if result.changed:
            annotating = records_again(records, actor)
    elif trigger == ids.QA_PREV:
        start -= PAGE_SIZE
    elif trigger == ids.QA_NEXT:
        start += PAGE_SIZE
    else:
        start = 0  # another label, person or batch: from the first page
        message = (None, False, no_update)
    scope = ShapeScope(shown_annotators(actor, reviewer, who), None if batch == "*" else batch)
    try:
        page = shapes_page(services.store.engine, label, scope, start, PAGE_SIZE)
    except StorageError as exc:
        return (*[no_update] * 6, str(exc), True, "danger", annotating)
    cards = [card_of(services, shape) for shape in page.shapes]
    shown = [[shape.id, shape.version] for shape in page.shapes]
    text = page_text(page.total, page.offset, len(page.shapes), label)
    last = page.offset + len(page.shapes) >= page.total
    return cards, text, page.offset, shown, page.offset == 0, last, *message, annotating


def records_again(records: Any, actor: str) -> object:
    """The annotate view's records of the acting person read again from the store (a QA
    change may have relabelled or deleted them); unsaved ones are left for their retry."""
    state = state_from_data(records)
    if state.unsaved or state.image_key is None or state.annotator != actor:
        return no_update
    return stored_state(state.image_key, actor, state.rev + 1).to_data()


def card_of(services: Services, shape: Annotation) -> object:
    """A shape's card: the crop around it from the crop route, with its outline."""
    color = color_of(shape.label, services.settings.labels)
    box = bounding_box(shape.coords, shape.points)
    try:
        info = services.images.info(shape.image_key)
        region = crop_region(box, info.width, info.height)
        version = services.images.etag(shape.image_key)
    except (StorageError, ValueError) as exc:
        problem = "image not in the source" if "no such" in str(exc).lower() else "no crop"
        return crop_card(shape, color, None, None, problem)
    url = crop_url(shape.image_key, box, version, services.images.project_query)
    return crop_card(shape, color, url, region)


# Selecting runs in the browser: a click toggles a card, "select all" takes the page, a new
# page clears the choice. The store keeps {id: version} as the page showed them.
clientside_callback(
    f"""function(clicks, all, clear, shown, selected) {{
        const dc = window.dash_clientside;
        const context = dc.callback_context;
        const fired = (context.triggered || []).map(t => [t.prop_id.split(".")[0], t.value]);
        const has = (id) => fired.some(f => f[0] === id);
        const versions = Object.fromEntries(Array.isArray(shown) ? shown : []);
        let chosen = Object.assign({{}}, selected || {{}});
        if (has("{ids.QA_SHOWN}") || has("{ids.QA_CLEAR}")) {{
            chosen = {{}};  // a new page (or Clear): nothing chosen
        }} else if (has("{ids.QA_SELECT_PAGE}")) {{
            chosen = Object.assign({{}}, versions);
        }} else if (fired.length === 1 && fired[0][1] && context.triggered_id.index) {{
            const id = context.triggered_id.index;  // a card clicked (not a new card drawn)
            if (id in chosen) {{ delete chosen[id]; }}
            else if (id in versions) {{ chosen[id] = versions[id]; }}
        }}
        for (const id of Object.keys(chosen)) {{ if (!(id in versions)) delete chosen[id]; }}
        const cards = context.outputs_list[1].map(o => o.id.index);
        const classes = cards.map(id => id in chosen ? "{SELECTED_CLASS}" : "{CARD_CLASS}");
        const n = Object.keys(chosen).length;
        const text = n ? n + " selected" : "None selected";
        return [chosen, classes, text, n === 0, n === 0];
    }}""",
    Output(ids.QA_SELECTED, "data"),
    Output({"type": ids.QA_CARD, "index": ALL}, "className"),
    Output(ids.QA_COUNT, "children"),
    Output(ids.QA_RELABEL, "disabled"),
    Output(ids.QA_DELETE, "disabled"),
    Input({"type": ids.QA_CARD, "index": ALL}, "n_clicks"),
    Input(ids.QA_SELECT_PAGE, "n_clicks"),
    Input(ids.QA_CLEAR, "n_clicks"),
    Input(ids.QA_SHOWN, "data"),
    State(ids.QA_SELECTED, "data"),
    prevent_initial_call=True,
)
