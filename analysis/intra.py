"""Intra-rater reliability: how well annotators agree with themselves on the images that
came back to them (their second pass is kept as `name#repeat`, see domain/repeats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.report import Estimate, agreement_report
from analysis.work import Work
from domain.repeats import first_pass_of, is_repeat, repeat_name


@dataclass(frozen=True)
class IntraRater:
    """One annotator against their own second pass."""

    annotator: str
    images: int  # images finished in both passes
    alpha: Estimate  # Krippendorff's alpha on the labels of IoU-matched objects, with interval
    f1: float  # objects found again (IoU-matched F1 between the passes)
    mean_iou: float  # how closely the matched shapes were redrawn
    matched: int = 0  # objects matched between the passes

    @property
    def label_alpha(self) -> float:
        """The alpha's point value (nan: undefined)."""
        return self.alpha.value

    def to_json(self) -> dict[str, Any]:
        """The JSON of docs/agreement-report.schema.json's intra_rater items."""
        from analysis.report_json import intra_json

        return intra_json(self)


def first_passes(work: Work) -> Work:
    """The work without any second pass: the input of inter-rater agreement."""
    return Work(
        {
            key: {who: shapes for who, shapes in done.items() if not is_repeat(who)}
            for key, done in work.by_image.items()
        },
        {pair: s for pair, s in work.seconds.items() if not is_repeat(pair[1])},
        work.left_out,
    )


def intra_rater(
    work: Work, iou_threshold: float = 0.5, resamples: int = 200, seed: int = 0
) -> tuple[IntraRater, ...]:
    """Each annotator with repeats against themselves, on the images both passes finished;
    the alpha's interval is the same image bootstrap as the inter-rater report's."""
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
        report = agreement_report(Work(both), iou_threshold, resamples, seed)
        [pair] = report.pairwise
        found.append(
            IntraRater(first, len(both), report.label_alpha, pair.f1, pair.mean_iou, pair.matched)
        )
    return tuple(found)


__all__ = ["IntraRater", "first_passes", "intra_rater", "repeat_name"]
