"""The units of one image for its review: the people's shapes clustered into objects
(analysis.units at IoU >= 0.5), each unit's consensus (analysis.consensus), and which gold
shape stands for which unit (a one-to-one match at the same IoU). The analysis stack is
imported when a review needs it, never when a web worker starts."""

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


def units_of(
    people: Mapping[str, Sequence[Annotation]],
    gold: Sequence[Annotation],
    threshold: float = THRESHOLD,
) -> ImageUnits:
    """Units of the people's shapes (shapes no region can be made of are left out), with
    their consensus and the gold shape matched to each."""
    from analysis.consensus import unit_consensus
    from analysis.geometry import unusable
    from analysis.matching import match_objects
    from analysis.units import image_units

    usable = {
        who: tuple(s for s in shapes if unusable(s) is None) for who, shapes in people.items()
    }
    if not usable:
        return ImageUnits((), tuple(gold))
    image = next(iter(s.image_key for shapes in usable.values() for s in shapes), "")
    found = image_units(image, usable, threshold)
    # every unit's own median box, whatever its support, stands for it against gold
    stand_ins: list[Annotation] = []
    drafts = []
    for unit in found:
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
