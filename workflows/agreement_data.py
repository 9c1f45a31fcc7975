"""The Agreement tab's report data: the analysis run on what the store holds, plus what
the browser keeps for its plots. Imported by the background job only, so a web worker that
serves the page never loads numpy's analysis stack (scipy, scikit-learn)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from analysis.bias import EDGES
from analysis.gold_scores import people_and_models_against_gold
from analysis.intra import first_passes, intra_rater
from analysis.model_scores import accepted_suggestions, model_scores, split_models
from analysis.model_scores import without_suggestions as without
from analysis.report import AgreementReport, agreement_report, disagreement_by_image
from analysis.report_json import add_vs_gold, model_json, suggestions_json
from analysis.work import Work
from storage.errors import StorageError
from storage.runtime import Services
from workflows.agreement import load_work_and_gold

log = logging.getLogger(__name__)

MEASURES = ("log_area_ratio", "dx", "dy", *EDGES)
PLOTTED_VALUES = 2000  # per annotator and measure: box plots of 100,000 points stay light


def agreement_data(
    services: Services,
    level: float,
    without_suggestions: bool,
    report: Callable[[int, str], None],
) -> tuple[dict[str, Any], AgreementReport, int]:
    """(the report's data for the browser, the report, the shapes accepted unchanged from
    suggestions) at IoU threshold `level`; raises StorageError when the store cannot be read.
    Each image's disagreement is remembered for the review queue and the gallery's filter
    (ReviewStore.save_disagreement); a failure to remember it is logged, not raised."""
    loaded, gold = load_work_and_gold(services, repeats=True, models=True)
    everything, models = split_models(loaded)
    report(20, "Measuring agreement")
    accepted = accepted_suggestions(first_passes(everything))
    if without_suggestions:
        everything = without(everything)[0]
    work = first_passes(everything)  # second passes (repeats) only count against oneself
    result = agreement_report(work, level)
    report(90, "Ranking images")
    ranking = disagreement_by_image(work, level)
    remember_ranking(services, ranking, level)
    data = report_data(result, work, ranking)
    data["intra_rater"] = [found.to_json() for found in intra_rater(everything, level)]
    data["models"] = [model_json(found) for found in model_scores(work, models, level)]
    data["suggestions"] = suggestions_json(accepted, without_suggestions)
    add_vs_gold(data, people_and_models_against_gold(work, models, gold, level), len(gold))
    return data, result, accepted


def remember_ranking(
    services: Services, ranking: Sequence[tuple[str, float]], level: float
) -> bool:
    """Save each ranked image's disagreement score at IoU threshold `level` (the review
    queue and the gallery's "disagreement above" filter read it); False, logged, when the
    database refuses: the report is worth showing all the same."""
    try:
        services.reviews.save_disagreement(dict(ranking), level, replace_under="")
    except StorageError as exc:
        log.warning("could not remember the disagreement ranking: %s", exc)
        return False
    return True


def thin(values: Sequence[float], limit: int = PLOTTED_VALUES) -> list[float]:
    """At most `limit` evenly spaced order statistics of values: the quantiles a box plot
    draws are kept, the payload is not."""
    ordered = sorted(round(v, 4) for v in values if math.isfinite(v))
    if len(ordered) <= limit:
        return ordered
    step = (len(ordered) - 1) / (limit - 1)
    return [ordered[round(i * step)] for i in range(limit)]


def report_data(
    report: AgreementReport, work: Work, ranking: Sequence[tuple[str, float]]
) -> dict[str, Any]:
    """What the browser keeps: the report's JSON, per-object values for plots, the ranking."""
    data = report.to_json()
    data["distributions"] = {
        bias.annotator: {m: thin(getattr(bias, m)) for m in MEASURES}
        for bias in report.per_annotator
    }
    data["ranking"] = [
        {
            "image": image,
            "score": score,
            "annotators": sorted(work.by_image[image]),
            "objects": sum(len(shapes) for shapes in work.by_image[image].values()),
        }
        for image, score in ranking
    ]
    return data
