"""Repeats for intra-rater reliability: a share of an annotator's finished images comes back
to them later, unannounced, and what they do the second time is kept under a second name
(`name#repeat`) so it never mixes with the first pass or with other annotators."""

from __future__ import annotations

from collections.abc import Sequence

REPEAT_SUFFIX = "#repeat"
MIN_GAP = 3  # an image comes back only after this many images finished since


def repeat_name(annotator: str) -> str:
    """The name an annotator's second pass is kept under."""
    return annotator + REPEAT_SUFFIX


def is_repeat(annotator: str) -> bool:
    """True for a second-pass name."""
    return annotator.endswith(REPEAT_SUFFIX)


def first_pass_of(annotator: str) -> str:
    """The annotator a second-pass name belongs to (the name itself otherwise)."""
    return annotator[: -len(REPEAT_SUFFIX)] if is_repeat(annotator) else annotator


def pick_repeat(finished: Sequence[str], repeated: set[str], min_gap: int = MIN_GAP) -> str | None:
    """The image to bring back: the earliest finished one (in finishing order) not repeated
    yet and finished at least `min_gap` images ago; None when there is none."""
    for key in finished[: max(0, len(finished) - min_gap)]:
        if key not in repeated:
            return key
    return None
