"""Write one image's records through the store, keeping them marked unsaved on failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.records_state import RecordsState, known_of
from domain.suggestions import Decision
from storage.annotation_store import AnnotationStore
from storage.errors import EditConflict, StorageError


def autosave(
    store: AnnotationStore,
    state: RecordsState,
    tab: str | None = None,
    decisions: Sequence[Decision] = (),
) -> RecordsState:
    """Save the state's records from browser tab `tab` (with decisions on suggestions, in the
    same transaction). The result holds them at their stored versions, or, when another tab
    changed them first, the latest stored records and a notice saying so, or (the database
    failing) the same records marked unsaved."""
    if state.image_key is None or state.annotator is None:
        return state
    rev = state.rev + 1
    try:
        saved = store.sync_image(
            state.image_key,
            state.annotator,
            state.records,
            state.known,
            writer=tab,
            decisions=decisions,
        )
    except EditConflict as conflict:
        try:
            latest = tuple(store.annotations_for(state.image_key, state.annotator))
        except StorageError as exc:
            return replace(state, unsaved=True, error=str(exc), rev=rev)
        return replace(
            state,
            records=latest,
            known=known_of(latest),
            unsaved=False,
            error=None,
            notice=str(conflict),
            rev=rev,
        )
    except StorageError as exc:
        return replace(state, unsaved=True, error=str(exc), rev=rev)
    return replace(
        state, records=saved, known=known_of(saved), unsaved=False, error=None, notice=None, rev=rev
    )
