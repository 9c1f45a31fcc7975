"""Agreement between annotators, measured on what the store holds."""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.intra import first_passes
from analysis.work import Work, usable_work, work_of
from domain.annotation import Annotation
from domain.sources import is_model
from storage.annotation_store import ExportRows
from storage.images import batch_prefix, in_batch
from storage.runtime import Services

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # analysis never looks at times; skip the clock


def load_work(
    services: Services, batch: str | None = None, repeats: bool = False, models: bool = False
) -> Work:
    """Every finished (image, annotator) pair with its shapes, of one batch or all; second
    passes (`name#repeat`) only when `repeats` (for intra-rater reliability), a detector's
    shapes (`model:<name>`) only when `models`: people's agreement is people's only.
    Stored shapes that cannot be read or compared are left out and listed in work.left_out."""
    rows = services.store.export_rows(key_prefix=batch_prefix(batch))
    if not models:
        rows = ExportRows(
            [row for row in rows.shapes if not is_model(row.annotator)],
            {pair: status for pair, status in rows.statuses.items() if not is_model(pair[1])},
            [row for row in rows.skipped if not is_model(row.annotator)],
        )
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
    seconds = {
        pair: spent
        for pair, spent in services.store.active_times(batch_prefix(batch)).items()
        if batch is None or in_batch(pair[0], batch)
    }
    found = work_of(shapes, statuses, seconds)
    skipped = tuple(r for r in rows.skipped if batch is None or in_batch(r.image_key, batch))
    work = usable_work(Work(found.by_image, found.seconds, skipped))
    return work if repeats else first_passes(work)
