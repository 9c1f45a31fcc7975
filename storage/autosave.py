"""Write one image's records through the store, keeping them marked unsaved on failure.

`save_checked` is what every write from the browser goes through: the records are checked
on the server (domain/record_checks) against the image as the source has it now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from domain.annotation import Annotation
from domain.record_checks import check_records, keep_stored
from domain.records_state import RecordsState, known_of
from domain.shape_rules import MAX_SHAPES_PER_IMAGE
from domain.suggestions import Decision
from storage.annotation_store import AnnotationStore
from storage.errors import EditConflict, ImageNotFound, SourceUnavailable, StorageError
from storage.image_service import ImageService

if TYPE_CHECKING:
    from storage.runtime import Services

# Up to this many polygons in a save are checked without reading the stored shapes first.
POLYGONS_CHECKED_AGAIN = 10


def image_size_now(images: ImageService, key: str) -> tuple[int, int]:
    """(width, height) of an image still in the source. The existence check is fresh (a
    stat of a local file, a HEAD on S3): a cached size outlives a deleted image. Raises
    ImageNotFound when it is gone; while the source cannot be reached, the cached size is
    used if there is one."""
    cached = images.catalog.cached_meta(key)
    try:
        meta = images.source.stat(key)
    except SourceUnavailable:
        if cached is None:
            raise
        meta = cached  # S3 unreachable, not saying "gone": the size known keeps saves going
    if cached != meta:
        images.catalog.remember_meta(key, meta)  # a replaced file: its size is read again
    info = images.info(key)
    return info.width, info.height


def gone_message(key: str) -> str:
    """Why nothing was saved on an image that left the source."""
    return (
        f"the image {key} is no longer in the image source; your shapes were not saved "
        "(they are kept here in case it comes back)"
    )


def save_checked(
    services: Services,
    state: RecordsState,
    tab: str | None = None,
    decisions: Sequence[Decision] = (),
    actor: str | None = None,
) -> RecordsState:
    """Save the state's records after the server's checks: the image is still in the
    source, and each record is this image's and annotator's and passes the shape checks
    with the size the server reads. Refused records are not stored (a stored shape keeps
    its stored version) and the result's notice names them; the valid ones are saved.
    When the image is gone nothing is saved and the records stay unsaved."""
    if state.image_key is None or state.annotator is None:
        return state
    try:
        width, height = image_size_now(services.images, state.image_key)
    except ImageNotFound:
        return replace(state, unsaved=True, error=gone_message(state.image_key), rev=state.rev + 1)
    except StorageError as exc:
        return replace(state, unsaved=True, error=str(exc), rev=state.rev + 1)
    key, annotator = state.image_key, state.annotator
    labels = [label.name for label in services.settings.labels]
    try:
        # A polygon's crossing check costs about as much as reading its row: with many,
        # the stored ones are read first and not judged again.
        many = sum(1 for r in state.records if r.kind == "polygon") > POLYGONS_CHECKED_AGAIN
        stored = _stored(services.store, key, annotator) if many else None
        checked = check_records(
            key, annotator, state.records, width, height, labels, state.unreadable, stored
        )
        if checked.problems or len(checked.records) > MAX_SHAPES_PER_IMAGE:
            # a refused edit keeps the stored shape; the limit keeps stored shapes first
            stored = stored if stored is not None else _stored(services.store, key, annotator)
            checked = keep_stored(checked, stored)
    except StorageError as exc:
        return replace(state, unsaved=True, error=str(exc), rev=state.rev + 1)
    saved = autosave(
        services.store, replace(state, records=checked.records), tab, decisions, actor=actor
    )
    refusal = checked.message()
    if refusal is None:
        return saved
    return replace(saved, notice="; ".join(t for t in (saved.notice, refusal) if t))


def _stored(store: AnnotationStore, key: str, annotator: str) -> dict[str, Annotation]:
    return {r.id: r for r in store.annotations_for(key, annotator)}


def autosave(
    store: AnnotationStore,
    state: RecordsState,
    tab: str | None = None,
    decisions: Sequence[Decision] = (),
    actor: str | None = None,
) -> RecordsState:
    """Save the state's records from browser tab `tab` as they are (callbacks use
    save_checked), with decisions on suggestions in the same transaction. The result holds
    them at their stored versions, or, when another tab changed them first, the latest
    stored records and a notice saying so, or (the database failing) the same records
    marked unsaved."""
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
            actor=actor,  # who made the change, when not the annotator (a reviewer, on gold)
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
