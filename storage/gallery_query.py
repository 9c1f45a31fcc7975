"""The gallery's server-side filtering and paging: which images of a batch match a filter,
from a few grouped SQL queries over the batch's key prefix (never one query per image),
intersected with the catalog's cached listing; and the facts one page of images shows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, not_, select
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import Annotation
from domain.gallery_filter import CONSENSUS, EVERYONE, PER_PAGE, GalleryFilter, Scope
from domain.repeats import REPEAT_SUFFIX
from domain.review import Review, ReviewStatus
from domain.sources import GOLD, MODEL_PREFIX
from domain.status import FINISHED
from storage.annotation_store import _readable, _rows
from storage.catalog import Cache, Catalog
from storage.errors import StorageError, database_reason
from storage.images import batch_prefix, in_batch
from storage.review_store import ReviewStore
from storage.schema import ANNOTATIONS, EVENTS, IMAGE_DISAGREEMENT, REVIEWS, REWORK, STATUSES

CHUNK = 500  # keys per IN (...) query
UNKNOWN = -1  # an image's position in its batch, when the batch was not listed to find it


def _person(column: Any) -> Any:
    """SQL: the annotator is a person's first pass (not a model, gold or a second pass)."""
    return and_(
        not_(column.startswith(MODEL_PREFIX, autoescape=True)),
        column != GOLD,
        not_(column.endswith(REPEAT_SUFFIX, autoescape=True)),
    )


def _under(column: Any, prefix: str) -> Any:
    return column.startswith(prefix, autoescape=True) if prefix else column.isnot(None)


def _chunks(keys: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), CHUNK):
        yield list(keys[start : start + CHUNK])


@dataclass(frozen=True)
class Matches:
    """The images of a batch that match a filter, as (position in the batch or UNKNOWN,
    key), in the batch's order; `exact`: all of them (else the first ones, found without
    listing the rest of a huge batch); `scored`: some image of the batch has a
    disagreement score at all."""

    found: tuple[tuple[int, str], ...]
    exact: bool
    scored: bool


@dataclass(frozen=True)
class _Sets:
    """What the database says about a filter: keys an image must be in (None: no such
    condition), keys it must not be in, and whether any image has a disagreement score."""

    wanted: frozenset[str] | None
    leave_out: frozenset[str]
    scored: bool


class GalleryQuery:
    """Filters a batch on the server; results are cached, keyed by what they depend on."""

    def __init__(self, engine: Engine, catalog: Catalog, cache: Cache) -> None:
        self.engine = engine
        self.catalog = catalog
        self.cache = cache

    def stamp(self) -> str:
        """Changes whenever a shape, status, review or disagreement score changes: the last
        event's id (every change writes one) and the disagreement table's newest time."""
        try:
            with self.engine.connect() as conn:
                last = conn.execute(select(func.max(EVENTS.c.id))).scalar()
                scores = conn.execute(
                    select(func.count(), func.max(IMAGE_DISAGREEMENT.c.computed_at))
                ).one()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the gallery: {database_reason(exc)}") from None
        return f"{last}:{scores[0]}:{scores[1]}"

    def matching(self, batch: str, found: GalleryFilter, scope: Scope, need: int) -> Matches:
        """The images of the batch the filter keeps: all of them, or at least the first
        `need` when finding more would list more of a huge batch (cached until anything
        changes: a complete answer, and the database's part of any)."""
        digest = hashlib.blake2b(repr((batch, found.first_page(), scope)).encode(), digest_size=12)
        generation = self.catalog._generation()  # a refreshed listing is a new result
        key = f"gallery:{self.catalog.tag}:{generation}:{self.stamp()}:{digest.hexdigest()}"
        cached = self.cache.get(key)
        if isinstance(cached, Matches):
            return cached
        sets = self.cache.get(key + ":sets")
        if not isinstance(sets, _Sets):
            sets = self._sets(batch, found, scope)
            self.cache.set(key + ":sets", sets, timeout=self.catalog.ttl)
        result = self._matching(batch, found.name.lower(), sets, need)
        if result.exact:
            self.cache.set(key, result, timeout=self.catalog.ttl)
        return result

    def _sets(self, batch: str, found: GalleryFilter, scope: Scope) -> _Sets:
        prefix = batch_prefix(batch)
        try:
            with self.engine.connect() as conn:
                keep, leave_out = _database_sets(conn, prefix, found, scope)
                scored = conn.execute(
                    select(IMAGE_DISAGREEMENT.c.image_key)
                    .where(_under(IMAGE_DISAGREEMENT.c.image_key, prefix))
                    .limit(1)
                ).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot filter the gallery: {database_reason(exc)}") from None
        wanted = None
        for group in keep:
            wanted = group if wanted is None else wanted & group
        chosen = None if wanted is None else frozenset(wanted)
        return _Sets(chosen, frozenset(leave_out), scored is not None)

    def _matching(self, batch: str, needle: str, sets: _Sets, need: int) -> Matches:
        prefix = batch_prefix(batch)

        def named(key: str) -> bool:
            return not needle or needle in key[len(prefix) :].lower()

        wanted = sets.wanted
        if wanted is not None and not sets.leave_out:
            # Only images the database knows of can match: no need to list the batch (its
            # positions are found when one is opened). Keys of the source's sort order.
            chosen = sorted(k for k in wanted if in_batch(k, batch) and named(k))
            return Matches(tuple((UNKNOWN, k) for k in chosen), True, sets.scored)
        # Images the database has nothing on can match ("to do", "finished by 0", a name):
        # the listing is read page by page until the page asked for is full, or to its end
        # when the batch has been listed whole already (its pages are cached then).
        listed = self.catalog.count(batch)[1]
        result: list[tuple[int, str]] = []
        index = 0
        for keys, more in self._listing(batch):
            for key in keys:
                if (wanted is None or key in wanted) and key not in sets.leave_out and named(key):
                    result.append((index, key))
                index += 1
            if more and len(result) >= need and not listed:
                return Matches(tuple(result), False, sets.scored)
        return Matches(tuple(result), True, sets.scored)

    def _listing(self, batch: str) -> Iterable[tuple[tuple[str, ...], bool]]:
        """The batch's keys page by page (cached pages of the catalog), and whether more
        pages follow."""
        number = 0
        while True:
            page = self.catalog.page(batch, number)
            more = page.more and bool(page.keys)
            yield page.keys, more
            if not more:
                return
            number += 1

    def page(
        self, batch: str, found: GalleryFilter, scope: Scope
    ) -> tuple[list[tuple[int, str]], int, bool, bool]:
        """(the page's (position, key) pairs, how many images match, whether that count is
        final (else "at least"), whether any image of the batch has a disagreement score)."""
        start = (found.page - 1) * PER_PAGE
        if found.narrows:
            matches = self.matching(batch, found, scope, start + PER_PAGE + 1)
            chosen = list(matches.found[start : start + PER_PAGE])
            return chosen, len(matches.found), matches.exact, matches.scored
        keys = self.catalog.keys_from(batch, start, PER_PAGE)
        total, final = self.catalog.count(batch)
        if not final:  # a huge batch not listed to its end yet: "at least"
            total = max(total, start + len(keys) + 1)
        return [(start + i, key) for i, key in enumerate(keys)], total, final, True


def _keys(conn: Any, query: Any) -> set[str]:
    return set(conn.execute(query).scalars())


def _database_sets(
    conn: Any, prefix: str, found: GalleryFilter, scope: Scope
) -> tuple[list[set[str]], set[str]]:
    """(sets of keys an image must be in, keys it must not be in), one grouped query per
    condition over the batch's prefix."""
    keep: list[set[str]] = []
    leave_out: set[str] = set()
    status_c, shape_c = STATUSES.c, ANNOTATIONS.c
    who = scope.subject
    whose_status = status_c.annotator == who if who is not None else _person(status_c.annotator)
    under = _under(status_c.image_key, prefix)
    if found.status in ("done", "empty", "skipped"):
        query = select(status_c.image_key).where(under, whose_status)
        keep.append(_keys(conn, query.where(status_c.status == found.status).distinct()))
    elif found.status == "todo":
        leave_out |= _keys(conn, select(status_c.image_key).where(under, whose_status).distinct())
    elif found.status == "reviewed" or (found.status == "rework" and who is None):
        verdict = ReviewStatus.ACCEPTED if found.status == "reviewed" else ReviewStatus.REWORK
        query = select(REVIEWS.c.image_key).where(
            _under(REVIEWS.c.image_key, prefix), REVIEWS.c.status == verdict.value
        )
        keep.append(_keys(conn, query))
    elif found.status == "rework":
        query = select(REWORK.c.image_key).where(
            _under(REWORK.c.image_key, prefix),
            REWORK.c.annotator == who,
            REWORK.c.done_at.is_(None),
        )
        keep.append(_keys(conn, query))
    if found.label:
        whose = _label_scope(shape_c.annotator, scope)
        query = select(shape_c.image_key).where(
            _under(shape_c.image_key, prefix), shape_c.label == found.label, whose
        )
        keep.append(_keys(conn, query.distinct()))
    if scope.worked_only and who is not None:
        drew = select(shape_c.image_key).where(
            _under(shape_c.image_key, prefix), shape_c.annotator == who
        )
        marked = select(status_c.image_key).where(under, status_c.annotator == who)
        keep.append(_keys(conn, drew.distinct()) | _keys(conn, marked))
    if found.finished is not None:
        query = (
            select(status_c.image_key, func.count())
            .where(under, _person(status_c.annotator), status_c.status.in_(FINISHED))
            .group_by(status_c.image_key)
        )
        counts = {key: int(n) for key, n in conn.execute(query)}
        if found.finished == 0:
            leave_out |= set(counts)
        else:
            keep.append({k for k, n in counts.items() if n == found.finished})
    if found.disagreement is not None:
        column = IMAGE_DISAGREEMENT.c
        query = select(column.image_key).where(
            _under(column.image_key, prefix), column.score > found.disagreement
        )
        keep.append(_keys(conn, query))
    if found.score is not None:
        query = select(shape_c.image_key).where(
            _under(shape_c.image_key, prefix),
            shape_c.annotator.startswith(MODEL_PREFIX, autoescape=True),
            shape_c.score < found.score,
        )
        keep.append(_keys(conn, query.distinct()))
    return keep, leave_out


def _label_scope(column: Any, scope: Scope) -> Any:
    """Whose shapes the label filter looks at: the ones drawn (one annotator's, gold's or a
    model's); for everyone and the consensus, every person's."""
    if scope.shown in (EVERYONE, CONSENSUS):
        return _person(column)
    return column == scope.shown


@dataclass(frozen=True)
class PageFacts:
    """What one page of images shows besides the pixels: statuses by annotator (the
    subject's only, or every person's), reviews, the subject's open rework requests, and
    the shapes to draw (for the consensus: every person's, with their statuses)."""

    statuses: dict[str, dict[str, str]]
    reviews: dict[str, Review]
    rework: set[str]
    shapes: list[Annotation]


def page_facts(engine: Engine, keys: Sequence[str], scope: Scope) -> PageFacts:
    """The facts of a page of keys in four queries (per 500 keys)."""
    status_c, shape_c = STATUSES.c, ANNOTATIONS.c
    who = scope.subject
    if scope.shown in (EVERYONE, CONSENSUS):
        whose_shapes = _person(shape_c.annotator)
    else:
        whose_shapes = shape_c.annotator == scope.shown
    statuses: dict[str, dict[str, str]] = {}
    rework: set[str] = set()
    shapes: list[Annotation] = []
    try:
        with engine.connect() as conn:
            for chunk in _chunks(keys):
                query = select(status_c.image_key, status_c.annotator, status_c.status).where(
                    status_c.image_key.in_(chunk),
                    status_c.annotator == who if who is not None else _person(status_c.annotator),
                )
                for key, annotator, status in conn.execute(query):
                    statuses.setdefault(key, {})[annotator] = status
                if who is not None:
                    query = select(REWORK.c.image_key).where(
                        REWORK.c.image_key.in_(chunk),
                        REWORK.c.annotator == who,
                        REWORK.c.done_at.is_(None),
                    )
                    rework |= _keys(conn, query)
                rows = conn.execute(
                    _rows()
                    .where(shape_c.image_key.in_(chunk), whose_shapes)
                    .order_by(shape_c.image_key, shape_c.created_at, shape_c.id)
                )
                shapes += _readable(rows)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the gallery's page: {database_reason(exc)}") from None
    reviews = ReviewStore(engine).reviews_of(list(keys))
    return PageFacts(statuses, reviews, rework, shapes)


def known_models(engine: Engine) -> list[str]:
    """The model annotators (model:<name>) with stored shapes, sorted."""
    column = ANNOTATIONS.c.annotator
    query = select(column).where(column.startswith(MODEL_PREFIX, autoescape=True)).distinct()
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(query).scalars())
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the models: {database_reason(exc)}") from None
