"""Agreement between annotators, measured on what the store holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from analysis.intra import first_passes
from analysis.work import Work, usable_work, work_of
from domain.annotation import Annotation
from domain.sources import GOLD, is_gold, is_model
from domain.status import FINISHED
from storage.annotation_store import ExportRows
from storage.images import batch_prefix, in_batch
from storage.runtime import Services

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # analysis never looks at times; skip the clock


def load_work(
    services: Services, batch: str | None = None, repeats: bool = False, models: bool = False
) -> Work:
    """Every finished (image, annotator) pair with its shapes, of one batch or all; second
    passes (`name#repeat`) only when `repeats` (for intra-rater reliability), a detector's
    shapes (`model:<name>`) only when `models`: people's agreement is people's only. Gold
    (the reviewed annotation) is never in it: see load_work_and_gold.
    Stored shapes that cannot be read or compared are left out and listed in work.left_out."""
    return _load(services, batch, repeats, models, with_gold=False)[0]


def load_work_and_gold(
    services: Services, batch: str | None = None, repeats: bool = False, models: bool = False
) -> tuple[Work, dict[str, tuple[Annotation, ...]]]:
    """load_work's work, and gold's shapes by image (from one read of the store) on the
    images where gold is finished (done or empty: a reviewer accepted it, or it was
    imported); gold's shapes on an image under review, not yet accepted, are not in it.
    Gold's stored shapes that cannot be compared join work.left_out, so the report lists
    them."""
    return _load(services, batch, repeats, models, with_gold=True)


def _load(
    services: Services, batch: str | None, repeats: bool, models: bool, with_gold: bool
) -> tuple[Work, dict[str, tuple[Annotation, ...]]]:
    rows = services.store.export_rows(key_prefix=batch_prefix(batch))

    def wanted(who: str) -> bool:
        return not is_gold(who) and (models or not is_model(who))

    work = _work_of(services, _rows_of(rows, wanted), batch)
    if not with_gold:
        return (work if repeats else first_passes(work)), {}
    gold_rows = _rows_of(rows, is_gold)
    gold_work = _work_of(services, gold_rows, batch, with_seconds=False)
    finished = {key for (key, _), status in gold_rows.statuses.items() if status in FINISHED}
    gold = {key: done.get(GOLD, ()) for key, done in gold_work.by_image.items() if key in finished}
    dropped = tuple(row for row in gold_work.left_out if row.image_key in finished)
    if dropped:
        work = Work(work.by_image, work.seconds, (*work.left_out, *dropped))
    return (work if repeats else first_passes(work)), gold


def _rows_of(rows: ExportRows, keep: Callable[[str], bool]) -> ExportRows:
    """The rows of the annotators `keep` says yes to."""
    return ExportRows(
        [row for row in rows.shapes if keep(row.annotator)],
        {pair: status for pair, status in rows.statuses.items() if keep(pair[1])},
        [row for row in rows.skipped if keep(row.annotator)],
    )


def _work_of(
    services: Services, rows: ExportRows, batch: str | None, with_seconds: bool = True
) -> Work:
    shapes = [
        Annotation(
            id=str(number),
            image_key=row.image_key,
            annotator=row.annotator,
            label=row.label,
            kind=row.kind,  # type: ignore[arg-type]
            coords=row.coords,
            points=row.points,
            created_at=_EPOCH,
            updated_at=_EPOCH,
            source=row.source,
            score=row.score,
        )
        for number, row in enumerate(rows.shapes)
        if batch is None or in_batch(row.image_key, batch)
    ]
    statuses = {
        pair: status
        for pair, status in rows.statuses.items()
        if batch is None or in_batch(pair[0], batch)
    }
    seconds = (
        {
            pair: spent
            for pair, spent in services.store.active_times(batch_prefix(batch)).items()
            if batch is None or in_batch(pair[0], batch)
        }
        if with_seconds
        else {}
    )
    found = work_of(shapes, statuses, seconds)
    skipped = tuple(r for r in rows.skipped if batch is None or in_batch(r.image_key, batch))
    return usable_work(Work(found.by_image, found.seconds, skipped))
