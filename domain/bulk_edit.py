"""Relabel or delete many shapes in one action (the label QA grid), planned without I/O.

Whose records change: an annotator's own shapes change in place; a reviewer's change to
someone else's shape goes to gold (annotator "gold"), never to the owner's records: a
relabel puts a copy with the new label on gold (id "gold-" + the shape's id, so a second
relabel edits the copy), a delete removes that copy if there is one and records the
reviewer's verdict as a "reject" naming the shape. A reviewer's change to gold's own
shapes edits gold in place. Someone below reviewer can never change another's shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.annotation import Annotation
from domain.repeats import first_pass_of, repeat_name
from domain.sources import GOLD, is_gold

RELABEL, DELETE = "relabel", "delete"
ACTIONS = (RELABEL, DELETE)
MAX_TARGETS = 200  # shapes one action may name (a page shows 48; "hundreds" is a crafted call)
_ID_LENGTH = 64  # the stored id column's width
SHOWN_REFUSALS = 4  # how many refusals a message names; the rest are counted


@dataclass(frozen=True)
class Target:
    """A shape the page showed, at the version it showed."""

    id: str
    version: int


@dataclass(frozen=True)
class Refusal:
    """A shape left unchanged, and why (in words for the person who asked)."""

    shape_id: str
    reason: str
    image_key: str = ""


@dataclass(frozen=True)
class Step:
    """One shape to change: `copy` when the change goes onto gold instead of the shape's
    owner (a reviewer on someone else's shape)."""

    shape: Annotation
    shown_version: int
    copy: bool = False


@dataclass(frozen=True)
class BulkPlan:
    """The steps grouped by the records they change ((image key, annotator) whose shapes
    are saved), and the shapes refused before anything is read further."""

    groups: dict[tuple[str, str], list[Step]] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class ImageEdit:
    """What to save for one (image, annotator): every record after the change, the stored
    (id, version) pairs it was planned from, the shapes a reviewer rejected, the shapes
    changed, and those refused."""

    image_key: str
    annotator: str
    records: tuple[Annotation, ...]
    known: tuple[tuple[str, int], ...]
    rejected: tuple[Annotation, ...] = ()
    changed: tuple[str, ...] = ()  # ids of the targeted shapes that change
    refused: tuple[Refusal, ...] = ()

    @property
    def writes(self) -> bool:
        """True when there is something to save (a change or a verdict)."""
        return bool(self.changed or self.rejected)


def parse_targets(raw: Any) -> list[Target] | str:
    """The shapes a request names ([[id, version], ...] or [{"id", "version"}, ...]), or why
    the request cannot be used. Repeated ids count once."""
    if not isinstance(raw, list | dict):
        return "choose the shapes to change first"
    items = list(raw.items()) if isinstance(raw, dict) else raw
    if not items:
        return "choose the shapes to change first"
    if len(items) > MAX_TARGETS:
        return f"{len(items)} shapes named: one action changes at most {MAX_TARGETS}"
    found: dict[str, Target] = {}
    for item in items:
        pair: Any = (item.get("id"), item.get("version")) if isinstance(item, dict) else item
        try:
            shape_id, version = pair
            if not isinstance(shape_id, str) or not 0 < len(shape_id) <= _ID_LENGTH:
                raise ValueError
            number = int(version)
        except (TypeError, ValueError, OverflowError):
            return "the request names shapes in a form Concord does not read; reload the page"
        found.setdefault(shape_id, Target(shape_id, number))
    return list(found.values())


def owns(actor: str, annotator: str) -> bool:
    """True when the shapes of `annotator` are the actor's own (their second pass too)."""
    return first_pass_of(annotator) == actor


def gold_copy_id(shape_id: str) -> str:
    """The id of gold's copy of a shape: stable, so a second relabel edits the same copy."""
    candidate = f"{GOLD}-{shape_id}"
    if len(candidate) <= _ID_LENGTH:
        return candidate
    return f"{GOLD}-{hashlib.blake2b(shape_id.encode(), digest_size=24).hexdigest()}"


def plan_bulk(
    targets: Sequence[Target],
    found: Mapping[str, Annotation],
    actor: str,
    reviewer: bool,
) -> BulkPlan:
    """Group the targeted shapes by the records that change, refusing unknown shapes and,
    for someone below reviewer, every shape that is not their own."""
    plan = BulkPlan()
    for target in targets:
        shape = found.get(target.id)
        if shape is None:
            plan.refused.append(Refusal(target.id, "no longer stored (deleted since)"))
            continue
        if owns(actor, shape.annotator) or (reviewer and is_gold(shape.annotator)):
            step, whose = Step(shape, target.version), shape.annotator
        elif reviewer:
            step, whose = Step(shape, target.version, copy=True), GOLD
        else:
            reason = "not yours: only your own shapes can be changed here"
            plan.refused.append(Refusal(target.id, reason, shape.image_key))
            continue
        plan.groups.setdefault((shape.image_key, whose), []).append(step)
    return plan


def label_problem(action: str, label: Any, labels: Collection[str]) -> str | None:
    """Why the action cannot run with this label, or None."""
    if action not in ACTIONS:
        return f"unknown action {str(action)[:20]!r}"
    if action == RELABEL and (not isinstance(label, str) or label not in labels):
        shown = str(label)[:64] if label else "none"
        return f"label {shown!r} is not one of the project's labels ({', '.join(labels)})"
    return None


def edit_image(
    image_key: str,
    annotator: str,
    stored: Iterable[Annotation],
    steps: Sequence[Step],
    action: str,
    label: str | None,
    now: datetime,
) -> ImageEdit:
    """The records of (image, annotator) after the steps, from the stored ones. A shape
    whose version is not the one the page showed (changed since, in another tab) is
    refused and left as it is; so is a targeted shape no longer stored."""
    records = {r.id: r for r in stored}
    known = tuple((r.id, r.version) for r in records.values())
    changed: list[str] = []
    rejected: list[Annotation] = []
    refused: list[Refusal] = []
    for step in steps:
        shape = step.shape
        current = shape if step.copy else records.get(shape.id)
        if current is None or current.version != step.shown_version:
            why = "changed since this page was shown (another tab?); reload to see it"
            refused.append(Refusal(shape.id, why, image_key))
            continue
        if action == DELETE:
            if step.copy:
                records.pop(gold_copy_id(shape.id), None)
                rejected.append(shape)
            else:
                del records[shape.id]
            changed.append(shape.id)
            continue
        assert label is not None
        if step.copy:
            copy_id = gold_copy_id(shape.id)
            copy = records.get(copy_id) or _gold_copy(shape, copy_id, now)
            if copy.version and copy.label == label:
                continue  # gold already says so
            records[copy_id] = copy.with_label(label, now)
            changed.append(shape.id)
        elif current.label != label:
            records[shape.id] = current.with_label(label, now)
            changed.append(shape.id)
    return ImageEdit(
        image_key,
        annotator,
        tuple(records.values()),
        known,
        tuple(rejected),
        tuple(changed),
        tuple(refused),
    )


def _gold_copy(shape: Annotation, copy_id: str, now: datetime) -> Annotation:
    """A new gold shape with the same geometry (its label set by the caller)."""
    return replace(
        shape,
        id=copy_id,
        annotator=GOLD,
        created_at=now,
        updated_at=now,
        version=0,
        score=None,
        label="",  # set by with_label; an empty label never equals the new one
    )


def summary(
    action: str, label: str | None, changed: int, refused: Sequence[Refusal], on_gold: int = 0
) -> str:
    """The sentence shown after the action: how many changed (and how many of those were
    someone else's, changed on gold), and those refused, by name."""
    noun = "shape" if changed == 1 else "shapes"
    done = f"Relabelled {changed} {noun} to {label}." if action == RELABEL else None
    done = done or f"Deleted {changed} {noun}."
    if on_gold:
        verb = "relabelled" if action == RELABEL else "rejected"
        done += f" {on_gold} of them {verb} on gold; the annotators' own shapes are kept."
    if not refused:
        return done
    named = "; ".join(
        f"{r.image_key.rsplit('/', 1)[-1] or r.shape_id}: {r.reason}"
        for r in refused[:SHOWN_REFUSALS]
    )
    more = len(refused) - SHOWN_REFUSALS
    tail = f"; and {more} more" if more > 0 else ""
    return f"{done} Not changed ({len(refused)}): {named}{tail}."


EVERYONE = "*"  # the "whose shapes" choice of everyone's (reviewers and admins only)


def shown_annotators(actor: str, reviewer: bool, chosen: Any) -> tuple[str, ...] | None:
    """Whose shapes the grid shows (None: everyone's). Someone below reviewer sees their own
    (and their second pass) whatever the browser sends; a reviewer sees the one chosen."""
    if not reviewer:
        return (actor, repeat_name(actor))
    if not isinstance(chosen, str) or not chosen or chosen == EVERYONE:
        return None
    return (chosen,)
