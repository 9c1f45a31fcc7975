"""Paging when images are assigned (ANNOTATORS_PER_IMAGE): Next claims the next image that
still needs annotators, Previous goes back through one's own work only."""

from __future__ import annotations

from collections.abc import Iterator

from storage.assignments import AssignmentStore
from storage.catalog import Catalog
from storage.positions import Place

SCAN = 200  # keys looked at per database round trip


def _spans(start: int, here: int) -> Iterator[tuple[int, int | None]]:
    yield start, None  # from start to the end of the batch...
    if here > 0:
        yield 0, here  # ...then from the beginning up to (not including) the current image


def claim_from(
    catalog: Catalog, assignments: AssignmentStore, annotator: str, place: Place, here: bool
) -> Place | None:
    """Claim the first image from `place` on (including it when `here`), wrapping round to
    the start of the batch, that the annotator has not done and that needs annotators."""
    if place.index is None:
        return None
    start = place.index if here else place.index + 1
    for begin, end in _spans(start, place.index):
        index = begin
        while end is None or index < end:
            want = SCAN if end is None else min(SCAN, end - index)
            keys = catalog.keys_from(place.batch, index, want)
            if not keys:
                break
            claimed = assignments.claim_first(annotator, keys)
            if claimed is not None:
                return Place(place.batch, claimed, index + keys.index(claimed))
            index += len(keys)
            if len(keys) < want:
                break
    return None


def previous_own(
    catalog: Catalog, assignments: AssignmentStore, annotator: str, place: Place
) -> Place | None:
    """The nearest image before `place` that is the annotator's own (to look over): one
    they finished or hold a claim on."""
    if not place.index:
        return None
    end = place.index
    while end > 0:
        begin = max(0, end - SCAN)
        keys = catalog.keys_from(place.batch, begin, end - begin)
        held = assignments.holders_of(keys)
        for offset in range(len(keys) - 1, -1, -1):
            key = keys[offset]
            if annotator in held.get(key, set()):
                return Place(place.batch, key, begin + offset)
        end = begin
    return None
