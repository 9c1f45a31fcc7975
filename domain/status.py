"""Per-(image, annotator) statuses and progress counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ImageStatus(StrEnum):
    """What an annotator did with an image: drew on it, found nothing, or passed."""

    DONE = "done"
    EMPTY = "empty"
    SKIPPED = "skipped"


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


def progress_of(keys: list[str], statuses: Mapping[str, str]) -> Progress:
    """Count statuses over the images currently in the batch."""
    counts = {status.value: 0 for status in ImageStatus}
    for key in keys:
        status = statuses.get(key)
        if status in counts:
            counts[status] += 1
    return Progress(len(keys), counts["done"], counts["empty"], counts["skipped"])
