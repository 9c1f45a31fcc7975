"""The agreement report: label and presence reliability, pairwise agreement, annotator bias.

Label reliability is Krippendorff's alpha, nominal level (analysis.reliability), over the units
of every image finished by two or more annotators (analysis.units): coders are the annotators,
a unit's value for a coder is their label, MISSED when they finished the image without drawing
the object (so "not drawn" is a category and a miss counts as disagreement), and missing data
(None) when they did not finish the image. Single-coded units carry no pairable values, so
images finished by one annotator would add nothing. This is the "localization first" route
from detection annotations to reliability data of Tschirschwitz et al. 2022 (DAGM GCPR).

Presence reliability asks only whether there is anything to draw: one unit per image, each
finishing annotator's value is True when they drew at least one shape, else False. Its alpha
is nan when every value is the same (an undefined D_e = 0, Krippendorff 2011), e.g. when
everyone drew on every image or every image was found empty.

Each alpha comes with a 95 % percentile bootstrap interval that resamples IMAGES with
replacement and rebuilds the reliability data from their units (analysis.reliability
.bootstrap_ci, seed 0): the units of one image are not independent, so the image is the unit of
resampling, the cluster bootstrap (Field & Welsh 2007, "Bootstrapping clustered data", Journal
of the Royal Statistical Society B 69(3):369-390). The number of draws (default 200; 0 leaves
the intervals out) and the seed (default 0) can be chosen. The JSON form, with every alpha as
{value, ci_low, ci_high} and the reason for every null, is analysis.report_json's and is
described by docs/agreement-report.schema.json.

The effect of annotator k on alpha is alpha(everyone) - alpha(everyone but k), where the
second alpha is computed from scratch on work.without(k) (units re-clustered without k's
shapes, so objects only k drew disappear rather than become agreed misses): negative means
the group agrees less with k than without.

agreement_report computes all of it for every image at once (analysis.batch), which gives the
same numbers, bit for bit, as the per-image functions of this module and of analysis.units,
.consensus, .bias and .pairwise, which define the method (and serve other callers).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis import batch
from analysis.bias import AnnotatorBias
from analysis.consensus import ConsensusObject, unit_consensus
from analysis.geometry import TANGLED, approximated
from analysis.pairwise import PairAgreement, disagreement_by_image
from analysis.reliability import bootstrap_ci, fleiss_kappa, krippendorff_alpha
from analysis.report_json import estimate_json, json_number, report_json
from analysis.units import Unit, image_units, unit_labels
from analysis.work import Work, usable_work
from domain.stored_rows import SkippedRow

__all__ = [  # disagreement_by_image lives in analysis.pairwise; offered here with the rest
    "AgreementReport",
    "Estimate",
    "additive_alpha_terms",
    "agreement_report",
    "alpha_of_columns",
    "consensus_from_units",
    "disagreement_by_image",
    "json_number",
    "label_alpha",
    "label_columns",
    "nominal_alpha_from_terms",
    "presence_alpha",
    "presence_columns",
    "units_of",
]

# per image, the reliability data columns of its units (one value per coder, None = missing)
Columns = dict[str, list[list[Any]]]
Units = dict[str, list[Unit]]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % bootstrap interval (nan: undefined), and why a nan is
    one: value_reason when the value is undefined, interval_reason when only the interval is
    (codes of analysis.report_json.NULL_REASONS)."""

    value: float
    ci_low: float
    ci_high: float
    value_reason: str = ""
    interval_reason: str = ""

    def to_json(self) -> dict[str, float | None]:
        """{value, ci_low, ci_high} with nan as None."""
        return estimate_json(self)


@dataclass(frozen=True)
class AgreementReport:
    """Everything the agreement page shows, for one IoU threshold."""

    iou_threshold: float
    images: int
    annotators: tuple[str, ...]
    label_alpha: Estimate
    presence_alpha: Estimate
    pairwise: tuple[PairAgreement, ...]
    per_annotator: tuple[AnnotatorBias, ...]
    presence_kappa: float = math.nan
    presence_kappa_reason: str = ""
    images_finished: int = 0  # images at least one annotator finished
    units: int = 0  # units (objects) on the images finished by 2+ annotators
    resamples: int = 200  # bootstrap draws behind each interval (0: no intervals)
    seed: int = 0  # the bootstrap's random seed
    # stored shapes left out as unusable, and shapes compared as their convex hull
    left_out: tuple[SkippedRow, ...] = ()
    approximated: tuple[SkippedRow, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A dict json.dumps accepts with allow_nan=False; per-object lists are left out.
        Its keys are described in docs/agreement-report.schema.json (analysis.report_json)."""
        return report_json(self)


def agreement_report(
    work: Work, iou_threshold: float = 0.5, resamples: int = 200, seed: int = 0
) -> AgreementReport:
    """Label and presence alpha with bootstrap intervals, pairwise agreement and per-annotator
    bias against the leave-one-out consensus, at one IoU threshold. resamples = 0 leaves the
    intervals out; seed makes them reproducible. Shapes no region can be made of are left
    out and listed (work.left_out), as are shapes compared as their convex hull."""
    work = usable_work(work)
    # every image at once (analysis.batch): the numbers of the per-image functions, faster
    table = batch.table_of(work)
    pairs = batch.pair_matchings(table, iou_threshold)
    everyone = batch.label_data(table, batch.units_of(table, pairs))
    overall = batch.alpha(everyone)
    per_annotator = []
    for who in range(len(table.annotators)):
        # one clustering of the others serves both their consensus and their alpha
        units = batch.units_of(table, pairs, leave_out=who)
        effect = overall - batch.alpha(batch.label_data(table, units))
        reference = batch.consensus_of(table, units)
        bias = batch.annotator_bias(table, who, reference, iou_threshold, effect)
        seconds = work.median_seconds(table.annotators[who])
        per_annotator.append(dataclasses.replace(bias, seconds_per_image=seconds))
    presence = _presence_kappa(presence_counts(work))
    return AgreementReport(
        iou_threshold=iou_threshold,
        images=len(work.shared_images(2)),
        annotators=work.annotators,
        label_alpha=_interval(overall, *batch.alpha_terms(everyone), resamples, seed),
        presence_alpha=_estimate(presence_columns(work), resamples, seed),
        presence_kappa=presence[0],
        presence_kappa_reason=presence[1],
        pairwise=batch.pairwise_agreement(table, pairs),
        per_annotator=tuple(per_annotator),
        images_finished=len(work.images),
        units=int(everyone.codes.shape[1]),
        resamples=resamples,
        seed=seed,
        left_out=work.left_out,
        approximated=tuple(
            SkippedRow(key, who, shape.id, TANGLED)
            for key, done in sorted(work.by_image.items())
            for who, shapes in sorted(done.items())
            for shape in shapes
            if approximated(shape)
        ),
    )


def units_of(work: Work, threshold: float = 0.5) -> Units:
    """The units (analysis.units.image_units) of every image someone finished."""
    return {
        image: image_units(image, work.by_image[image], threshold)
        for image in work.images
        if work.by_image[image]
    }


def consensus_from_units(work: Work, units: Units) -> dict[str, list[ConsensusObject]]:
    """consensus_of(work) from units computed already (same result, no second clustering)."""
    result: dict[str, list[ConsensusObject]] = {}
    for image, found in units.items():
        agreed = (unit_consensus(unit, work.by_image[image]) for unit in found)
        result[image] = [item for item in agreed if item is not None]
    return result


def label_columns(work: Work, units: Units) -> Columns:
    """Per image finished by 2+ annotators, each unit's labels (coders = work.annotators)."""
    coders = work.annotators
    return {
        image: [unit_labels(unit, work.by_image[image], coders) for unit in units[image]]
        for image in work.shared_images(2)
    }


def presence_columns(work: Work) -> Columns:
    """Per image finished by 2+ annotators, one unit: who drew anything (None: not finished)."""
    coders = work.annotators
    return {
        image: [[len(done[who]) > 0 if who in done else None for who in coders]]
        for image in work.shared_images(2)
        for done in (work.by_image[image],)
    }


def presence_kappa(work: Work) -> float:
    """Fleiss' kappa on "no objects vs objects" over the images that every annotator
    finished (Fleiss' kappa needs the same raters on every item; alpha has no such limit).
    nan with fewer than two annotators, no such image, or no variation."""
    return _presence_kappa(presence_counts(work))[0]


def presence_kappa_reason(work: Work) -> str:
    """Why presence_kappa(work) is nan (a NULL_REASONS code), or "" when it is defined."""
    return _presence_kappa(presence_counts(work))[1]


def presence_counts(work: Work) -> list[list[int]] | None:
    """Per image every annotator finished, [annotators who found nothing, who drew]; None
    with fewer than two annotators."""
    everyone = work.annotators
    if len(everyone) < 2:
        return None
    return [
        [sum(1 for who in everyone if not done[who]), sum(1 for who in everyone if done[who])]
        for image in work.images
        for done in (work.by_image[image],)
        if all(who in done for who in everyone)
    ]


def _presence_kappa(counts: list[list[int]] | None) -> tuple[float, str]:
    """Fleiss' kappa of presence_counts, and why it is nan (NULL_REASONS codes)."""
    if counts is None:
        return math.nan, "fewer_than_two_annotators"
    if not counts:
        return math.nan, "no_image_finished_by_all"
    kappa = fleiss_kappa(counts)
    return kappa, "one_category" if math.isnan(kappa) else ""


def alpha_of_columns(columns: Columns) -> float:
    """Nominal Krippendorff's alpha (analysis.reliability) over the units of every image."""
    units = [column for found in columns.values() for column in found]
    if not units:
        return math.nan
    return krippendorff_alpha([list(row) for row in zip(*units)], "nominal")


def label_alpha(
    work: Work, threshold: float = 0.5, resamples: int = 200, seed: int = 0
) -> Estimate:
    """Nominal alpha of the unit labels with an image-bootstrap interval (module doc)."""
    return _estimate(label_columns(work, units_of(work, threshold)), resamples, seed)


def presence_alpha(work: Work, resamples: int = 200, seed: int = 0) -> Estimate:
    """Nominal alpha of "drew anything" per image with an image-bootstrap interval."""
    return _estimate(presence_columns(work), resamples, seed)


def additive_alpha_terms(columns: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the pairable value counts n_c (images x values) and the agreeing pairs
    sum_u sum_c n_uc (n_uc - 1) / (m_u - 1) over its units with m_u >= 2 values.

    Both are sums over units, so the alpha of any multiset of images follows from their sums
    (nominal_alpha_from_terms) without rebuilding the reliability data; this is what makes
    the image bootstrap cheap.
    """
    codes: dict[Any, int] = {}
    found: list[tuple[Counter[int], float]] = []
    for units in columns.values():
        counts: Counter[int] = Counter()
        agreeing = 0.0
        for unit in units:
            values = Counter(value for value in unit if value is not None)
            paired = sum(values.values())
            if paired < 2:
                continue  # a value with nothing to pair with (Krippendorff 2011)
            agreeing += sum(k * (k - 1) for k in values.values()) / (paired - 1)
            for value, k in values.items():
                counts[codes.setdefault(value, len(codes))] += k
        found.append((counts, agreeing))
    marginals = np.zeros((len(found), len(codes)))
    for row, (counts, _) in enumerate(found):
        for code, k in counts.items():
            marginals[row, code] = k
    return marginals, np.array([agreeing for _, agreeing in found], dtype=float)


def nominal_alpha_from_terms(marginals: np.ndarray, agreeing: float) -> float:
    """Nominal alpha from summed terms: o_cc sums to `agreeing`, so with n = sum n_c,
    D_o is proportional to n - agreeing and alpha = 1 - (n - 1)(n - agreeing) / (n^2 - sum n_c^2)
    (Krippendorff 2011); nan with fewer than two distinct values."""
    if np.count_nonzero(marginals) < 2:
        return math.nan
    n = float(marginals.sum())
    expected = n * n - float(np.sum(marginals * marginals))
    return 1.0 - (n - 1.0) * (n - agreeing) / expected


def _check_resampling(resamples: int, seed: int) -> None:
    if resamples < 0:
        raise ValueError(f"resamples must be 0 (no interval) or more, got {resamples}")
    if seed < 0:
        raise ValueError(f"the seed must be 0 or more, got {seed}")


def _estimate(columns: Columns, resamples: int, seed: int) -> Estimate:
    return _interval(alpha_of_columns(columns), *additive_alpha_terms(columns), resamples, seed)


def _interval(
    value: float, marginals: np.ndarray, agreeing: np.ndarray, resamples: int, seed: int
) -> Estimate:
    """value with the image-bootstrap interval from the per-image additive alpha terms, and
    the reason for whatever is undefined."""
    _check_resampling(resamples, seed)
    images = marginals.shape[0]
    if math.isnan(value):
        return Estimate(value, math.nan, math.nan, value_reason=_undefined_alpha(marginals))
    if resamples == 0:
        return Estimate(value, math.nan, math.nan, interval_reason="no_interval")

    def resampled(draw: Sequence[int]) -> float:
        times = np.bincount(np.asarray(draw), minlength=images).astype(float)
        return nominal_alpha_from_terms(times @ marginals, float(times @ agreeing))

    low, high = bootstrap_ci(range(images), resampled, resamples, seed=seed)
    reason = "no_finite_resample" if math.isnan(low) else ""
    return Estimate(value, low, high, interval_reason=reason)


def _undefined_alpha(marginals: np.ndarray) -> str:
    """Why an alpha with these per-image value counts is undefined (NULL_REASONS codes)."""
    if marginals.shape[0] == 0:
        return "no_shared_images"
    used = np.count_nonzero(marginals.sum(axis=0))
    return "no_pairable_values" if used == 0 else "one_category"
