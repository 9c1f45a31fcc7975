"""The agreement report as JSON: every key of docs/agreement-report.schema.json, and why a
value is null.

Shape (schema_version 2). Every alpha is an estimate object {value, ci_low, ci_high}. Counts
say what they count (images_shared, images_both_finished, objects_matched, ...). The method
object states the IoU threshold and tolerance, the matching, the alpha and the bootstrap
(resamples, seed, confidence), and the units of every bias measure. An object that holds a
null has a null_reasons object mapping the null's path in it ("mean_iou", "label_alpha.ci_low",
"edges.left") to a code of NULL_REASONS. The keys of schema_version 1 are kept with their old
meaning (images, matched, drawn_a, presence_alpha as a bare number, presence_alpha_ci, ...) and
are marked deprecated in the schema. shapes_left_out and shapes_approximated list the stored
shapes that were not compared as drawn, with a code of SHAPE_REASONS each. Where gold is
loaded (cli.py agreement, the Agreement tab), every per_annotator and models entry has a
vs_gold object (analysis.gold_scores; null with the reason no_gold when no image has finished
gold) and the report has images_with_gold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from analysis.bias import EDGES, AnnotatorBias
from analysis.geometry import MAX_ANALYSED_POINTS, MAX_CROSSINGS, TANGLED, TOO_MANY_POINTS
from analysis.matching import IOU_TOLERANCE
from analysis.pairwise import THRESHOLDS, PairAgreement
from domain.stored_rows import SKIP_REASONS, SkippedRow

if TYPE_CHECKING:
    from analysis.gold_scores import GoldScore
    from analysis.intra import IntraRater
    from analysis.model_scores import ModelScore
    from analysis.report import AgreementReport, Estimate

SCHEMA_VERSION = 2
SCHEMA = "docs/agreement-report.schema.json"
CONFIDENCE = 0.95
SHOWN_SHAPES = 10  # shapes listed by name in shapes_left_out / shapes_approximated

# Why a stored shape was not compared as drawn: code -> meaning (shapes_left_out and
# shapes_approximated say which codes occurred, with this legend).
SHAPE_REASONS: dict[str, str] = {
    **SKIP_REASONS,
    TOO_MANY_POINTS: f"more than {MAX_ANALYSED_POINTS:,} points",
    TANGLED: f"the outline crosses itself more than {MAX_CROSSINGS} times: compared as its "
    "convex hull (a path: buffered around it), as repairing it would cost minutes",
}

NULL_REASONS: dict[str, str] = {
    "no_shared_images": "no image was finished by two or more of the annotators compared",
    "no_pairable_values": "no object was seen by two or more annotators who finished its image",
    "one_category": "every value compared is the same category, so chance agreement is 1 and "
    "the coefficient is undefined (perfect agreement on one category, nothing to tell apart)",
    "no_interval": "intervals were not asked for (resamples = 0)",
    "no_finite_resample": "no bootstrap draw gave a defined value",
    "no_matched_pair": "no objects were matched at the IoU threshold",
    "no_images": "no image to compare on",
    "no_consensus_objects": "the others agreed on no object, so there was nothing to miss",
    "not_recorded": "no active time was recorded",
    "alpha_undefined": "label alpha with or without this annotator is undefined",
    "fewer_than_two_annotators": "fewer than two annotators",
    "no_image_finished_by_all": "no image was finished by every annotator "
    "(Fleiss' kappa needs the same raters on every image)",
    "no_model_objects": "the model drew nothing on the images compared",
    "no_gold": "no image has finished gold (a reviewer's accepted annotation, or an import "
    "as --annotator gold)",
    "no_gold_images": "no image was finished by both this annotator and gold",
    "no_annotator_objects": "the annotator drew nothing on the images compared with gold",
    "no_gold_objects": "gold has no object on the images compared",
}

UNITS: dict[str, str] = {
    "alpha": "Krippendorff's alpha, nominal: 1 = perfect agreement, 0 = chance, < 0 = worse "
    "than chance; unitless",
    "kappa": "Cohen's (pairwise) or Fleiss' (presence) kappa; unitless, 1 = perfect",
    "f1": "2 * matched / (objects of a + objects of b); fraction in [0, 1]",
    "mean_iou": "mean intersection over union of matched pairs; fraction in [0, 1]",
    "log_area_ratio": "median of ln(annotator's box area / consensus box area) over matched "
    "pairs; natural log, 0 = same size, 0.182 = 20 % larger (exp(0.182) = 1.2)",
    "dx": "median of (annotator's box centre x - consensus centre x) / consensus box width; "
    "fraction of the width, positive = to the right",
    "dy": "median of (annotator's box centre y - consensus centre y) / consensus box height; "
    "fraction of the height, positive = lower (y grows downwards)",
    "edges": "median offset of each edge / consensus width (left, right) or height (top, "
    "bottom); fraction, positive = the annotator's edge lies outside the consensus box",
    "miss_rate": "consensus objects the annotator did not match / all consensus objects; "
    "fraction in [0, 1]",
    "extra_per_image": "annotator's unmatched objects per image compared; objects per image",
    "seconds_per_image": "median active seconds per finished image; seconds",
    "alpha_effect": "label alpha of everyone - label alpha without this annotator; negative = "
    "the others agree more without them",
    "precision": "a model's matched shapes / its shapes; fraction in [0, 1]",
    "recall": "consensus objects a model matched / consensus objects; fraction in [0, 1]",
    "vs_gold": "an annotator's or model's shapes matched one-to-one to gold's (count-first, "
    "IoU >= threshold, labels ignored) over the images both finished; precision = matched / "
    "own objects, recall = matched / gold objects, f1 = 2 * matched / (own + gold objects), "
    "fractions in [0, 1]",
    "label_accuracy": "matched pairs with gold's label / matched pairs; fraction in [0, 1]",
    "confusion": "rows: consensus label, columns: annotator's label; each row divided by its "
    "total (fractions; a row of zeros where the label never occurs in the consensus)",
}


def json_number(value: float | None) -> float | None:
    """A float JSON can carry: nan and infinities become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def method_json(report: AgreementReport) -> dict[str, Any]:
    """How the numbers were made: threshold, matching, alpha, interval and units."""
    return {
        "iou_threshold": report.iou_threshold,
        "iou_tolerance": IOU_TOLERANCE,
        "matching": "count-first optimal one-to-one assignment of two annotators' shapes at "
        "IoU >= threshold - tolerance (most pairs, then largest total IoU); units are the "
        "matched objects clustered across annotators, localisation first",
        "f1_over_thresholds": list(THRESHOLDS),
        "alpha": "Krippendorff's alpha, nominal level; label alpha: one unit per object, a "
        "coder who finished the image without drawing it counts as 'not drawn'; presence "
        "alpha: one unit per image, drew anything or not",
        "interval": {
            "method": "percentile bootstrap, images resampled with replacement (cluster bootstrap)",
            "resamples": report.resamples,
            "seed": report.seed,
            "confidence": CONFIDENCE,
        },
        "gold": "gold is an image's reviewed annotation (annotator 'gold'), used only where "
        "it is finished (accepted by a reviewer, or imported); it is never an annotator in "
        "the alphas, kappas, pairwise tables, bias or consensus, only the reference of vs_gold",
        "units": dict(UNITS),
        "null_reasons": dict(NULL_REASONS),
    }


def estimate_json(estimate: Estimate) -> dict[str, float | None]:
    """{value, ci_low, ci_high} with nan as None."""
    return {
        "value": json_number(estimate.value),
        "ci_low": json_number(estimate.ci_low),
        "ci_high": json_number(estimate.ci_high),
    }


def report_json(report: AgreementReport) -> dict[str, Any]:
    """The whole report as a dict json.dumps accepts with allow_nan=False."""
    label, presence = report.label_alpha, report.presence_alpha
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "schema": SCHEMA,
        "method": method_json(report),
        "iou_threshold": report.iou_threshold,
        "annotators": list(report.annotators),
        "images_shared": report.images,
        "images_finished": report.images_finished,
        "units_shared": report.units,
        "label_alpha": estimate_json(label),
        "presence_alpha_estimate": estimate_json(presence),
        "presence_kappa": json_number(report.presence_kappa),
        "pairwise": [pair_json(pair) for pair in report.pairwise],
        "per_annotator": [bias_json(bias) for bias in report.per_annotator],
        # schema_version 1 keys, kept with their old meaning
        "images": report.images,
        "presence_alpha": json_number(presence.value),
        "presence_alpha_ci": {
            "ci_low": json_number(presence.ci_low),
            "ci_high": json_number(presence.ci_high),
        },
        "shapes_left_out": shapes_json(report.left_out),
        "shapes_approximated": shapes_json(report.approximated),
    }
    reasons = {
        **_estimate_reasons("label_alpha", label),
        **_estimate_reasons("presence_alpha_estimate", presence),
        **_estimate_reasons("presence_alpha", presence, interval=False),
        **_estimate_reasons("presence_alpha_ci", presence, value=False),
        "presence_kappa": report.presence_kappa_reason,
    }
    return with_null_reasons(data, reasons)


def shapes_json(rows: tuple[SkippedRow, ...] | list[SkippedRow]) -> dict[str, Any]:
    """Stored shapes not compared as drawn: how many, how many for each reason, the first
    SHOWN_SHAPES by image, annotator and id, and the meaning of each reason given."""
    by_reason: dict[str, int] = {}
    for row in rows:
        by_reason[row.reason] = by_reason.get(row.reason, 0) + 1
    return {
        "count": len(rows),
        "by_reason": by_reason,
        "first": [
            {"image": r.image_key, "annotator": r.annotator, "id": r.id, "reason": r.reason}
            for r in rows[:SHOWN_SHAPES]
        ],
        "reasons": {code: SHAPE_REASONS.get(code, code) for code in by_reason},
    }


def pair_json(pair: PairAgreement) -> dict[str, Any]:
    """One pair of annotators."""
    no_match = "no_matched_pair" if pair.matched == 0 else ""
    data = {
        "a": pair.a,
        "b": pair.b,
        "images_both_finished": pair.images,
        "objects_a": pair.drawn_a,
        "objects_b": pair.drawn_b,
        "objects_matched": pair.matched,
        "f1": json_number(pair.f1),
        "mean_iou": json_number(pair.mean_iou),
        "label_kappa": json_number(pair.label_kappa),
        "f1_over_thresholds": json_number(pair.f1_over_thresholds),
        # schema_version 1 keys
        "images": pair.images,
        "matched": pair.matched,
        "drawn_a": pair.drawn_a,
        "drawn_b": pair.drawn_b,
    }
    reasons = {"mean_iou": no_match, "label_kappa": no_match or "one_category"}
    return with_null_reasons(data, reasons)


def bias_json(bias: AnnotatorBias) -> dict[str, Any]:
    """One annotator against the consensus of the others."""
    no_match = "no_matched_pair" if bias.matched == 0 else ""
    data = {
        "annotator": bias.annotator,
        "images_compared": bias.images,
        "objects_drawn": bias.objects,
        "consensus_objects": bias.consensus_objects,
        "objects_matched": bias.matched,
        "log_area_ratio": json_number(bias.median("log_area_ratio")),
        "dx": json_number(bias.median("dx")),
        "dy": json_number(bias.median("dy")),
        "edges": {edge: json_number(bias.median(edge)) for edge in EDGES},
        "miss_rate": json_number(bias.miss_rate),
        "extra_per_image": json_number(bias.extra_per_image),
        "label_kappa_vs_consensus": json_number(bias.label_kappa),
        "confusion": {
            "labels": list(bias.confusion_labels),
            "matrix": [[json_number(v) for v in row] for row in bias.confusion],
        },
        "seconds_per_image": json_number(bias.seconds_per_image),
        "alpha_effect": json_number(bias.alpha_effect),
        # schema_version 1 keys
        "images": bias.images,
        "objects": bias.objects,
        "matched": bias.matched,
    }
    reasons = {
        "log_area_ratio": no_match,
        "dx": no_match,
        "dy": no_match,
        **{f"edges.{edge}": no_match for edge in EDGES},
        "miss_rate": "no_consensus_objects",
        "extra_per_image": "no_images",
        "label_kappa_vs_consensus": no_match or "one_category",
        "seconds_per_image": "not_recorded",
        "alpha_effect": "alpha_undefined",
    }
    return with_null_reasons(data, reasons)


def intra_json(found: IntraRater) -> dict[str, Any]:
    """One annotator against their own second pass."""
    no_match = "no_matched_pair" if found.matched == 0 else ""
    data = {
        "annotator": found.annotator,
        "images_both_passes": found.images,
        "label_alpha_estimate": estimate_json(found.alpha),
        "f1": json_number(found.f1),
        "mean_iou": json_number(found.mean_iou),
        # schema_version 1 keys
        "images": found.images,
        "label_alpha": json_number(found.alpha.value),
    }
    reasons = {
        **_estimate_reasons("label_alpha_estimate", found.alpha),
        **_estimate_reasons("label_alpha", found.alpha, interval=False),
        "mean_iou": no_match,
    }
    return with_null_reasons(data, reasons)


def with_null_reasons(data: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    """data with a null_reasons object naming why each of its nulls is null ("undefined"
    where no reason was given: a gap the tests look for)."""
    found = {path: reasons.get(path) or "undefined" for path in _null_paths(data)}
    if found:
        data["null_reasons"] = found
    return data


def _estimate_reasons(
    key: str, estimate: Estimate, value: bool = True, interval: bool = True
) -> dict[str, str]:
    reasons: dict[str, str] = {}
    if value and math.isnan(estimate.value):
        reasons[key if not interval else f"{key}.value"] = estimate.value_reason
    if interval:
        why = estimate.value_reason or estimate.interval_reason
        reasons[f"{key}.ci_low"] = reasons[f"{key}.ci_high"] = why
    return {path: why for path, why in reasons.items() if why}


def _null_paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Paths of the nulls in data and its nested objects (not in lists: those carry their
    own null_reasons)."""
    paths: list[str] = []
    for key, value in data.items():
        if value is None:
            paths.append(prefix + key)
        elif isinstance(value, dict) and key not in ("method", "confusion"):
            paths.extend(_null_paths(value, f"{prefix}{key}."))
    return paths


def model_json(score: ModelScore) -> dict[str, Any]:
    """One model against the people's consensus (analysis.model_scores)."""
    no_match = "no_matched_pair" if score.matched == 0 else ""
    data = {
        "name": score.name,
        "annotator": score.annotator,
        "version": score.version,
        "images": score.images,
        "model_objects": score.model_objects,
        "consensus_objects": score.consensus_objects,
        "objects_matched": score.matched,
        "precision": json_number(score.precision),
        "recall": json_number(score.recall),
        "f1": json_number(score.f1),
        "label_kappa": json_number(score.label_kappa),
        "log_area_ratio": json_number(score.log_area_ratio),
        "dx": json_number(score.dx),
        "dy": json_number(score.dy),
        "per_label": [
            with_null_reasons(
                {
                    "label": item.label,
                    "model_objects": item.model_objects,
                    "consensus_objects": item.consensus_objects,
                    "objects_matched": item.matched,
                    "precision": json_number(item.precision),
                    "recall": json_number(item.recall),
                },
                {"precision": "no_model_objects", "recall": "no_consensus_objects"},
            )
            for item in score.per_label
        ],
    }
    reasons = {
        "precision": "no_model_objects",
        "recall": "no_consensus_objects",
        "f1": "no_images",
        "label_kappa": no_match or "one_category",
        "log_area_ratio": no_match,
        "dx": no_match,
        "dy": no_match,
    }
    return with_null_reasons(data, reasons)


def gold_json(score: GoldScore) -> tuple[dict[str, Any], dict[str, str]]:
    """One annotator's or model's vs_gold object (analysis.gold_scores), and the reason of
    each null it may hold, by key (per_label items carry their own null_reasons)."""
    none = "no_gold_images" if score.images == 0 else ""
    no_match = none or ("no_matched_pair" if score.matched == 0 else "")
    return {
        "images": score.images,
        "objects": score.objects,
        "gold_objects": score.gold_objects,
        "objects_matched": score.matched,
        "precision": json_number(score.precision),
        "recall": json_number(score.recall),
        "f1": json_number(score.f1),
        "mean_iou": json_number(score.mean_iou),
        "label_accuracy": json_number(score.label_accuracy),
        "per_label": [
            with_null_reasons(
                {
                    "label": item.label,
                    "objects": item.objects,
                    "gold_objects": item.gold_objects,
                    "objects_matched": item.matched,
                    "precision": json_number(item.precision),
                    "recall": json_number(item.recall),
                },
                {"precision": "no_annotator_objects", "recall": "no_gold_objects"},
            )
            for item in score.per_label
        ],
    }, {
        "precision": none or "no_annotator_objects",
        "recall": none or "no_gold_objects",
        "f1": none or "no_images",
        "mean_iou": no_match,
        "label_accuracy": no_match,
    }


def add_vs_gold(data: dict[str, Any], scores: Mapping[str, GoldScore], gold_images: int) -> None:
    """Give every per_annotator and models entry of a report's JSON its vs_gold object (null,
    with the reason no_gold, when no image has finished gold), and the report its
    images_with_gold count. A null inside vs_gold is named in the entry's null_reasons as
    vs_gold.<key>, as edges.left is."""
    data["images_with_gold"] = gold_images
    for entry in (*data.get("per_annotator", ()), *data.get("models", ())):
        score = scores.get(entry["annotator"]) if gold_images else None
        reasons = dict(entry.pop("null_reasons", {}))
        if score is None:
            entry["vs_gold"] = None
            reasons["vs_gold"] = "no_gold" if not gold_images else "no_gold_images"
        else:
            found, why = gold_json(score)
            entry["vs_gold"] = found
            paths = {path: why.get(path) or "undefined" for path in _null_paths(found)}
            reasons.update({f"vs_gold.{path}": code for path, code in paths.items()})
        if reasons:
            entry["null_reasons"] = reasons


def suggestions_json(accepted_unchanged: int, left_out: bool) -> dict[str, Any]:
    """How many of the people's shapes were accepted unchanged from a detector's
    suggestion, and whether the report left them out."""
    return {"accepted_unchanged": accepted_unchanged, "left_out": left_out}
