"""What a save changes, planned before anything is written: creates, edits and deletes of
one (image, annotator), checked against the versions the browser last saw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.annotation import Annotation, same_content

ELSEWHERE = "in another tab or window"


@dataclass(frozen=True)
class ShapeChange:
    """One shape created (before None), edited, or deleted (after None)."""

    before: Annotation | None
    after: Annotation | None

    @property
    def action(self) -> str:
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "edit"


@dataclass(frozen=True)
class SyncPlan:
    """The changes to write, the records as they will be stored, and any conflicts."""

    changes: tuple[ShapeChange, ...]
    result: tuple[Annotation, ...]
    conflicts: tuple[str, ...]


def _named(record: Annotation) -> str:
    return f"the {record.label} {record.kind}"


def plan_sync(
    stored: Mapping[str, Annotation],
    records: Sequence[Annotation],
    known: Mapping[str, int] | None,
    writers: Mapping[str, str | None] | None = None,
    writer: str | None = None,
) -> SyncPlan:
    """Plan making the stored shapes what the browser holds.

    With `known` (id -> version last seen), only shapes the browser knew are edited or
    deleted, and only if nobody changed them since; shapes created elsewhere are kept.
    A newer version saved by this same tab (`writers`: id -> tab of the stored version)
    is no conflict: a drag sends several saves before the first answer comes back.
    Without `known` (older browser state) the store is simply made equal to `records`.
    """
    writers = writers or {}

    def changed_elsewhere(old: Annotation, seen: int) -> bool:
        return seen != old.version and (writer is None or writers.get(old.id) != writer)

    changes: list[ShapeChange] = []
    conflicts: list[str] = []
    result: list[Annotation] = []
    wanted = {r.id for r in records}
    for record in records:
        old = stored.get(record.id)
        if old is None:
            if known is not None and record.id in known:
                conflicts.append(f"{_named(record)} was deleted {ELSEWHERE}")
                continue
            new = replace(record, version=1)
            changes.append(ShapeChange(None, new))
            result.append(new)
        elif same_content(old, record):
            result.append(old)  # nothing to write (a repeated save, or an unchanged shape)
        elif known is not None and changed_elsewhere(old, record.version):
            conflicts.append(f"{_named(old)} was changed {ELSEWHERE}")
            result.append(old)
        else:
            new = replace(record, version=old.version + 1, created_at=old.created_at)
            changes.append(ShapeChange(old, new))
            result.append(new)
    for old in stored.values():
        if old.id in wanted:
            continue
        if known is None:
            changes.append(ShapeChange(old, None))
        elif old.id not in known:
            result.append(old)  # drawn elsewhere: not this browser's to delete
        elif changed_elsewhere(old, known[old.id]):
            conflicts.append(f"{_named(old)} was changed {ELSEWHERE}")
            result.append(old)
        else:
            changes.append(ShapeChange(old, None))
    result.sort(key=lambda r: (r.created_at, r.id))  # as the store lists them
    return SyncPlan(tuple(changes), tuple(result), tuple(conflicts))


def shape_json(record: Annotation) -> dict[str, Any]:
    """A shape as an event's before/after (enough to put it back as it was)."""
    return {
        "label": record.label,
        "kind": record.kind,
        "coords": list(record.coords),
        "points": [list(p) for p in record.points],
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        **({"score": record.score} if record.score is not None else {}),
    }


def shape_from_json(
    image_key: str, annotator: str, annotation_id: str, data: Mapping[str, Any], now: datetime
) -> Annotation:
    """The shape an event's before/after describes, updated `now`."""
    return Annotation.from_dict(
        {
            **data,
            "id": annotation_id,
            "image_key": image_key,
            "annotator": annotator,
            "updated_at": now.isoformat(),
        }
    )


# A labeler's decision on a model's suggestion, recorded beside the shape changes (an
# accept in the transaction of the shape it creates); it changes no shape itself.
DECISIONS = ("accept", "reject")
# Review events (annotator "gold"): a verdict, a comment, a rework request; they change no
# shape and are never undone by Undo.
REVIEW_ACTIONS = ("review", "comment", "rework")


@dataclass(frozen=True)
class PastEvent:
    """What undo needs of a recorded event."""

    action: str  # create, edit, delete, status, or a decision (accept, reject)
    annotation_id: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


@dataclass(frozen=True)
class UndoPlan:
    """The changes that put one change's shapes and status back, or why they cannot be."""

    changes: tuple[ShapeChange, ...]
    status: tuple[bool, str | None]  # (whether to set it, the status to set: None clears)
    conflicts: tuple[str, ...]


def plan_undo(
    image_key: str,
    annotator: str,
    events: Sequence[PastEvent],
    stored: Mapping[str, Annotation],
    now: datetime,
) -> UndoPlan:
    """Reverse a change's events, newest first. A shape changed again since (by another
    tab, say) is a conflict: undo then writes nothing."""
    changes: list[ShapeChange] = []
    conflicts: list[str] = []
    status: tuple[bool, str | None] = (False, None)
    for event in reversed(events):
        if event.action in DECISIONS or event.action in REVIEW_ACTIONS:
            continue  # undoing an accept deletes its shape through the create event
        if event.action == "status":
            status = (True, (event.before or {}).get("status"))
            continue
        shape_id = event.annotation_id or ""
        current = stored.get(shape_id)
        if event.action == "delete":
            assert event.before is not None
            if current is not None:
                conflicts.append(f"the {current.label} {current.kind} is back already")
                continue
            back = shape_from_json(image_key, annotator, shape_id, event.before, now)
            changes.append(ShapeChange(None, replace(back, version=back.version + 1)))
            continue
        assert event.after is not None
        then = shape_from_json(image_key, annotator, shape_id, event.after, now)
        if current is None or not same_content(current, then):
            # compared by content: versions only grow, so an undone edit has a new one
            conflicts.append(f"the {then.label} {then.kind} was changed since")
            continue
        if event.action == "create":
            changes.append(ShapeChange(current, None))
        else:
            assert event.before is not None
            back = shape_from_json(image_key, annotator, shape_id, event.before, now)
            changes.append(ShapeChange(current, replace(back, version=current.version + 1)))
    return UndoPlan(tuple(changes), status, tuple(conflicts))


def describe_event(
    action: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    """A recorded change in a few words, e.g. 'relabelled person → car'."""
    if action in DECISIONS:
        suggested = before or {}
        score = suggested.get("score")
        named = f"{suggested.get('label', '?')} {suggested.get('kind', 'shape')}"
        return f"{action}ed the suggested {named}" + (
            f" ({score:.2f})" if isinstance(score, int | float) else ""
        )
    if action == "status":
        old = (before or {}).get("status")
        new = (after or {}).get("status")
        return f"status {new}" if new else f"status {old} cleared"
    shape = after or before or {}
    named = f"{shape.get('label', '?')} {shape.get('kind', 'shape')}"
    if action == "create":
        return f"drew a {named}"
    if action == "delete":
        return f"deleted the {named}"
    old_label, new_label = (before or {}).get("label"), (after or {}).get("label")
    if old_label != new_label:
        return f"relabelled {old_label} → {new_label}"
    return f"moved or reshaped the {named}"
