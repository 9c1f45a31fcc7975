"""A detector measured like an annotator, against the people's consensus, and kept out of
the people's own agreement."""

from __future__ import annotations

import json
import math
from itertools import count
from pathlib import Path

import jsonschema
import pytest

from analysis.model_scores import model_scores, split_models
from analysis.report import agreement_report
from analysis.report_json import model_json
from analysis.work import work_of
from domain.annotation import Annotation

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "agreement-report.schema.json").read_text()
)
CAR, BIKE, FAR = (10.0, 10.0, 110.0, 60.0), (200.0, 200.0, 260.0, 300.0), (400.0, 0.0, 450.0, 40.0)


_ids = count()


def shape(who: str, image: str, box: tuple[float, ...], label: str) -> Annotation:
    source = "model:det@2.1" if who.startswith("model:") else "human"
    return Annotation(f"s{next(_ids)}", image, who, label, "rect", box, source=source)


def people_and_model():
    records = [
        # people agree on a car and a bike on i1, and that i2 is empty
        shape("ann", "i1", CAR, "car"),
        shape("bob", "i1", (12.0, 10.0, 112.0, 62.0), "car"),
        shape("ann", "i1", BIKE, "bike"),
        shape("bob", "i1", BIKE, "bike"),
        # the model: the car right, the bike called a car, a box nobody drew; and on i2,
        # which people found empty, another false positive
        shape("model:det", "i1", (10.0, 12.0, 110.0, 64.0), "car"),
        shape("model:det", "i1", (202.0, 200.0, 262.0, 300.0), "car"),
        shape("model:det", "i1", FAR, "car"),
        shape("model:det", "i2", CAR, "bike"),
        # and i3 no person finished: not compared
        shape("model:det", "i3", CAR, "car"),
    ]
    statuses = {("i2", "ann"): "empty", ("i2", "bob"): "empty"}
    return work_of(records, statuses)


def test_precision_recall_and_per_label_against_the_consensus() -> None:
    people, models = split_models(people_and_model())

    [det] = model_scores(people, models, 0.5)

    assert (det.name, det.version, det.images) == ("det", "2.1", 2)
    assert (det.model_objects, det.consensus_objects, det.matched) == (4, 2, 2)
    assert (det.precision, det.recall) == (2 / 4, 2 / 2)
    assert det.f1 == pytest.approx(2 * 2 / (4 + 2))
    car, bike = (next(s for s in det.per_label if s.label == name) for name in ("car", "bike"))
    assert (car.model_objects, car.consensus_objects, car.matched) == (3, 1, 1)
    assert (car.precision, car.recall) == (1 / 3, 1.0)
    assert (bike.model_objects, bike.consensus_objects, bike.matched) == (1, 1, 0)
    assert (bike.precision, bike.recall) == (0.0, 0.0)
    assert det.label_kappa == 0.0  # consensus (car, bike) vs model (car, car)
    assert det.log_area_ratio == pytest.approx(0.0, abs=0.05)


def test_models_stay_out_of_the_peoples_report() -> None:
    people, models = split_models(people_and_model())

    report = agreement_report(people, resamples=0)

    assert report.annotators == ("ann", "bob")
    assert set(models) == {"model:det"} and set(models["model:det"]) == {"i1", "i2", "i3"}


def test_a_model_that_matched_nothing_says_why_its_numbers_are_null() -> None:
    people, _ = split_models(people_and_model())
    lonely = {"model:x": {"i2": [shape("model:x", "i2", CAR, "car")]}}

    [x] = model_scores(people, lonely)
    data = json.loads(json.dumps(model_json(x), allow_nan=False))

    assert math.isnan(x.recall) and x.precision == 0.0
    assert data["null_reasons"]["recall"] == "no_consensus_objects"
    assert data["null_reasons"]["dx"] == "no_matched_pair"
    jsonschema.Draft202012Validator(SCHEMA).validate(
        {**agreement_report(people, resamples=0).to_json(), "models": [data]}
    )


def test_shapes_accepted_unchanged_from_suggestions_can_be_left_out() -> None:
    from analysis.model_scores import accepted_suggestions, without_suggestions

    suggested = "model:det@2.1"
    records = [
        # both accepted the model's car unchanged: they agree because they were shown it
        Annotation("a1", "i1", "ann", "car", "rect", CAR, source=suggested),
        Annotation("b1", "i1", "bob", "car", "rect", CAR, source=suggested),
        # ann redrew the bike the model suggested; bob drew his own and called it a car
        Annotation("a2", "i1", "ann", "bike", "rect", BIKE, source=suggested + "+edited"),
        Annotation("b2", "i1", "bob", "car", "rect", BIKE),
    ]
    work = work_of(records, {})

    kept, left_out = without_suggestions(work)

    assert left_out == accepted_suggestions(work) == 2
    assert sorted(s.id for done in kept.by_image.values() for s in sum(done.values(), ())) == [
        "a2",
        "b2",
    ]
    assert kept.annotators == ("ann", "bob")  # the image stays finished for both
    [with_them] = agreement_report(work, resamples=0).pairwise
    [without_them] = agreement_report(kept, resamples=0).pairwise
    # the car both were shown no longer counts as a match; the bike each drew still does
    assert (with_them.matched, without_them.matched) == (2, 1)
    assert (without_them.drawn_a, without_them.drawn_b) == (1, 1)
