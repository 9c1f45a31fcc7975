"""The change history as CSV: one row per recorded event, for reviewers and researchers.

Review events (issue 14) get readable columns besides their JSON: `review` (accepted,
rework, or cleared when a review was reopened), `comment` (the text of a comment in the
image's thread, or of a rework request: the row's annotator is the one asked to redo it) and
`sent_back_to` (the annotators a needs-rework verdict sent the image back to, comma
separated). A verdict's own comment is the comment row just before it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from domain.changes import REVIEW_ACTIONS
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
    "review",
    "comment",
    "sent_back_to",
)
REVIEW_CLEARED = "cleared"  # the review column of a reopened review (after = {"review": null})


def review_columns(action: str, after: dict[str, Any] | None) -> tuple[str, str, str]:
    """(review, comment, sent_back_to) of an event: filled for review, comment and rework
    events, empty for every other action."""
    if action not in REVIEW_ACTIONS or not isinstance(after, dict):
        return "", "", ""
    review = ""
    if action == "review":
        review = str(after.get("review") or REVIEW_CLEARED)
    comment = after.get("comment")
    annotators = after.get("annotators")
    sent = ", ".join(str(a) for a in annotators) if isinstance(annotators, list) else ""
    return review, comment if isinstance(comment, str) else "", sent


def history_csv(
    services: Services, annotator: str | None = None, batch: str | None = None
) -> bytes:
    """Every event (of one annotator, of one batch), oldest first; before/after as JSON,
    review verdicts, comments and rework requests also in columns of their own (module
    doc); text that a spreadsheet would run as a formula is quoted (formats.spreadsheet)."""
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
                    *review_columns(e.action, e.after),
                ]
            )
        )
    return out.getvalue().encode("utf-8")
