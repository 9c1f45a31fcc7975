"""The change history as CSV: one row per recorded event, for reviewers and researchers."""

from __future__ import annotations

import csv
import io
import json

from formats.spreadsheet import neutralise_row
from storage.images import batch_prefix
from storage.runtime import Services

COLUMNS = (
    "event_id",
    "at",
    "actor",
    "image_key",
    "annotator",
    "action",
    "annotation_id",
    "change",
    "undoes",
    "before",
    "after",
)


def history_csv(
    services: Services, annotator: str | None = None, batch: str | None = None
) -> bytes:
    """Every event (of one annotator, of one batch), oldest first; before/after as JSON;
    text that a spreadsheet would run as a formula is quoted (formats.spreadsheet)."""
    events = services.store.events(annotator=annotator, key_prefix=batch_prefix(batch))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in events:
        writer.writerow(
            neutralise_row(
                [
                    e.id,
                    e.at.isoformat(),
                    e.actor,
                    e.image_key,
                    e.annotator,
                    e.action,
                    e.annotation_id or "",
                    e.change,
                    e.undoes or "",
                    "" if e.before is None else json.dumps(e.before, sort_keys=True),
                    "" if e.after is None else json.dumps(e.after, sort_keys=True),
                ]
            )
        )
    return out.getvalue().encode("utf-8")
