"""The agreement report on small hand-built cases, against hand-computed values."""

from __future__ import annotations

import json
import math
from itertools import count

import numpy as np
import pytest

from analysis.bias import annotator_bias, box_offsets
from analysis.consensus import consensus_of
from analysis.matching import match_objects
from analysis.pairwise import (
    THRESHOLDS,
    disagreement_by_image,
    pair_agreement,
    pair_matches,
)
from analysis.reliability import krippendorff_alpha
from analysis.report import (
    additive_alpha_terms,
    agreement_report,
    alpha_of_columns,
    consensus_from_units,
    label_columns,
    nominal_alpha_from_terms,
    presence_alpha,
    units_of,
)
from analysis.units import MISSED
from analysis.work import Work, work_of
from domain.annotation import Annotation

_ids = count()
Box = tuple[float, float, float, float]


def rect(who: str, image: str, box: Box, label: str = "cat") -> Annotation:
    return Annotation(
        id=f"r{next(_ids)}", image_key=image, annotator=who, label=label, kind="rect", coords=box
    )


def drawn(shapes: dict[str, dict[str, list[tuple[Box, str]]]]) -> Work:
    """Work from {image: {annotator: [(box, label), ...]}}; an empty list: found empty."""
    records = [
        rect(who, image, box, label)
        for image, done in shapes.items()
        for who, items in done.items()
        for box, label in items
    ]
    statuses = {(image, who): "done" for image, done in shapes.items() for who in done}
    return work_of(records, statuses)


def dumps(report_json: dict) -> str:
    return json.dumps(report_json, allow_nan=False)


TWO_OBJECTS = [((10, 10, 60, 50), "cat"), ((100, 100, 180, 160), "dog")]


def test_all_annotators_agree() -> None:
    work = drawn({image: dict.fromkeys("abc", TWO_OBJECTS) for image in ("i1", "i2")})

    report = agreement_report(work, resamples=20)
    data = report.to_json()

    assert data["images"] == 2 and data["annotators"] == ["a", "b", "c"]
    assert [(p["a"], p["b"]) for p in data["pairwise"]] == [("a", "b"), ("a", "c"), ("b", "c")]
    for pair in data["pairwise"]:
        assert pair["images"] == 2 and pair["matched"] == 4
        assert pair["f1"] == 1.0 and pair["mean_iou"] == 1.0 and pair["label_kappa"] == 1.0
        assert pair["f1_over_thresholds"] == 1.0  # IoU 1 passes every threshold up to 0.95
    assert data["label_alpha"] == {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    # everyone drew on every image: no variation in presence, alpha undefined
    assert data["presence_alpha"] is None
    assert data["presence_alpha_ci"] == {"ci_low": None, "ci_high": None}
    for bias in data["per_annotator"]:
        assert bias["images"] == 2 and bias["objects"] == 4 and bias["matched"] == 4
        assert bias["log_area_ratio"] == 0.0 and bias["dx"] == 0.0 and bias["dy"] == 0.0
        assert bias["edges"] == {"left": 0.0, "right": 0.0, "top": 0.0, "bottom": 0.0}
        assert bias["miss_rate"] == 0.0 and bias["extra_per_image"] == 0.0
        assert bias["label_kappa_vs_consensus"] == 1.0
        assert bias["confusion"] == {"labels": ["cat", "dog"], "matrix": [[1.0, 0.0], [0.0, 1.0]]}
        assert bias["seconds_per_image"] is None
        assert bias["alpha_effect"] == 0.0
    dumps(data)


def test_one_annotator_gives_no_pairs_and_no_alpha() -> None:
    work = drawn({"i1": {"a": TWO_OBJECTS}, "i2": {"a": []}})

    report = agreement_report(work, resamples=20)
    data = report.to_json()

    assert data["images"] == 0 and data["annotators"] == ["a"]
    assert data["pairwise"] == []
    assert math.isnan(report.label_alpha.value)
    assert data["label_alpha"] == {"value": None, "ci_low": None, "ci_high": None}
    assert data["presence_alpha"] is None
    (alone,) = data["per_annotator"]
    assert alone["images"] == 0 and alone["matched"] == 0
    assert alone["miss_rate"] is None and alone["extra_per_image"] is None
    assert alone["dx"] is None and alone["confusion"] == {"labels": [], "matrix": []}
    dumps(data)


def test_no_overlap_gives_f1_zero_and_hand_computed_alpha() -> None:
    work = drawn({"i1": {"a": [((0, 0, 10, 10), "cat")], "b": [((100, 100, 110, 110), "cat")]}})

    report = agreement_report(work, resamples=20)
    (pair,) = report.pairwise

    assert (pair.f1, pair.matched, pair.drawn_a, pair.drawn_b) == (0.0, 0, 1, 1)
    assert math.isnan(pair.mean_iou) and math.isnan(pair.label_kappa)
    assert pair.f1_over_thresholds == 0.0
    # units (cat, MISSED) and (MISSED, cat): n = 4, every pair off-diagonal, D_o = 4,
    # n^2 - sum n_c^2 = 16 - 8 = 8, alpha = 1 - 3 * 4 / 8
    assert report.label_alpha.value == pytest.approx(-0.5)
    for bias in report.per_annotator:
        assert bias.miss_rate == 1.0 and bias.extra_per_image == 1.0 and bias.matched == 0
    dumps(report.to_json())


def test_images_found_empty_by_all() -> None:
    work = work_of([], {(image, who): "empty" for image in ("i1", "i2", "i3") for who in "ab"})

    report = agreement_report(work, resamples=20)
    data = report.to_json()
    (pair,) = report.pairwise

    # by definition: agreeing that there is nothing to draw is full agreement
    assert pair.images == 3 and pair.f1 == 1.0 and pair.f1_over_thresholds == 1.0
    assert math.isnan(pair.mean_iou)
    assert data["label_alpha"]["value"] is None  # no units at all
    assert data["presence_alpha"] is None  # all False: no variation
    for bias in data["per_annotator"]:
        assert bias["images"] == 3 and bias["objects"] == 0
        assert bias["miss_rate"] is None and bias["extra_per_image"] == 0.0
    dumps(data)


def test_presence_alpha_hand_computed() -> None:
    box = [((0, 0, 10, 10), "cat")]
    work = drawn({"i1": {"a": box, "b": box}, "i2": {"a": [], "b": []}, "i3": {"a": box, "b": []}})

    found = presence_alpha(work, resamples=50)

    # values T T | F F | T F: n = 6, n_T = n_F = 3, D_o = 2, alpha = 1 - 5 * 2 / (36 - 18)
    assert found.value == pytest.approx(4 / 9)
    assert found.ci_low <= found.value <= found.ci_high
    assert agreement_report(work, resamples=5).to_json()["presence_alpha"] == pytest.approx(4 / 9)


def test_pairwise_f1_iou_and_kappa_by_hand() -> None:
    a = [((0, 0, 10, 10), "cat"), ((50, 0, 60, 10), "dog"), ((300, 300, 310, 310), "dog")]
    b = [((0, 0, 10, 20), "cat"), ((200, 200, 210, 210), "dog")]
    work = drawn({"i1": {"a": a, "b": b}})

    pair = pair_agreement(work, "a", "b", 0.5)

    # one match at IoU 100 / 200 = 0.5; F1 = 2 * 1 / (3 + 2)
    assert (pair.matched, pair.f1, pair.mean_iou) == (1, pytest.approx(0.4), 0.5)
    # only t = 0.50 keeps the match: mean of (0.4, 0, ..., 0) over ten thresholds
    assert len(THRESHOLDS) == 10 and THRESHOLDS[-1] == 0.95
    assert pair.f1_over_thresholds == pytest.approx(0.04)


def test_pairwise_label_kappa_on_matched_pairs() -> None:
    boxes = [(0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10), (60, 0, 70, 10)]
    a = list(zip(boxes, ["cat", "cat", "dog", "dog"]))
    b = list(zip(boxes, ["cat", "dog", "dog", "dog"]))
    work = drawn({"i1": {"a": a, "b": b}})

    # p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2, kappa = (3/4 - 1/2) / (1 - 1/2)
    assert pair_agreement(work, "a", "b").label_kappa == pytest.approx(0.5)


def test_bias_offsets_against_the_others_consensus() -> None:
    agreed = [((100, 100, 200, 200), "cat")]
    work = drawn({"i1": {"a": agreed, "b": agreed, "k": [((90, 100, 230, 200), "cat")]}})

    bias = annotator_bias(work, "k")

    # k's box is 140 x 100 against 100 x 100, centred 10 px to the right
    assert bias.log_area_ratio == pytest.approx((math.log(1.4),))
    assert bias.dx == pytest.approx((0.1,)) and bias.dy == (0.0,)
    assert bias.left + bias.right + bias.top + bias.bottom == pytest.approx((0.1, 0.3, 0.0, 0.0))
    assert bias.miss_rate == 0.0 and bias.images == 1


def test_box_offsets_are_positive_outside_the_reference() -> None:
    reference = (10, 5, 30, 15)  # 20 x 10, centre (20, 10)

    outside = box_offsets((0, 0, 40, 30), reference)  # 40 x 30, centre (20, 15)
    inside = box_offsets((12, 6, 28, 14), reference)

    assert outside == pytest.approx(
        {
            "log_area_ratio": math.log(1200 / 200),
            "dx": 0.0,
            "dy": 0.5,
            "left": 0.5,
            "right": 0.5,
            "top": 0.5,
            "bottom": 1.5,
        }
    )
    assert inside is not None
    assert [inside[edge] for edge in ("left", "right", "top", "bottom")] == pytest.approx(
        [-0.1, -0.1, -0.1, -0.1]
    )
    assert box_offsets((0, 0, 0, 10), reference) is None  # a flat box has no area ratio


def test_misses_extras_labels_and_confusion_against_consensus() -> None:
    boxes = [(0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10), (60, 0, 70, 10), (80, 0, 90, 10)]
    labels = ["cat", "cat", "dog", "dog", "dog"]
    others = list(zip(boxes, labels))
    # k misses the last object, labels one cat a dog, and draws one object nobody else drew
    mine = [*zip(boxes[:4], ["cat", "dog", "dog", "dog"]), ((300, 300, 310, 310), "cat")]
    work = drawn({"i1": {"a": others, "b": others, "k": mine}, "i2": {"a": [], "k": []}})

    bias = annotator_bias(work, "k")

    assert (bias.images, bias.objects, bias.consensus_objects, bias.matched) == (2, 5, 5, 4)
    assert bias.miss_rate == pytest.approx(1 / 5)
    assert bias.extra_per_image == pytest.approx(1 / 2)
    assert bias.label_kappa == pytest.approx(0.5)  # consensus cat cat dog dog, k cat dog dog dog
    assert bias.confusion_labels == ("cat", "dog")
    assert bias.confusion == ((0.5, 0.5), (0.0, 1.0))


def test_alpha_effect_hand_computed() -> None:
    boxes = [(0, 0, 10, 10), (50, 50, 60, 60)]
    work = drawn(
        {
            "i1": {
                "a": list(zip(boxes, ["cat", "dog"])),
                "b": list(zip(boxes, ["cat", "dog"])),
                "c": list(zip(boxes, ["cat", "cat"])),
            }
        }
    )

    report = agreement_report(work, resamples=20)
    effect = {bias.annotator: bias.alpha_effect for bias in report.per_annotator}

    # all: units (cat cat cat), (dog dog cat): n = 6, D_o = 2, alpha = 1 - 5 * 2 / (36 - 20)
    assert report.label_alpha.value == pytest.approx(0.375)
    # without c: perfect agreement (1.0); without a (or b): (cat cat), (dog cat) gives 0.0
    assert effect["c"] == pytest.approx(0.375 - 1.0)
    assert effect["a"] == pytest.approx(0.375) and effect["b"] == pytest.approx(0.375)


def test_disagreement_by_image_ranks_worst_first() -> None:
    pair_of_boxes = [((0, 0, 10, 10), "cat"), ((50, 50, 60, 60), "dog")]
    relabelled = [((0, 0, 10, 10), "cat"), ((50, 50, 60, 60), "cat")]
    work = drawn(
        {
            "agree": {"a": pair_of_boxes, "b": pair_of_boxes},
            "label": {"a": pair_of_boxes, "b": relabelled},
            "apart": {"a": [((0, 0, 10, 10), "cat")], "b": [((90, 90, 99, 99), "cat")]},
            "empty": {"a": [], "b": []},
            "alone": {"a": pair_of_boxes},
        }
    )

    ranked = disagreement_by_image(work, 0.5)

    # label: 1 - 2 * 1 / (2 + 2); agreed-empty images agree fully; "alone" has no pair
    assert ranked == [("apart", 1.0), ("label", 0.5), ("agree", 0.0), ("empty", 0.0)]


def test_pair_matches_equals_match_objects_on_crowded_images() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        a, b = (
            [
                rect("x", "i", (x, y, x + w, y + h))
                for x, y, w, h in rng.uniform([0, 0, 20, 20], [20, 20, 40, 40], (n, 4))
            ]
            for n in rng.integers(0, 7, 2)
        )
        found = pair_matches(a, b, THRESHOLDS)
        for threshold, pairs in zip(THRESHOLDS, found):
            expected = [(m.a, m.b, m.iou) for m in match_objects(a, b, threshold)]
            assert pairs == expected


def test_shared_units_give_the_consensus_of_consensus_of() -> None:
    work = drawn(
        {
            "i1": {
                "a": [((0, 0, 10, 10), "cat"), ((40, 40, 60, 60), "dog")],
                "b": [((1, 0, 11, 10), "dog"), ((41, 40, 61, 60), "dog")],
                "c": [((2, 1, 10, 11), "cat")],
            },
            "i2": {"a": [], "b": [((0, 0, 5, 5), "cat")]},
            "i3": {"c": []},
        }
    )
    for who in (None, "a", "b", "c"):
        chosen = work if who is None else work.without(who)
        assert consensus_from_units(chosen, units_of(chosen)) == consensus_of(chosen)


def test_additive_alpha_terms_reproduce_krippendorff_alpha() -> None:
    rng = np.random.default_rng(3)
    values = ["cat", "dog", "(missed)", None]
    columns = {
        f"i{i}": [[values[v] for v in rng.integers(0, 4, 4)] for _ in range(3)] for i in range(30)
    }
    marginals, agreeing = additive_alpha_terms(columns)
    for draw in (list(range(30)), rng.integers(0, 30, 30).tolist()):
        times = np.bincount(draw, minlength=30).astype(float)
        resampled = {f"d{n}": columns[f"i{i}"] for n, i in enumerate(draw)}
        rows = [list(row) for row in zip(*(u for c in resampled.values() for u in c))]
        expected = krippendorff_alpha(rows)
        assert math.isfinite(expected)
        assert nominal_alpha_from_terms(times @ marginals, float(times @ agreeing)) == (
            pytest.approx(expected)
        )
        assert alpha_of_columns(resampled) == pytest.approx(expected)


def test_label_columns_use_missed_and_missing() -> None:
    work = drawn(
        {
            "i1": {"a": [((0, 0, 10, 10), "cat")], "b": []},
            "i2": {"a": [((0, 0, 10, 10), "dog")], "c": [((0, 0, 10, 10), "dog")]},
        }
    )

    columns = label_columns(work, units_of(work))

    assert columns == {"i1": [["cat", MISSED, None]], "i2": [["dog", None, "dog"]]}


def test_to_json_is_strict_json_with_the_documented_keys() -> None:
    work = drawn({"i1": {"a": TWO_OBJECTS, "b": TWO_OBJECTS[:1]}, "i2": {"a": []}})

    data = agreement_report(work, resamples=10).to_json()
    text = dumps(data)

    assert json.loads(text) == data
    assert set(data) >= {
        "iou_threshold",
        "images",
        "annotators",
        "label_alpha",
        "presence_alpha",
        "pairwise",
        "per_annotator",
    }
    assert set(data["pairwise"][0]) >= {
        "a",
        "b",
        "images",
        "f1",
        "mean_iou",
        "label_kappa",
        "f1_over_thresholds",
    }
    assert set(data["per_annotator"][0]) >= {
        "annotator",
        "images",
        "objects",
        "log_area_ratio",
        "dx",
        "dy",
        "edges",
        "miss_rate",
        "extra_per_image",
        "label_kappa_vs_consensus",
        "confusion",
        "seconds_per_image",
        "alpha_effect",
    }


def test_threshold_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        pair_matches([], [], (1.5,))
