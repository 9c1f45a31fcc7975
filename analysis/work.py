"""Who finished which image with which shapes: the input of every agreement measure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median

from analysis.geometry import unusable
from domain.annotation import Annotation
from domain.status import FINISHED
from domain.stored_rows import SkippedRow

# image key -> annotator -> that annotator's shapes on the image (empty: found no objects)
Shapes = Mapping[str, Mapping[str, tuple[Annotation, ...]]]


@dataclass(frozen=True)
class Work:
    """Every finished (image, annotator) pair with its shapes.

    An annotator finished an image when they drew on it or marked it done or empty; an
    annotator who skipped it or never opened it is absent (missing data, not disagreement).
    """

    by_image: Shapes
    # (image, annotator) -> active seconds spent on the image, where recorded
    seconds: Mapping[tuple[str, str], float] = field(default_factory=dict)
    # stored shapes left out because no region can be made of them (reported, not compared)
    left_out: tuple[SkippedRow, ...] = ()

    @property
    def annotators(self) -> tuple[str, ...]:
        """Everyone who finished at least one image, sorted."""
        return tuple(sorted({who for done in self.by_image.values() for who in done}))

    @property
    def images(self) -> tuple[str, ...]:
        """Every image someone finished, sorted."""
        return tuple(sorted(self.by_image))

    def shared_images(self, minimum: int = 2) -> tuple[str, ...]:
        """Images finished by at least `minimum` annotators."""
        return tuple(key for key in self.images if len(self.by_image[key]) >= minimum)

    def without(self, annotator: str) -> Work:
        """The same work with one annotator left out (for leave-one-out comparisons)."""
        return Work(
            {
                key: {who: shapes for who, shapes in done.items() if who != annotator}
                for key, done in self.by_image.items()
            },
            self.seconds,
            self.left_out,
        )

    def median_seconds(self, annotator: str) -> float | None:
        """Median active seconds per image the annotator finished, where time was recorded."""
        spent = [
            seconds
            for (key, who), seconds in self.seconds.items()
            if who == annotator and who in self.by_image.get(key, {})
        ]
        return float(median(spent)) if spent else None


def work_of(
    annotations: Iterable[Annotation],
    statuses: Mapping[tuple[str, str], str],
    seconds: Mapping[tuple[str, str], float] | None = None,
) -> Work:
    """Group shapes by image and annotator, adding the images found empty (and the active
    seconds spent on each image, where recorded)."""
    by_image: dict[str, dict[str, list[Annotation]]] = {}
    for record in annotations:
        by_image.setdefault(record.image_key, {}).setdefault(record.annotator, []).append(record)
    for (key, who), status in statuses.items():
        if status in FINISHED:
            by_image.setdefault(key, {}).setdefault(who, [])
    shapes = {
        key: {who: tuple(found) for who, found in done.items()} for key, done in by_image.items()
    }
    return Work(shapes, dict(seconds or {}))


def usable_work(work: Work) -> Work:
    """The work less the shapes no region can be made of (analysis.geometry.unusable), which
    join work.left_out; the very same work when every shape is usable. An image stays
    finished for an annotator whose shapes there were all left out."""
    dropped: list[SkippedRow] = []
    kept: dict[str, dict[str, tuple[Annotation, ...]]] = {}
    for key, done in work.by_image.items():
        kept[key] = {}
        for who, shapes in done.items():
            good = []
            for shape in shapes:
                reason = unusable(shape)
                if reason is None:
                    good.append(shape)
                else:
                    dropped.append(SkippedRow(key, who, shape.id, reason))
            kept[key][who] = tuple(good) if len(good) != len(shapes) else shapes
    if not dropped:
        return work
    return Work(kept, work.seconds, (*work.left_out, *dropped))
