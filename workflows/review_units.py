"""The units of one image for its review: the people's shapes clustered into objects
(analysis.units at IoU >= 0.5), each unit's consensus (analysis.consensus, the people's
only), each detector's shapes joined to the unit they match (one-to-one at the same IoU; a
shape that matches none is a unit of its own), and which gold shape stands for which unit
(a one-to-one match at the same IoU). A detector's shape never counts in a consensus or its
support (analysis.model_scores says why). The analysis stack is imported when a review needs
it, never when a web worker starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.annotation import Annotation
from domain.review_actions import Proposal, ReviewUnit

THRESHOLD = 0.5  # IoU at which two shapes are the same object


@dataclass(frozen=True)
class ImageUnits:
    """The units of an image, and the gold shapes that stand for none of them."""

    units: tuple[ReviewUnit, ...]
    extra_gold: tuple[Annotation, ...]


Drafts = list[tuple[dict[str, Annotation], Proposal | None]]


def units_of(
    people: Mapping[str, Sequence[Annotation]],
    gold: Sequence[Annotation],
    threshold: float = THRESHOLD,
    models: Mapping[str, Sequence[Annotation]] | None = None,
) -> ImageUnits:
    """Units of the people's shapes (shapes no region can be made of are left out), with
    their consensus, the detectors' shapes (model:<name> -> shapes) joined to them or in
    units of their own after them, and the gold shape matched to each."""
    from analysis.geometry import unusable
    from analysis.matching import match_objects

    stand_ins, drafts = _people_units(people, threshold)
    # each detector in turn: its shapes join the units they match, one-to-one; the others
    # are units of their own, which the next detector's shapes can join
    for model, shapes in sorted((models or {}).items()):
        mine = [s for s in shapes if unusable(s) is None]
        joined = {pair.a: pair.b for pair in match_objects(mine, stand_ins, threshold)}
        for index, shape in enumerate(mine):
            if index in joined:
                drafts[joined[index]][0][model] = shape
            else:
                drafts.append(({model: shape}, None))
                stand_ins.append(shape)
    gold_usable = [g for g in gold if unusable(g) is None]
    matched = {
        pair.b: gold_usable[pair.a].id for pair in match_objects(gold_usable, stand_ins, threshold)
    }
    units = tuple(
        ReviewUnit(number + 1, members, proposal, matched.get(number))
        for number, (members, proposal) in enumerate(drafts)
    )
    taken = set(matched.values())
    return ImageUnits(units, tuple(g for g in gold if g.id not in taken))


def _people_units(
    people: Mapping[str, Sequence[Annotation]], threshold: float
) -> tuple[list[Annotation], Drafts]:
    """The people's units: each one's own median box (whatever its support: what stands for
    it against gold and the detectors), its members and its consensus."""
    from analysis.consensus import unit_consensus
    from analysis.geometry import unusable
    from analysis.units import image_units

    usable = {
        who: tuple(s for s in shapes if unusable(s) is None) for who, shapes in people.items()
    }
    stand_ins: list[Annotation] = []
    drafts: Drafts = []
    if not usable:
        return stand_ins, drafts
    image = next(iter(s.image_key for shapes in usable.values() for s in shapes), "")
    for unit in image_units(image, usable, threshold):
        members = {who: usable[who][index] for who, index in unit.members.items()}
        agreed = unit_consensus(unit, usable)
        own = unit_consensus(unit, {who: usable[who] for who in unit.members})
        assert own is not None  # every member drew it
        stand_ins.append(own.as_annotation())
        proposal = (
            None
            if agreed is None
            else Proposal(agreed.label, agreed.box, agreed.support, agreed.annotators)
        )
        drafts.append((members, proposal))
    return stand_ins, drafts
