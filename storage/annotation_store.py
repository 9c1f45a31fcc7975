"""The annotation store: SQLAlchemy Core on SQLite (default) or PostgreSQL, unchanged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Engine,
    Text,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import Annotation, utc_now
from domain.changes import DECISIONS, PastEvent, ShapeChange, plan_sync, plan_undo
from domain.repeats import REPEAT_SUFFIX
from domain.sources import MODEL_PREFIX, is_gold
from domain.status import FINISHED, ImageStatus
from domain.stored_rows import SkippedRow, read_geometry
from domain.suggestions import Decision
from storage.assignments import settle_claim
from storage.database_file import check_before_opening, sqlite_file, watch
from storage.errors import (
    EditConflict,
    NothingToUndo,
    SaveFailed,
    StorageError,
    database_reason,
)
from storage.history import Event, EventLog, event_of, events_query, last_undoable
from storage.migrate import upgrade
from storage.renditions import ImageInfo
from storage.schema import ACTIVE_TIMES, ANNOTATIONS, IMAGE_SIZES, STATUSES, as_utc
from storage.status_counts import count_changes, read_counts
from storage.status_writes import close_rework_in, locked_status, put_status


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets its folder created, WAL and a busy timeout, and its
    file is checked (writable, not deleted since it was made) and watched while it is used."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the database folder {folder}: {exc}") from None
    database = sqlite_file(url)
    if database is not None:
        check_before_opening(database)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if database is not None:
        watch(engine, database)
    return engine


logger = logging.getLogger("concord.store")

# Every column, the geometry as its JSON text: a row whose JSON does not parse is skipped
# by the readers (domain.stored_rows) instead of failing the whole query.
_ROW_COLUMNS = (
    *(column for column in ANNOTATIONS.c if column.name != "geometry"),
    cast(ANNOTATIONS.c.geometry, Text).label("geometry"),
)


def _rows() -> Any:
    """select() of whole annotation rows, for _row_to_annotation."""
    return select(*_ROW_COLUMNS)


def _row_to_annotation(row: Any) -> Annotation | SkippedRow:
    """The record of a stored row, or the SkippedRow saying why it cannot be used."""
    geometry = read_geometry(row.kind, row.geometry)
    if isinstance(geometry, str):
        return SkippedRow(row.image_key, row.annotator, row.id, geometry)
    return Annotation(
        id=row.id,
        image_key=row.image_key,
        annotator=row.annotator,
        label=row.label,
        kind=row.kind,
        coords=tuple(float(v) for v in geometry.coords),
        points=tuple((float(x), float(y)) for x, y in geometry.points),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        source=row.source,
        version=int(row.version),
        score=row.score,
    )


def _readable(rows: Iterable[Any]) -> list[Annotation]:
    """The records of the rows that can be read; the others are logged and left alone."""
    found: list[Annotation] = []
    for row in rows:
        record = _row_to_annotation(row)
        if isinstance(record, SkippedRow):
            logger.warning(
                "stored shape %s on %s skipped: %s", record.id, record.image_key, record.reason
            )
        else:
            found.append(record)
    return found


def _values(record: Annotation) -> dict[str, Any]:
    return {
        "id": record.id,
        "image_key": record.image_key,
        "annotator": record.annotator,
        "label": record.label,
        "kind": record.kind,
        "geometry": {"coords": list(record.coords), "points": [list(p) for p in record.points]},
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "source": record.source,
        "version": max(record.version, 1),
        "score": record.score,
    }


class StoredShape(NamedTuple):
    """A stored shape as an export needs it (no ids or times: cheap to read by the 100,000)."""

    image_key: str
    annotator: str
    label: str
    kind: str
    coords: tuple[float, ...]
    points: tuple[tuple[float, float], ...]
    score: float | None = None  # a detector's confidence, for its own shapes
    source: str = "human"  # or model:<name>@<version>


@dataclass(frozen=True)
class ExportRows:
    """Shapes and statuses for an export: every readable shape, (image, annotator) ->
    status, and the stored shapes left out as unusable (domain.stored_rows)."""

    shapes: list[StoredShape]
    statuses: dict[tuple[str, str], str]
    skipped: list[SkippedRow] = field(default_factory=list)  # rows that could not be read


@dataclass(frozen=True)
class ReplaceCounts:
    """What a bulk replace changed."""

    inserted: int
    deleted: int
    unchanged: int


class AnnotationStore:
    """Reads and writes annotations and statuses; every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> AnnotationStore:
        """Connect and bring the schema to the newest migration (creating it if need be)."""
        store = cls(make_engine(url))
        upgrade(store.engine)
        return store

    def annotations_for(self, image_key: str, annotator: str) -> list[Annotation]:
        """One annotator's shapes on one image, oldest first."""
        query = (
            _rows()
            .where(ANNOTATIONS.c.image_key == image_key, ANNOTATIONS.c.annotator == annotator)
            .order_by(ANNOTATIONS.c.created_at, ANNOTATIONS.c.id)
        )
        try:
            with self.engine.connect() as conn:
                return _readable(conn.execute(query))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read annotations: {database_reason(exc)}") from None

    def sync_image(
        self,
        image_key: str,
        annotator: str,
        records: Iterable[Annotation],
        known: Iterable[tuple[str, int]] | None = None,
        actor: str | None = None,
        writer: str | None = None,
        decisions: Sequence[Decision] = (),
    ) -> tuple[Annotation, ...]:
        """Save what the browser holds for (image, annotator) in one transaction, with an
        event per change; the stored records (with their new versions) come back.

        With `known` ((id, version) last read), a shape someone changed since (another
        tab) is not overwritten: EditConflict, and nothing is written. Rows of other
        annotators are never touched. The image's status becomes 'done' with shapes (not
        gold's: a reviewer's accept finishes gold, storage.review_store).
        `decisions` are recorded in the same transaction: an accept only if the shape it
        names was created by this save, a reject always.
        """
        records = list(records)
        for record in records:
            if (record.image_key, record.annotator) != (image_key, annotator):
                raise SaveFailed("a shape belongs to another image or annotator; not saved")
        mine = (ANNOTATIONS.c.image_key == image_key) & (ANNOTATIONS.c.annotator == annotator)
        log = EventLog(actor or annotator)
        try:
            with self.engine.begin() as conn:
                rows = list(conn.execute(_rows().where(mine)))
                # an unreadable row is left as it is: no browser holds it to change it
                stored = {record.id: record for record in _readable(rows)}
                writers = {row.id: row.writer for row in rows}
                wanted = [r.id for r in records]
                if (
                    wanted
                    and conn.execute(
                        select(ANNOTATIONS.c.id).where(ANNOTATIONS.c.id.in_(wanted), ~mine)
                    ).first()
                ):
                    raise SaveFailed("a shape id is already used by another image or annotator")
                seen = None if known is None else dict(known)
                plan = plan_sync(stored, records, seen, writers, writer)
                if plan.conflicts:
                    raise EditConflict(_conflict_message(plan.conflicts))
                for change in plan.changes:
                    _apply(conn, change, writer)
                    log.shape(change)
                created = {c.after.id for c in plan.changes if c.before is None and c.after}
                for decision in decisions:  # a reject (a reviewer's verdict) makes no shape
                    if decision.shape_id in created or decision.action == DECISIONS[1]:
                        log.decision(
                            image_key, annotator, decision.action, **decision.event_values()
                        )
                if not is_gold(annotator):  # gold is finished by a reviewer's accept
                    self._set_status_in(
                        conn, image_key, annotator, ImageStatus.DONE if plan.result else None, log
                    )
                elif plan.changes:  # accepted gold edited since: done or empty, as it is now
                    now = locked_status(
                        conn,
                        (STATUSES.c.image_key == image_key) & (STATUSES.c.annotator == annotator),
                    )
                    if now in FINISHED:
                        finished = ImageStatus.DONE if plan.result else ImageStatus.EMPTY
                        self._set_status_in(conn, image_key, annotator, finished, log)
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the change: {database_reason(exc)}") from None
        return plan.result

    def _set_status_in(
        self,
        conn: Any,
        image_key: str,
        annotator: str,
        status: ImageStatus | None,
        log: EventLog,
    ) -> None:
        key = (STATUSES.c.image_key == image_key) & (STATUSES.c.annotator == annotator)
        current = locked_status(conn, key)
        if status is None:
            if current == ImageStatus.DONE:  # shapes all deleted: no longer done
                conn.execute(delete(STATUSES).where(key))
                count_changes(conn, [(image_key, annotator, current, None)])
                log.status(image_key, annotator, current, None)
                settle_claim(conn, image_key, annotator, None)
            return
        if current == status:
            return
        values = {"status": status.value, "updated_at": utc_now()}
        if current is None:
            conn.execute(
                insert(STATUSES).values(image_key=image_key, annotator=annotator, **values)
            )
        else:
            conn.execute(update(STATUSES).where(key).values(**values))
        count_changes(conn, [(image_key, annotator, current, status.value)])
        log.status(image_key, annotator, current, status.value)
        settle_claim(conn, image_key, annotator, status.value)
        close_rework_in(conn, image_key, annotator, status.value)

    def set_status(
        self, image_key: str, annotator: str, status: ImageStatus, actor: str | None = None
    ) -> None:
        """Record that an annotator found an image empty, skipped it, or finished it."""
        log = EventLog(actor or annotator)
        try:
            with self.engine.begin() as conn:
                self._set_status_in(conn, image_key, annotator, status, log)
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the status: {database_reason(exc)}") from None

    def record_decisions(
        self, image_key: str, annotator: str, decisions: Sequence[Decision], actor: str
    ) -> None:
        """Record decisions on suggestions that change no shape (rejects), in one
        transaction, as one change (so one undo takes them back)."""
        log = EventLog(actor)
        for decision in decisions:
            log.decision(image_key, annotator, decision.action, **decision.event_values())
        try:
            with self.engine.begin() as conn:
                log.write(conn)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the decision: {database_reason(exc)}") from None

    def statuses_for(self, annotator: str) -> dict[str, str]:
        """image key -> status, for one annotator."""
        query = select(STATUSES.c.image_key, STATUSES.c.status).where(
            STATUSES.c.annotator == annotator
        )
        try:
            with self.engine.connect() as conn:
                return {row.image_key: row.status for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read statuses: {database_reason(exc)}") from None

    def progress_counts(self, annotator: str, batch: str) -> dict[str, int]:
        """status -> how many images of the batch ('' the top level) the annotator has in
        it: a few counted rows, whatever the batch's size."""
        try:
            with self.engine.connect() as conn:
                return read_counts(conn, annotator, batch)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read statuses: {database_reason(exc)}") from None

    def count_finished_by_people(self) -> int:
        """(image, person) pairs finished (done or empty): not a detector's (model:<name>)
        nor a second pass (name#repeat)."""
        column = STATUSES.c
        query = (
            select(func.count())
            .select_from(STATUSES)
            .where(column.status.in_(FINISHED))
            .where(~column.annotator.startswith(MODEL_PREFIX, autoescape=True))
            .where(~column.annotator.endswith(REPEAT_SUFFIX, autoescape=True))
        )
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(query).scalar() or 0)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count finished images: {database_reason(exc)}") from None

    def finished_in_order(self, annotator: str, key_prefix: str = "") -> list[str]:
        """The images the annotator finished (done or no objects), in the order they did."""
        query = (
            select(STATUSES.c.image_key)
            .where(
                STATUSES.c.annotator == annotator,
                STATUSES.c.status.in_(FINISHED),
            )
            .order_by(STATUSES.c.updated_at, STATUSES.c.image_key)
        )
        if key_prefix:
            query = query.where(STATUSES.c.image_key.startswith(key_prefix, autoescape=True))
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query).scalars())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read statuses: {database_reason(exc)}") from None

    def annotators(self) -> list[str]:
        """Everyone who has drawn a shape or set a status, sorted."""
        try:
            with self.engine.connect() as conn:
                names = set(conn.execute(select(ANNOTATIONS.c.annotator).distinct()).scalars())
                names |= set(conn.execute(select(STATUSES.c.annotator).distinct()).scalars())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read annotators: {database_reason(exc)}") from None
        return sorted(names)

    def export_rows(self, annotator: str | None = None, key_prefix: str = "") -> ExportRows:
        """Every shape and status (of one annotator, or all), of keys starting with key_prefix."""
        columns = ANNOTATIONS.c
        shapes = select(
            columns.image_key,
            columns.annotator,
            columns.label,
            columns.kind,
            cast(columns.geometry, Text),  # parsed here: a row that does not parse is skipped
            columns.score,
            columns.source,
            columns.id,
        ).order_by(columns.image_key, columns.annotator, columns.created_at, columns.id)
        statuses = select(STATUSES.c.image_key, STATUSES.c.annotator, STATUSES.c.status)
        if annotator is not None:
            shapes = shapes.where(ANNOTATIONS.c.annotator == annotator)
            statuses = statuses.where(STATUSES.c.annotator == annotator)
        if key_prefix:
            shapes = shapes.where(ANNOTATIONS.c.image_key.startswith(key_prefix, autoescape=True))
            statuses = statuses.where(STATUSES.c.image_key.startswith(key_prefix, autoescape=True))
        found: list[StoredShape] = []
        skipped: list[SkippedRow] = []
        try:
            with self.engine.connect() as conn:
                for key, who, label, kind, text, score, source, row_id in conn.execute(shapes):
                    geometry = read_geometry(kind, text)
                    if isinstance(geometry, str):
                        skipped.append(SkippedRow(key, who, row_id, geometry))
                        continue
                    found.append(StoredShape(key, who, label, kind, *geometry, score, source))
                status = {(r.image_key, r.annotator): r.status for r in conn.execute(statuses)}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read annotations: {database_reason(exc)}") from None
        return ExportRows(found, status, skipped)

    def replace_images(
        self, groups: Sequence[tuple[str, str, Sequence[Annotation]]], actor: str = "import"
    ) -> ReplaceCounts:
        """Make each (image, annotator)'s shapes equal the given records, all in one
        transaction: if anything fails, nothing is written. Each pair's status becomes
        'done' (with shapes) or 'empty' (without). Every change is an event by `actor`.

        Ids are content keys here: a record whose id is already stored for its pair is left
        as it is (callers give changed content a new id), so replacing twice is a no-op.
        """
        pairs = {(key, who) for key, who, _ in groups}
        who_all = sorted({who for _, who in pairs})
        inserted = deleted = unchanged = 0
        columns = ANNOTATIONS.c
        try:
            with self.engine.begin() as conn:
                stored: dict[tuple[str, str], set[str]] = {}
                for start in range(0, len(who_all), 500):
                    query = select(columns.id, columns.image_key, columns.annotator).where(
                        columns.annotator.in_(who_all[start : start + 500])
                    )
                    for record_id, key, who in conn.execute(query):
                        if (key, who) in pairs:
                            stored.setdefault((key, who), set()).add(record_id)
                old_status = {
                    (row.image_key, row.annotator): row.status
                    for row in conn.execute(
                        select(STATUSES).where(STATUSES.c.annotator.in_(who_all))
                    )
                    if (row.image_key, row.annotator) in pairs
                }
                to_delete: list[str] = []
                to_insert: list[Annotation] = []
                status_rows: list[dict[str, Any]] = []
                now = utc_now()
                for key, who, records in groups:
                    current = stored.get((key, who), set())
                    wanted = {r.id for r in records}
                    unchanged += len(current & wanted)
                    to_delete.extend(current - wanted)
                    to_insert.extend(r for r in records if r.id not in current)
                    status = (ImageStatus.DONE if records else ImageStatus.EMPTY).value
                    if old_status.get((key, who)) != status:
                        status_rows.append(
                            {
                                "image_key": key,
                                "annotator": who,
                                "status": status,
                                "updated_at": now,
                            }
                        )
                log = EventLog(actor, at=now)
                for start in range(0, len(to_delete), 500):
                    chunk = to_delete[start : start + 500]
                    for row in conn.execute(_rows().where(columns.id.in_(chunk))):
                        old = _row_to_annotation(row)
                        if isinstance(old, Annotation):  # an unreadable row goes unrecorded
                            log.shape(ShapeChange(old, None))
                    conn.execute(delete(ANNOTATIONS).where(ANNOTATIONS.c.id.in_(chunk)))
                if to_insert:
                    _insert_many(conn, to_insert)
                for record in to_insert:
                    log.shape(ShapeChange(None, replace(record, version=1)))
                for values in status_rows:
                    key, who = values["image_key"], values["annotator"]
                    log.status(key, who, old_status.get((key, who)), values["status"])
                changed = [(r["image_key"], r["annotator"]) for r in status_rows]
                gone: dict[tuple[str, str], str] = {}  # what the rows held when deleted
                for start in range(0, len(changed), 200):
                    pairs_chunk = changed[start : start + 200]
                    found = conn.execute(
                        delete(STATUSES)
                        .where(tuple_(STATUSES.c.image_key, STATUSES.c.annotator).in_(pairs_chunk))
                        .returning(STATUSES.c.image_key, STATUSES.c.annotator, STATUSES.c.status)
                    )
                    gone.update({(row[0], row[1]): row[2] for row in found})
                if status_rows:
                    conn.execute(insert(STATUSES), status_rows)
                count_changes(
                    conn,
                    [
                        (r["image_key"], r["annotator"], gone.get(pair), r["status"])
                        for r, pair in zip(status_rows, changed, strict=True)
                    ],
                )
                log.write(conn)
                deleted, inserted = len(to_delete), len(to_insert)
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the import: {database_reason(exc)}") from None
        return ReplaceCounts(inserted, deleted, unchanged)

    def events(
        self, image_key: str | None = None, annotator: str | None = None, key_prefix: str = ""
    ) -> list[Event]:
        """Recorded changes, oldest first: of one image and/or annotator, or all."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(events_query(image_key, annotator, key_prefix))
                return [event_of(row) for row in rows]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the history: {database_reason(exc)}") from None

    def undo_last(self, image_key: str, annotator: str, actor: str) -> tuple[Annotation, ...]:
        """Undo the newest change `actor` made to annotator's work on this image that is
        not undone yet; the shapes as they are afterwards come back. The undo is itself
        recorded, so the history keeps both."""
        mine = (ANNOTATIONS.c.image_key == image_key) & (ANNOTATIONS.c.annotator == annotator)
        try:
            with self.engine.begin() as conn:
                history = [
                    event_of(row) for row in conn.execute(events_query(image_key, annotator))
                ]
                target = last_undoable(history, actor)
                if target is None:
                    raise NothingToUndo("There is no change of yours on this image to undo.")
                stored = {
                    record.id: record for record in _readable(conn.execute(_rows().where(mine)))
                }
                past = [
                    PastEvent(e.action, e.annotation_id, e.before, e.after)
                    for e in history
                    if e.change == target
                ]
                plan = plan_undo(image_key, annotator, past, stored, utc_now())
                if plan.conflicts:
                    raise EditConflict(
                        f"Cannot undo: {'; '.join(plan.conflicts)}. Nothing was changed."
                    )
                log = EventLog(actor, undoes=target)
                for change in plan.changes:
                    _apply(conn, change)
                    log.shape(change)
                for past_event in past:  # decisions are taken back too (the undo says so)
                    if past_event.action in DECISIONS:
                        log.decision(
                            image_key,
                            annotator,
                            past_event.action,
                            annotation_id=past_event.annotation_id,
                            before=past_event.before,
                            after=past_event.after,
                        )
                if plan.status[0]:
                    put_status(conn, image_key, annotator, plan.status[1], log)
                log.write(conn)
                after = conn.execute(
                    _rows().where(mine).order_by(ANNOTATIONS.c.created_at, ANNOTATIONS.c.id)
                )
                return tuple(_readable(after))
        except SQLAlchemyError as exc:
            raise SaveFailed(f"the database refused the undo: {database_reason(exc)}") from None

    def add_active_time(self, image_key: str, annotator: str, seconds: float) -> None:
        """Add seconds of active work on an image to the annotator's total for it."""
        key = (ACTIVE_TIMES.c.image_key == image_key) & (ACTIVE_TIMES.c.annotator == annotator)
        try:
            with self.engine.begin() as conn:
                current = conn.execute(select(ACTIVE_TIMES.c.seconds).where(key)).scalar()
                if current is None:
                    row = {"image_key": image_key, "annotator": annotator, "seconds": seconds}
                    conn.execute(insert(ACTIVE_TIMES).values(**row))
                else:
                    conn.execute(update(ACTIVE_TIMES).where(key).values(seconds=current + seconds))
        except SQLAlchemyError as exc:
            raise SaveFailed(
                f"the database refused the time spent: {database_reason(exc)}"
            ) from None

    def active_times(self, key_prefix: str = "") -> dict[tuple[str, str], float]:
        """(image, annotator) -> active seconds, of keys starting with key_prefix."""
        query = select(ACTIVE_TIMES)
        if key_prefix:
            query = query.where(ACTIVE_TIMES.c.image_key.startswith(key_prefix, autoescape=True))
        try:
            with self.engine.connect() as conn:
                return {(r.image_key, r.annotator): float(r.seconds) for r in conn.execute(query)}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the time spent: {database_reason(exc)}") from None

    def known_sizes(self, keys: Sequence[str]) -> dict[str, tuple[str, ImageInfo]]:
        """Remembered sizes of these images: key -> (fingerprint, info)."""
        found: dict[str, tuple[str, ImageInfo]] = {}
        columns = IMAGE_SIZES.c
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(keys), 500):
                    query = select(IMAGE_SIZES).where(
                        columns.image_key.in_(list(keys[start : start + 500]))
                    )
                    for row in conn.execute(query):
                        info = ImageInfo(
                            row.width, row.height, row.format, row.mode, row.orientation
                        )
                        found[row.image_key] = (row.fingerprint, info)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read image sizes: {database_reason(exc)}") from None
        return found

    def remember_sizes(self, sizes: Mapping[str, tuple[str, ImageInfo]]) -> None:
        """Remember images' sizes by fingerprint (replacing what was known of them)."""
        keys = sorted(sizes)
        rows = [
            {
                "image_key": key,
                "fingerprint": sizes[key][0],
                "width": sizes[key][1].width,
                "height": sizes[key][1].height,
                "format": sizes[key][1].format[:16],
                "mode": sizes[key][1].mode[:16],
                "orientation": sizes[key][1].orientation,
            }
            for key in keys
        ]
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    conn.execute(delete(IMAGE_SIZES).where(IMAGE_SIZES.c.image_key.in_(chunk)))
                if rows:
                    conn.execute(insert(IMAGE_SIZES), rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot remember image sizes: {database_reason(exc)}") from None


_COLUMNS = ("id", "image_key", "annotator", "label", "kind", "geometry")
_TIMES = ("created_at", "updated_at", "source", "version", "score")


def _insert_many(conn: Any, records: list[Annotation]) -> None:
    """Insert many records. On SQLite straight through the driver's executemany, with
    values made as SQLAlchemy stores them (JSON text, naive UTC times): SQLAlchemy's
    per-row type processing was most of a 100,000-shape import. Elsewhere, Core's insert
    (PostgreSQL gets multi-row VALUES from it)."""
    if conn.dialect.name != "sqlite":
        conn.execute(insert(ANNOTATIONS), [_values(r) for r in records])
        return
    columns = ", ".join(_COLUMNS + _TIMES)
    marks = ", ".join("?" * (len(_COLUMNS) + len(_TIMES)))
    dumps = json.dumps

    stamps: dict[datetime, str] = {}  # an import's records share their updated time

    def stamp(moment: datetime) -> str:
        text = stamps.get(moment)
        if text is None:
            utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
            text = stamps[moment] = utc.replace(tzinfo=None).isoformat(" ", "microseconds")
        return text

    rows = [
        (
            r.id,
            r.image_key,
            r.annotator,
            r.label,
            r.kind,
            dumps({"coords": list(r.coords), "points": [list(p) for p in r.points]}),
            stamp(r.created_at),
            stamp(r.updated_at),
            r.source,
            max(r.version, 1),
            r.score,
        )
        for r in records
    ]
    conn.exec_driver_sql(f"INSERT INTO {ANNOTATIONS.name} ({columns}) VALUES ({marks})", rows)


def _apply(conn: Any, change: ShapeChange, writer: str | None = None) -> None:
    """Write one planned change; an edit or delete of a version someone changed meanwhile
    (a concurrent save that got there first) is a conflict and rolls everything back."""
    if change.before is None:
        assert change.after is not None
        conn.execute(insert(ANNOTATIONS).values({**_values(change.after), "writer": writer}))
        return
    same = (ANNOTATIONS.c.id == change.before.id) & (ANNOTATIONS.c.version == change.before.version)
    if change.after is None:
        done = conn.execute(delete(ANNOTATIONS).where(same))
    else:
        values = {**_values(change.after), "writer": writer}
        done = conn.execute(update(ANNOTATIONS).where(same).values(values))
    if done.rowcount != 1:
        raise EditConflict(_conflict_message(("a shape was changed in another tab or window",)))


def _conflict_message(conflicts: Sequence[str]) -> str:
    return (
        f"Not saved: {'; '.join(conflicts)}. The latest saved version is shown; "
        "make your change again if it is still needed."
    )
