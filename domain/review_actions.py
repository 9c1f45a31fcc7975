"""Adjudication of one image into gold, unit by unit: accept a unit's consensus (the
people's), take one annotator's shape (a person's or a detector's), drop what gold holds
there, relabel a gold shape. Pure: records in,
records out; a crafted unit number or shape id raises ReviewError and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.annotation import Annotation
from domain.errors import ReviewError
from domain.labels import Label
from domain.sources import GOLD, HUMAN, is_model

Records = tuple[Annotation, ...]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Proposal:
    """A unit's consensus: the median box, the majority label, and how many of how many
    annotators who finished the image drew it."""

    label: str
    box: Box
    support: int
    of: int


@dataclass(frozen=True)
class ReviewUnit:
    """One object of the image as the annotators drew it (analysis.units), with the
    detectors' shapes that match it (model:<name> members, never in the consensus), its
    consensus (None when too few people drew it) and the id of the gold shape standing for
    it, if any."""

    number: int  # 1-based, in the units table
    members: Mapping[str, Annotation] = field(default_factory=dict)
    consensus: Proposal | None = None
    gold_id: str | None = None

    @property
    def drawn_by_people(self) -> int:
        """How many people drew it (its detectors left out)."""
        return sum(1 for who in self.members if not is_model(who))


def find_unit(units: Sequence[ReviewUnit], raw: object) -> ReviewUnit:
    """The unit a row names ('u<number>' or a number); raises ReviewError otherwise."""
    text = raw[1:] if isinstance(raw, str) and raw.startswith("u") else raw
    try:
        number = int(text) if isinstance(text, str | int) and not isinstance(text, bool) else -1
    except ValueError:
        number = -1
    for unit in units:
        if unit.number == number:
            return unit
    raise ReviewError("that unit is not one of this image's units: choose a row of the table")


def find_gold(gold: Records, raw: object) -> Annotation:
    """The gold shape of this image with that id; raises ReviewError otherwise."""
    for record in gold:
        if isinstance(raw, str) and record.id == raw:
            return record
    raise ReviewError("that shape is not one of this image's gold shapes")


def _put(gold: Records, unit: ReviewUnit, wanted: Annotation, now: datetime) -> Records:
    """Gold with the unit's shape replaced by `wanted` (same id and version when gold
    already held one), or added."""
    if unit.gold_id is None or all(r.id != unit.gold_id for r in gold):
        return (*gold, wanted)
    out = []
    for record in gold:
        if record.id == unit.gold_id:
            record = replace(
                record,
                label=wanted.label,
                kind=wanted.kind,
                coords=wanted.coords,
                points=wanted.points,
                updated_at=now,
            )
        out.append(record)
    return tuple(out)


def _gold_record(
    key: str,
    label: str,
    kind: str,
    coords: tuple[float, ...],
    points: tuple,
    now: datetime,
    new_id: str,
) -> Annotation:
    return Annotation(
        id=new_id,
        image_key=key,
        annotator=GOLD,
        label=label,
        kind=kind,  # type: ignore[arg-type]
        coords=coords,
        points=points,
        created_at=now,
        updated_at=now,
        source=HUMAN,
    )


def accept_consensus(
    key: str, gold: Records, unit: ReviewUnit, now: datetime, new_id: Callable[[], str]
) -> Records:
    """Gold gets the unit's consensus box and label; raises ReviewError without one."""
    if unit.consensus is None:
        why = "only a detector drew it" if not unit.drawn_by_people else "too few people drew it"
        raise ReviewError(
            f"unit {unit.number} has no consensus ({why}): take one annotator's shape or drop it"
        )
    c = unit.consensus
    wanted = _gold_record(key, c.label, "rect", tuple(c.box), (), now, new_id())
    return _put(gold, unit, wanted, now)


def take_shape(
    key: str,
    gold: Records,
    unit: ReviewUnit,
    annotator: object,
    now: datetime,
    new_id: Callable[[], str],
) -> Records:
    """Gold gets a copy of one annotator's shape of the unit (kind, geometry, label): a
    person's or a detector's; gold's copy is the reviewer's (source "human")."""
    if not isinstance(annotator, str) or not annotator:
        raise ReviewError("choose whose shape to take")
    shape = unit.members.get(annotator)
    if shape is None:
        raise ReviewError(f"{annotator[:64]} drew nothing in unit {unit.number}")
    wanted = _gold_record(key, shape.label, shape.kind, shape.coords, shape.points, now, new_id())
    return _put(gold, unit, wanted, now)


def drop(gold: Records, gold_id: str | None) -> Records:
    """Gold without that shape (nothing there); the same gold when it held none."""
    return tuple(r for r in gold if r.id != gold_id) if gold_id else gold


def relabel(
    gold: Records, gold_id: str, label: object, labels: Sequence[Label], now: datetime
) -> Records:
    """Gold with one shape's label changed; raises ReviewError for an unknown label."""
    names = [lab.name for lab in labels if not lab.retired]
    if not isinstance(label, str) or label not in names:
        raise ReviewError(f"choose one of the project's labels ({', '.join(names)})")
    find_gold(gold, gold_id)
    return tuple(r.with_label(label, now) if r.id == gold_id else r for r in gold)


def accept_all(
    key: str,
    gold: Records,
    units: Sequence[ReviewUnit],
    now: datetime,
    new_id: Callable[[], str],
) -> tuple[Records, int]:
    """Gold gets the consensus of every unit that has one and no gold shape yet; with how
    many were added."""
    added = 0
    for unit in units:
        if unit.consensus is not None and unit.gold_id is None:
            gold = accept_consensus(key, gold, unit, now, new_id)
            added += 1
    return gold, added
