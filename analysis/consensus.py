"""Consensus objects: what the annotators of an image agree is there.

Method: per unit (analysis.units), the coordinate-wise median of the members' bounding boxes
and the majority label (ties go to the alphabetically first label, so the result does not
depend on input order); a unit is kept when at least half of the annotators who finished the
image drew it (support * 2 >= annotators). With two annotators a single one suffices, with
three two are needed: a majority for odd counts, half for even counts. The median is robust
to one annotator's outlying edge, which the mean is not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.units import Unit, image_units
from analysis.work import Work
from domain.annotation import Annotation
from domain.geometry import bounding_box


@dataclass(frozen=True)
class ConsensusObject:
    """A box the annotators agree on, its label, and how many of how many drew it."""

    image: str
    label: str
    box: tuple[float, float, float, float]
    support: int
    annotators: int

    def as_annotation(self, annotator: str = "consensus") -> Annotation:
        """The object as a rectangle record (for comparisons and exports)."""
        return Annotation(
            id=f"consensus:{self.image}:{self.box}",
            image_key=self.image,
            annotator=annotator,
            label=self.label,
            kind="rect",
            coords=self.box,
        )


def majority_label(labels: Sequence[str]) -> str:
    """The most frequent label; ties go to the alphabetically first."""
    if len(set(labels)) == 1:
        return labels[0]
    counts = Counter(labels)
    return min(counts, key=lambda label: (-counts[label], label))


def unit_consensus(
    unit: Unit, by_annotator: Mapping[str, Sequence[Annotation]]
) -> ConsensusObject | None:
    """The consensus object of one unit, or None when too few annotators drew it."""
    finished = len(by_annotator)
    if len(unit.members) * 2 < finished:
        return None
    shapes = [by_annotator[who][index] for who, index in sorted(unit.members.items())]
    boxes = [bounding_box(shape) for shape in shapes]
    box = tuple(float(_median(edge)) for edge in zip(*boxes))
    label = majority_label([shape.label for shape in shapes])
    return ConsensusObject(unit.image, label, box, len(shapes), finished)  # type: ignore[arg-type]


def consensus_of(work: Work, threshold: float = 0.5) -> dict[str, list[ConsensusObject]]:
    """Per image finished by anyone, its consensus objects (an empty list: agreed empty)."""
    result: dict[str, list[ConsensusObject]] = {}
    for image in work.images:
        by_annotator = work.by_image[image]
        if not by_annotator:
            continue
        units = image_units(image, by_annotator, threshold)
        found = (unit_consensus(unit, by_annotator) for unit in units)
        result[image] = [item for item in found if item is not None]
    return result


def _median(values: Sequence[float]) -> float:
    # statistics.median's arithmetic (the mean of the middle two), without its overhead
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
