"""Per-(image, annotator) statuses and progress counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class ImageStatus(StrEnum):
    """What an annotator did with an image: drew on it, found nothing, or passed."""

    DONE = "done"
    EMPTY = "empty"
    SKIPPED = "skipped"


# An annotator finished an image when they drew on it or confirmed it has no objects.
FINISHED = (ImageStatus.DONE.value, ImageStatus.EMPTY.value)


@dataclass(frozen=True)
class Progress:
    """How far one annotator is through a batch."""

    total: int
    done: int
    empty: int
    skipped: int

    @property
    def finished(self) -> int:
        """Images looked at and settled: with shapes or confirmed empty."""
        return self.done + self.empty

    def percent(self, count: int) -> float:
        """Share of the batch, in percent, for a count."""
        return 100.0 * count / self.total if self.total else 0.0


def progress_of(total: int, statuses: Iterable[str]) -> Progress:
    """Count one annotator's statuses over a batch of `total` images.

    Statuses of images that left the batch may still be counted, so counts are capped at
    the batch size."""
    counts = {status.value: 0 for status in ImageStatus}
    for status in statuses:
        if status in counts:
            counts[status] += 1
    return progress_from_counts(total, counts)


def progress_from_counts(total: int, counts: Mapping[str, int]) -> Progress:
    """Progress over a batch of `total` images from status -> count, capped at the batch
    size (statuses of images that left the batch may still be counted)."""
    counts = {s.value: max(0, int(counts.get(s.value, 0))) for s in ImageStatus}
    done = min(counts["done"], total)
    empty = min(counts["empty"], total - done)
    skipped = min(counts["skipped"], total - done - empty)
    return Progress(total, done, empty, skipped)
