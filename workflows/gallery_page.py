"""One page of the gallery: the matching images' keys, positions, thumbnail URLs, badges
and the shapes to draw over them (with each image's size for the overlay's viewBox)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from domain.annotation import Annotation
from domain.gallery_filter import CONSENSUS, GalleryFilter, Scope, page_count
from domain.review import Review, ReviewStatus
from domain.status import FINISHED
from storage.errors import ImageNotFound, SourceUnavailable, UnreadableImage
from storage.gallery_query import GalleryQuery, page_facts
from storage.runtime import Services
from storage.thumbnails import Thumbnails

LOOKUPS = 8  # image metadata and headers read at once when not cached
NO_SCORES = (
    "No image has a disagreement score yet: compute the agreement report (Agreement tab) "
    "or the review ranking first."
)
STATUS_BADGES = {
    "done": ("done", "success"),
    "empty": ("no objects", "info"),
    "skipped": ("skipped", "warning"),
}


@dataclass(frozen=True)
class Tile:
    """One thumbnail: where it is in the batch, its URL, badges and shapes to draw."""

    key: str
    name: str
    index: int
    thumb: str | None  # None: the image cannot be read (the reason is in `problem`)
    badges: tuple[tuple[str, str], ...]  # (text, bootstrap colour)
    shapes: tuple[Annotation, ...] = ()
    size: tuple[int, int] | None = None  # (width, height) in original pixels, for shapes
    problem: str = ""


@dataclass(frozen=True)
class GalleryPage:
    """A page of the gallery and how many pages the filter's result fills."""

    batch: str
    tiles: tuple[Tile, ...]
    total: int
    exact: bool  # False: the batch is not listed to its end yet (at least `total`)
    page: int
    pages: int
    notes: tuple[str, ...] = ()


def badges(
    statuses: Mapping[str, str], subject: str | None, review: Review | None, rework: bool
) -> tuple[tuple[str, str], ...]:
    """The badges of an image: the subject's status (or how many people finished it, for
    everyone), then the review's verdict (reviewed, or needs rework)."""
    found: list[tuple[str, str]] = []
    if subject is not None:
        status = statuses.get(subject)
        found.append(STATUS_BADGES.get(status or "", ("to do", "secondary")))
    else:
        done = sum(1 for s in statuses.values() if s in FINISHED)
        found.append((f"{done} finished", "success") if done else ("to do", "secondary"))
    if rework or (review is not None and review.status == ReviewStatus.REWORK):
        found.append(("needs rework", "danger"))
    elif review is not None and review.status == ReviewStatus.ACCEPTED:
        found.append(("reviewed", "primary"))
    return tuple(found)


def _consensus(shapes: Sequence[Annotation], statuses: dict[str, dict[str, str]]) -> list:
    """The consensus boxes of the page's images (the analysis stack is loaded only here)."""
    from analysis.consensus import consensus_of
    from analysis.work import usable_work, work_of

    finished = {
        (key, who): status
        for key, by_who in statuses.items()
        for who, status in by_who.items()
        if status in FINISHED
    }
    people = [s for s in shapes if (s.image_key, s.annotator) in finished]
    agreed = consensus_of(usable_work(work_of(people, finished)))
    return [item.as_annotation() for found in agreed.values() for item in found]


def _sizes(services: Services, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Original sizes of images (remembered in the store, else read from their headers)."""
    if not keys:
        return {}
    known = services.store.known_sizes(keys)
    sizes = {k: (info.width, info.height) for k, (_, info) in known.items()}
    missing = [k for k in keys if k not in sizes]

    def read(key: str) -> tuple[str, tuple[int, int] | None]:
        try:
            info = services.images.info(key)
        except (ImageNotFound, UnreadableImage, SourceUnavailable):
            return key, None
        return key, (info.width, info.height)

    with ThreadPoolExecutor(LOOKUPS) as pool:
        sizes.update({k: s for k, s in pool.map(read, missing) if s is not None})
    return sizes


def _thumb_urls(thumbs: Thumbnails, keys: Sequence[str]) -> dict[str, str | None]:
    """Thumbnail URLs (their version needs each image's metadata: looked up together)."""

    def url(key: str) -> tuple[str, str | None]:
        try:
            return key, thumbs.url(key)
        except (ImageNotFound, SourceUnavailable):
            return key, None

    catalog = thumbs.images.catalog
    cold = [k for k in keys if catalog.cached_meta(k) is None]
    if len(cold) > 1:
        with ThreadPoolExecutor(LOOKUPS) as pool:
            found = dict(pool.map(url, keys))
    else:
        found = dict(map(url, keys))
    return found


def gallery_page(services: Services, batch: str, found: GalleryFilter, scope: Scope) -> GalleryPage:
    """The page the filter asks for (the last page if it asks past the end); raises
    StorageError when the store or the source cannot answer."""
    images = services.images
    query = GalleryQuery(services.store.engine, images.catalog, images.cache)
    notes: list[str] = []
    chosen, total, exact, scored = query.page(batch, found, scope)
    pages = page_count(total)
    if not chosen and found.page > pages:
        notes.append(f"There is no page {found.page}: showing page {pages}, the last.")
        found = replace(found, page=pages)
        chosen, total, exact, scored = query.page(batch, found, scope)
    if found.disagreement is not None and not scored:
        notes.append(NO_SCORES)
    keys = [key for _, key in chosen]
    facts = page_facts(services.store.engine, keys, scope)
    shapes = facts.shapes
    if scope.shown == CONSENSUS:
        shapes = _consensus(shapes, facts.statuses)
    by_key: dict[str, list[Annotation]] = defaultdict(list)
    for shape in shapes:
        by_key[shape.image_key].append(shape)
    sizes = _sizes(services, [k for k in keys if by_key.get(k)])
    urls = _thumb_urls(Thumbnails(images), keys)
    prefix = f"{batch}/" if batch else ""
    tiles = tuple(
        Tile(
            key=key,
            name=key[len(prefix) :],
            index=index,
            thumb=urls.get(key),
            badges=badges(
                facts.statuses.get(key, {}),
                scope.subject,
                facts.reviews.get(key),
                key in facts.rework,
            ),
            shapes=tuple(by_key.get(key, ())) if key in sizes else (),
            size=sizes.get(key),
            problem="" if urls.get(key) else "This image is no longer in the source.",
        )
        for index, key in chosen
    )
    return GalleryPage(batch, tiles, total, exact, found.page, pages, tuple(notes))
