"""Intra-rater reliability: how well annotators agree with themselves on the images that
came back to them (their second pass is kept as `name#repeat`, see domain/repeats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.report import agreement_report, json_number
from analysis.work import Work
from domain.repeats import first_pass_of, is_repeat, repeat_name


@dataclass(frozen=True)
class IntraRater:
    """One annotator against their own second pass."""

    annotator: str
    images: int  # images finished in both passes
    label_alpha: float  # Krippendorff's alpha on the labels of IoU-matched objects
    f1: float  # objects found again (IoU-matched F1 between the passes)
    mean_iou: float  # how closely the matched shapes were redrawn

    def to_json(self) -> dict[str, Any]:
        return {
            "annotator": self.annotator,
            "images": self.images,
            "label_alpha": json_number(self.label_alpha),
            "f1": json_number(self.f1),
            "mean_iou": json_number(self.mean_iou),
        }


def first_passes(work: Work) -> Work:
    """The work without any second pass: the input of inter-rater agreement."""
    return Work(
        {
            key: {who: shapes for who, shapes in done.items() if not is_repeat(who)}
            for key, done in work.by_image.items()
        },
        {pair: s for pair, s in work.seconds.items() if not is_repeat(pair[1])},
    )


def intra_rater(work: Work, iou_threshold: float = 0.5) -> tuple[IntraRater, ...]:
    """Each annotator with repeats against themselves, on the images both passes finished."""
    found = []
    for second in (who for who in work.annotators if is_repeat(who)):
        first = first_pass_of(second)
        both = {
            key: {first: done[first], second: done[second]}
            for key, done in work.by_image.items()
            if first in done and second in done
        }
        if not both:
            continue
        report = agreement_report(Work(both), iou_threshold, resamples=0)
        [pair] = report.pairwise
        found.append(IntraRater(first, len(both), report.label_alpha.value, pair.f1, pair.mean_iou))
    return tuple(found)


__all__ = ["IntraRater", "first_passes", "intra_rater", "repeat_name"]
