"""Annotators and models scored against gold: hand-computed values, an independent
implementation on random scenes, and the JSON with its nulls and their reasons."""

from __future__ import annotations

import json
import math
import random
from itertools import count, permutations
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from shapely.geometry import Polygon, box

from analysis.gold_scores import gold_scores, people_and_models_against_gold, score_against_gold
from analysis.model_scores import model_scores
from analysis.report import agreement_report
from analysis.report_json import NULL_REASONS, add_vs_gold, model_json
from analysis.work import Work
from domain.annotation import Annotation

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "agreement-report.schema.json").read_text()
)
_ids = count()


def rect(who: str, image: str, coords: tuple[float, ...], label: str) -> Annotation:
    return Annotation(f"s{next(_ids)}", image, who, label, "rect", coords)


def polygon(who: str, image: str, points: list[tuple[float, float]], label: str) -> Annotation:
    return Annotation(f"s{next(_ids)}", image, who, label, "polygon", points=tuple(points))


def hand_scene() -> tuple[dict[str, tuple[Annotation, ...]], dict[str, tuple[Annotation, ...]]]:
    """The module doc's reference scene: (annotator's shapes, gold's shapes) by image."""
    gold = {
        "i1": (
            rect("gold", "i1", (0, 0, 10, 10), "cat"),
            polygon("gold", "i1", [(20, 0), (30, 0), (20, 10)], "dog"),
            rect("gold", "i1", (50, 50, 60, 60), "cat"),  # missed
        ),
        "i2": (),  # gold found nothing; so did ann
    }
    mine = {
        "i1": (
            rect("ann", "i1", (0, 0, 10, 8), "cat"),  # IoU 0.8 with gold's cat
            polygon("ann", "i1", [(20, 0), (30, 0), (30, 10), (20, 10)], "cat"),  # IoU 0.5
            rect("ann", "i1", (80, 80, 90, 90), "dog"),  # extra
        ),
        "i2": (),
        "i3": (rect("ann", "i3", (0, 0, 5, 5), "cat"),),  # gold did not finish i3
    }
    return mine, gold


def test_hand_computed_scores_against_gold() -> None:
    mine, gold = hand_scene()

    score = score_against_gold("ann", mine, gold, 0.5)

    assert (score.images, score.objects, score.gold_objects, score.matched) == (2, 3, 3, 2)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 / 3)
    assert score.mean_iou == pytest.approx(0.65)
    assert score.label_accuracy == pytest.approx(0.5)
    by_label = {item.label: item for item in score.per_label}
    cat, dog = by_label["cat"], by_label["dog"]
    assert (cat.objects, cat.gold_objects, cat.matched) == (2, 2, 1)
    assert (cat.precision, cat.recall) == (0.5, 0.5)
    assert (dog.objects, dog.gold_objects, dog.matched, dog.precision, dog.recall) == (
        1,
        1,
        0,
        0.0,
        0.0,
    )
    # a stricter threshold loses the polygon's match (IoU 0.5)
    strict = score_against_gold("ann", mine, gold, 0.6)
    assert (strict.matched, strict.mean_iou, strict.label_accuracy) == (1, 0.8, 1.0)


def test_nothing_drawn_by_either_is_perfect_and_no_images_is_undefined() -> None:
    empty = score_against_gold("ann", {"i1": (), "i2": ()}, {"i1": (), "i2": ()})
    assert (empty.images, empty.f1) == (2, 1.0)
    assert math.isnan(empty.precision) and math.isnan(empty.recall)
    assert math.isnan(empty.mean_iou) and math.isnan(empty.label_accuracy)

    apart = score_against_gold("ann", {"i1": ()}, {"i2": ()})
    assert apart.images == 0 and math.isnan(apart.f1)


# ---------------------------------------------------------------- independent check


def _region(shape: Annotation) -> Polygon:
    if shape.kind == "rect":
        return box(*shape.coords)
    return Polygon(shape.points)


def _reference(
    mine: dict[str, tuple[Annotation, ...]], gold: dict[str, tuple[Annotation, ...]], t: float
) -> dict[str, float]:
    """Written apart from analysis: shapely IoUs, and every one-to-one matching tried by
    brute force, keeping the most pairs and then the largest total IoU."""
    matched = drawn = truths = same = 0
    ious: list[float] = []
    for key in set(mine) & set(gold):
        a, g = mine[key], gold[key]
        drawn, truths = drawn + len(a), truths + len(g)
        iou = [
            [
                _region(x).intersection(_region(y)).area / _region(x).union(_region(y)).area
                for y in g
            ]
            for x in a
        ]
        best: tuple[int, float, list[tuple[int, int]]] = (0, 0.0, [])
        small, large = (a, g) if len(a) <= len(g) else (g, a)
        for chosen in permutations(range(len(large)), len(small)):
            pairs = [
                (i, j) if small is a else (j, i)
                for i, j in enumerate(chosen)
                if iou[i if small is a else j][j if small is a else i] >= t - 1e-9
                and iou[i if small is a else j][j if small is a else i] > 0
            ]
            total = sum(iou[i][j] for i, j in pairs)
            if (len(pairs), total) > (best[0], best[1] + 1e-12):
                best = (len(pairs), total, pairs)
        matched += best[0]
        ious += [iou[i][j] for i, j in best[2]]
        same += sum(a[i].label == g[j].label for i, j in best[2])
    return {
        "precision": matched / drawn if drawn else math.nan,
        "recall": matched / truths if truths else math.nan,
        "f1": 2 * matched / (drawn + truths) if drawn + truths else 1.0,
        "mean_iou": sum(ious) / len(ious) if ious else math.nan,
        "label_accuracy": same / matched if matched else math.nan,
    }


def _random_shape(rng: random.Random, who: str, image: str, near: Annotation | None) -> Annotation:
    label = rng.choice(("cat", "dog"))
    if near is not None and rng.random() < 0.8:  # a jittered copy of a gold shape
        if near.kind == "rect":
            x0, y0, x1, y1 = (c + rng.uniform(-2.5, 2.5) for c in near.coords)
            return rect(who, image, (min(x0, x1 - 2), min(y0, y1 - 2), x1, y1), label)
        moved = [(x + rng.uniform(-1.5, 1.5), y + rng.uniform(-1.5, 1.5)) for x, y in near.points]
        return polygon(who, image, moved, label)
    x, y = rng.uniform(0, 60), rng.uniform(0, 60)
    w, h = rng.uniform(8, 30), rng.uniform(8, 30)
    if rng.random() < 0.6:
        return rect(who, image, (x, y, x + w, y + h), label)
    # a convex quadrilateral (a skewed box), so shapely and analysis agree on its region
    skew = rng.uniform(-w / 4, w / 4)
    return polygon(
        who, image, [(x, y), (x + w, y), (x + w + skew, y + h), (x + skew, y + h)], label
    )


@pytest.mark.parametrize("seed", range(12))
def test_matches_an_independent_implementation_on_random_scenes(seed: int) -> None:
    rng = random.Random(seed)
    gold: dict[str, tuple[Annotation, ...]] = {}
    mine: dict[str, tuple[Annotation, ...]] = {}
    for image in (f"i{n}" for n in range(6)):
        truth = tuple(_random_shape(rng, "gold", image, None) for _ in range(rng.randint(0, 4)))
        drawn = [_random_shape(rng, "ann", image, shape) for shape in truth if rng.random() < 0.8]
        drawn += [_random_shape(rng, "ann", image, None) for _ in range(rng.randint(0, 2))]
        gold[image], mine[image] = truth, tuple(drawn)
    threshold = rng.choice((0.3, 0.5, 0.7))

    found = score_against_gold("ann", mine, gold, threshold)
    expected = _reference(mine, gold, threshold)

    for name, value in expected.items():
        assert getattr(found, name) == pytest.approx(value, abs=1e-6, nan_ok=True), name


# ---------------------------------------------------------------- the JSON


def _work(scene: dict[str, dict[str, tuple[Annotation, ...]]]) -> Work:
    return Work({key: dict(done) for key, done in scene.items()})


def report_with_gold(
    people: Work, gold: dict[str, tuple[Annotation, ...]], models: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What cli.py agreement --json prints for these people, models and gold."""
    data = agreement_report(people, 0.5, resamples=10, seed=0).to_json()
    data["models"] = [model_json(found) for found in model_scores(people, models or {}, 0.5)]
    add_vs_gold(data, people_and_models_against_gold(people, models or {}, gold, 0.5), len(gold))
    return json.loads(json.dumps(data, allow_nan=False))


def _people() -> Work:
    mine, gold = hand_scene()
    bob = {
        "i1": (rect("bob", "i1", (0, 0, 10, 10), "cat"),),
        "i2": (rect("bob", "i2", (1, 1, 4, 4), "dog"),),
    }
    return _work(
        {key: {"ann": mine[key], **({"bob": bob[key]} if key in bob else {})} for key in mine}
    )


def test_vs_gold_in_every_annotator_and_model_entry_follows_the_schema() -> None:
    _, gold = hand_scene()
    model = {"model:det": {"i1": (rect("model:det", "i1", (0, 0, 10, 10), "cat"),)}}

    data = report_with_gold(_people(), gold, model)

    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["images_with_gold"] == 2
    ann = next(row for row in data["per_annotator"] if row["annotator"] == "ann")["vs_gold"]
    assert (ann["images"], ann["objects"], ann["gold_objects"], ann["objects_matched"]) == (
        2,
        3,
        3,
        2,
    )
    assert ann["mean_iou"] == pytest.approx(0.65) and ann["label_accuracy"] == 0.5
    assert [(p["label"], p["precision"], p["recall"]) for p in ann["per_label"]] == [
        ("cat", 0.5, 0.5),
        ("dog", 0.0, 0.0),
    ]
    bob = next(row for row in data["per_annotator"] if row["annotator"] == "bob")
    # bob drew one cat on i1 (gold's cat) and a dog where gold saw nothing on i2
    assert bob["vs_gold"]["objects_matched"] == 1 and bob["vs_gold"]["precision"] == 0.5
    det = data["models"][0]["vs_gold"]
    assert (det["images"], det["objects_matched"], det["precision"], det["recall"]) == (
        1,
        1,
        1.0,
        pytest.approx(1 / 3),
    )
    assert "gold" not in data["annotators"]


def test_without_gold_vs_gold_is_null_with_the_reason_no_gold() -> None:
    data = report_with_gold(_people(), {})

    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["images_with_gold"] == 0
    for row in data["per_annotator"]:
        assert row["vs_gold"] is None
        assert row["null_reasons"]["vs_gold"] == "no_gold"


def test_every_null_in_vs_gold_says_why() -> None:
    gold = {"i1": (), "i9": (rect("gold", "i9", (0, 0, 5, 5), "cat"),)}
    people = _work(
        {
            "i1": {"ann": (), "bob": (rect("bob", "i1", (0, 0, 5, 5), "cat"),)},
            "i2": {"ann": (), "carl": ()},
        }
    )

    data = report_with_gold(people, gold)

    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    rows = {row["annotator"]: row for row in data["per_annotator"]}
    ann, bob, carl = rows["ann"], rows["bob"], rows["carl"]
    # ann and gold both found i1 empty: perfect F1, nothing to take a precision of
    assert ann["vs_gold"]["f1"] == 1.0 and ann["vs_gold"]["precision"] is None
    assert ann["null_reasons"]["vs_gold.precision"] == "no_annotator_objects"
    assert ann["null_reasons"]["vs_gold.recall"] == "no_gold_objects"
    assert ann["null_reasons"]["vs_gold.mean_iou"] == "no_matched_pair"
    # bob drew where gold saw nothing: precision 0, recall undefined
    assert bob["vs_gold"]["precision"] == 0.0
    assert bob["null_reasons"]["vs_gold.recall"] == "no_gold_objects"
    assert bob["vs_gold"]["per_label"][0]["null_reasons"] == {"recall": "no_gold_objects"}
    # carl never met gold
    assert carl["vs_gold"]["images"] == 0 and carl["vs_gold"]["f1"] is None
    assert carl["null_reasons"]["vs_gold.f1"] == "no_gold_images"
    for row in rows.values():
        nulls = {k for k, v in row["vs_gold"].items() if v is None}
        assert {f"vs_gold.{k}" for k in nulls} <= set(row["null_reasons"])
        assert set(row["null_reasons"].values()) <= set(NULL_REASONS)
        assert "undefined" not in row["null_reasons"].values()


def test_gold_scores_covers_every_annotator_given() -> None:
    mine, gold = hand_scene()
    scores = gold_scores({"ann": mine, "zed": {"i7": ()}}, gold)
    assert sorted(scores) == ["ann", "zed"] and scores["zed"].images == 0
