"""What opening an image loads and shows (records, figure, rows, save status, suggestion
controls), shared by the callbacks that open one (a move), redraw, or fall back to what
is stored; registers no callback itself."""

from __future__ import annotations

from typing import Any

from dash import Patch, html
from dash.exceptions import PreventUpdate

from auth.canvas import canvas_of, not_assigned
from auth.session import acting_annotator
from components.figure import image_figure, newshape_for, shapes_of
from components.grid import row_of
from components.suggestions import KEY_HINT
from domain.records_state import RecordsState, known_of, state_from_data, tab_id_of
from domain.suggestions import SuggestionsState
from storage.autosave import save_checked
from storage.errors import StorageError
from storage.runtime import current
from storage.visits import Visits
from workflows import suggest as suggesting


def load_records(
    image: dict[str, Any] | None, annotator: str | None, records: Any, tab: Any = None
) -> object:
    """This annotator's saved shapes for the image; unsaved ones in the browser are retried."""
    canvas = canvas_of(image, annotator)
    if canvas is None:
        slug = current().project.slug
        return RecordsState(None, acting_annotator(annotator), (), project=slug).to_data()
    Visits(current().images.cache).began(canvas.image_key, canvas.annotator)  # bounds its time
    state = state_from_data(records)
    refused = None
    if state.unsaved and ours(state) and state.belongs_to(canvas.image_key, canvas.annotator):
        refused = not_assigned(canvas.image_key, canvas.annotator)
        if not refused:
            return save_checked(current(), state, tab_id_of(tab)).to_data()
    return stored_state(canvas.image_key, canvas.annotator, state.rev + 1, refused).to_data()


def ours(state: RecordsState) -> bool:
    """True when the records store holds records of the project being worked in (the
    browser's local storage is shared by every project open in it: another project's
    records, even of an image with the same key, are never saved, edited or shown here)."""
    project = current().project
    return state.in_project(project.slug, project.is_first)


def stored_state(key: str, annotator: str, rev: int, refused: str | None = None) -> RecordsState:
    """The stored records of (key, annotator); `refused` says why unsaved ones were dropped."""
    services = current()
    slug = services.project.slug
    try:
        stored = services.store.annotations_for(key, annotator)
    except StorageError as exc:
        return RecordsState(key, annotator, (), error=str(exc), loaded=False, project=slug)
    notice = f"Your unsaved changes were not stored: {refused}" if refused else None
    return RecordsState(
        key, annotator, tuple(stored), rev=rev, known=known_of(stored), notice=notice, project=slug
    )


def suggest_controls(_image: Any, _annotator: Any) -> tuple[object, ...]:
    """The suggestion controls on a newly opened image: shown if suggestions are offered
    now (an admin may have changed the assignment), disabled with how to switch them on
    when there is no usable detector; then the suggestions store, emptied."""
    chance = suggesting.offer(current())
    note = "" if chance.usable or not chance.shown else chance.reason
    empty = SuggestionsState(None, None).to_data()
    return not chance.shown, not chance.usable, note or KEY_HINT, note, empty


def figure_of(image: Any, records: Any, selected_rows: Any, label: Any, new: bool) -> object:
    """A new figure for the image (`new`), else a Patch of its shapes and drawing style;
    PreventUpdate for a Patch when the records are another project's (another tab's)."""
    labels = current().settings.labels
    chosen = label if any(lab.name == label for lab in labels) else labels[0].name
    newshape = newshape_for(chosen, labels)
    image = image if isinstance(image, dict) else {}
    state = state_from_data(records)
    if not ours(state):
        if not new:
            raise PreventUpdate  # another project's tab wrote the shared store: keep ours
        state = RecordsState(None, None, ())
    shown = state.records if state.image_key and state.image_key == image.get("key") else ()
    rows = selected_rows if isinstance(selected_rows, list) else []
    selected = {row.get("id") for row in rows if isinstance(row, dict)}
    shapes = shapes_of(shown, labels, selected)
    if new:
        return image_figure(
            _text(image.get("key")) or "none",
            _text(image.get("url")) or None,
            _size(image.get("width")),
            _size(image.get("height")),
            shapes,
            newshape,
            _text(image.get("error")) or None,
        )
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    patch["layout"]["newshape"] = newshape
    return patch


def render_rows(records: Any) -> list[dict[str, Any]]:
    """One row per record of the current image (none for another project's records)."""
    state = state_from_data(records)
    return [row_of(r) for r in state.records] if ours(state) else []


def render_save_status(records: Any) -> tuple[object, dict[str, str], bool]:
    """'All changes saved', why a change was refused (another tab's edit came first), or why
    nothing is saved, with a Retry button (and a retry every 5 s)."""
    state = state_from_data(records)
    hidden = {"display": "none"}
    if state.unsaved:
        text = html.Span(f"Not saved: {state.error}", className="text-danger")
        return text, {}, False
    if not state.loaded:
        return html.Span(f"Could not load: {state.error}", className="text-danger"), hidden, True
    if state.notice:
        return html.Span(f"⚠ {state.notice}", className="text-warning-emphasis"), hidden, True
    return html.Span("✓ All changes saved", className="text-success"), hidden, True


def _text(value: Any) -> str:
    """A text field of the image store ('' when the browser sent something else)."""
    return value if isinstance(value, str) else ""


def _size(value: Any) -> int:
    """A width or height of the image store (100 when the browser sent something else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 100
