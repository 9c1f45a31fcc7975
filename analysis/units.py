"""Units of analysis: the objects of one image, clustered across annotators.

Method (localisation first): every pair of annotators who finished the image is matched
one-to-one with count-first optimal assignment at IoU >= t (analysis.matching). The matched
pairs are then merged into clusters, strongest IoU first, single-linkage style, except that a
cluster never holds two objects of the same annotator (a merge that would is skipped). Every
object left alone is a cluster of one. Each cluster is a unit: "the same object" as seen by the
annotators in it; an annotator who finished the image but is not in the unit missed it.

This is the matching-then-clustering approach used to turn detection annotations into
reliability data (e.g. the "localization first" procedure of Tschirschwitz et al. 2022,
"A dataset for analysing complex document layouts in the digital humanities and its
evaluation with Krippendorff's alpha", DAGM GCPR), with labels compared only afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from analysis.matching import match_objects
from domain.annotation import Annotation


class _NotDrawn:
    """The value of an annotator who finished the image but drew no such object.

    Not a string, so no label can equal it, whatever labels are stored (a label spelled
    "(missed)" once merged with this category). It sorts before every string, so value
    lists that hold it stay sortable, and it is one object: equality is identity.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSED"

    def __lt__(self, other: object) -> bool:
        return other is not self

    def __gt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return other is self

    def __reduce__(self) -> str:
        return "MISSED"  # pickled (background jobs) as the module-level singleton


MISSED = _NotDrawn()
UnitValue = str | _NotDrawn  # a coder's value for a unit: a label or MISSED


@dataclass(frozen=True)
class Unit:
    """One object of an image: which shape (index into their list) each annotator drew."""

    image: str
    members: Mapping[str, int]


def image_units(
    image: str, by_annotator: Mapping[str, Sequence[Annotation]], threshold: float = 0.5
) -> list[Unit]:
    """The units of one image, from the shapes of everyone who finished it."""
    names = sorted(by_annotator)
    edges: list[tuple[float, str, int, str, int]] = []
    for first, second in combinations(names, 2):
        for pair in match_objects(by_annotator[first], by_annotator[second], threshold):
            edges.append((pair.iou, first, pair.a, second, pair.b))
    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2], edge[3], edge[4]))
    cluster_of: dict[tuple[str, int], int] = {}
    clusters: dict[int, dict[str, int]] = {}
    for who in names:
        for index in range(len(by_annotator[who])):
            cluster_of[(who, index)] = len(clusters)
            clusters[len(clusters)] = {who: index}
    for _iou, first, i, second, j in edges:
        left, right = cluster_of[(first, i)], cluster_of[(second, j)]
        if left == right or set(clusters[left]) & set(clusters[right]):
            continue  # already together, or the merge would give someone two objects
        for who, index in clusters.pop(right).items():
            clusters[left][who] = index
            cluster_of[(who, index)] = left
    return [Unit(image, members) for _, members in sorted(clusters.items())]


def unit_labels(
    unit: Unit, by_annotator: Mapping[str, Sequence[Annotation]], coders: Sequence[str]
) -> list[UnitValue | None]:
    """Each coder's value for a unit: their label, MISSED if they finished the image
    without drawing it, None (missing data) if they did not finish the image."""
    values: list[UnitValue | None] = []
    for who in coders:
        if who not in by_annotator:
            values.append(None)
        elif who in unit.members:
            values.append(by_annotator[who][unit.members[who]].label)
        else:
            values.append(MISSED)
    return values
