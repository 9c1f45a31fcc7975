"""Whose records a callback may change: the image shown and the acting annotator (the
signed-in account, or in local mode the remembered name; on an image that came back for a
second pass, their repeat name), and whether assigned images let them. Shared by the
annotation, history and suggestion callbacks."""

from __future__ import annotations

from typing import Any

from dash.exceptions import PreventUpdate

from auth.session import acting_annotator
from domain.editing import Canvas
from domain.records_state import RecordsState, known_of, state_from_data
from domain.repeats import first_pass_of, repeat_name
from storage.errors import StorageError
from storage.runtime import current


def canvas_of(image: dict[str, Any] | None, annotator: str | None) -> Canvas | None:
    """The canvas being edited, or None when there is no readable image or no annotator.
    With sign-in on, the annotator is the signed-in account whatever the browser says."""
    annotator = acting_annotator(annotator)
    if not isinstance(image, dict) or not isinstance(annotator, str):
        return None  # nothing shown, or not what the page sends
    if annotator and image.get("repeat") is True:
        annotator = repeat_name(annotator)  # a second pass, kept apart from the first
    key, width, height = image.get("key"), image.get("width"), image.get("height")
    if not key or not isinstance(key, str) or image.get("error") or not annotator:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        return None  # saves check against the size the server reads, never this one
    return Canvas(key, width, height, annotator)  # type: ignore[arg-type]


def editable_state(records: Any, canvas: Canvas | None) -> tuple[RecordsState, Canvas]:
    """The store's state if it holds this canvas's records and they were loaded. When it
    holds another project's records (a tab of it shares the browser's local storage), the
    canvas's stored records of this project instead: those are what this page shows."""
    state = state_from_data(records)
    if canvas is None:
        raise PreventUpdate
    services = current()
    slug = services.project.slug
    if not state.in_project(slug, services.project.is_first):
        try:
            stored = tuple(services.store.annotations_for(canvas.image_key, canvas.annotator))
        except StorageError:
            raise PreventUpdate from None  # nothing known to change; a reload shows why
        state = RecordsState(
            canvas.image_key,
            canvas.annotator,
            stored,
            rev=state.rev + 1,
            known=known_of(stored),
            project=slug,
        )
    if not state.belongs_to(canvas.image_key, canvas.annotator):
        raise PreventUpdate
    return state, canvas


def not_assigned(image_key: str | None, annotator: str | None) -> str | None:
    """Why this annotator may not change this image when images are assigned: it is
    neither theirs nor free to claim again (their claim ran out and others took it)."""
    assigned = current().assignments
    who = first_pass_of(annotator or "")
    if assigned is None or not image_key or not who:
        return None
    try:
        if assigned.hold_or_claim(who, image_key):
            return None
    except StorageError:
        return None  # the database is away: the save fails too, and is kept to retry
    return (
        f"{image_key} is not assigned to you: it has its {assigned.per_image} annotator(s). "
        "Nothing was changed; press Next for an image that needs you."
    )
