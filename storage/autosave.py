"""Write one image's records through the store, keeping them marked unsaved on failure."""

from __future__ import annotations

from dataclasses import replace

from domain.records_state import RecordsState
from storage.annotation_store import AnnotationStore
from storage.errors import StorageError


def autosave(store: AnnotationStore, state: RecordsState) -> RecordsState:
    """Sync the state's records; the result says whether they are saved and why not."""
    if state.image_key is None or state.annotator is None:
        return state
    try:
        store.sync_image(state.image_key, state.annotator, state.records)
    except StorageError as exc:
        return replace(state, unsaved=True, error=str(exc), rev=state.rev + 1)
    return replace(state, unsaved=False, error=None, rev=state.rev + 1)
