"""A detector's shapes in the review view, as pure functions: they join the unit they match
(one-to-one, IoU >= 0.5) or make a row of their own, never change a consensus or its
support, show in the figure and the units table under model:<name>, and can be taken into
gold like a person's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest

from components import review_tab as tab
from components.figure import image_figure
from domain.annotation import Annotation
from domain.errors import ReviewError
from domain.labels import Label
from domain.review_actions import accept_all, accept_consensus, take_shape
from domain.sources import GOLD, HUMAN
from workflows.review_units import units_of

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
KEY = "b/1.jpg"
LABELS = (Label("cat", "#ff0000"), Label("dog", "#00ff00"))
YOLO, DETR = "model:yolo", "model:detr"


def box(who: str, label: str, coords: tuple[float, ...], n: int = 1) -> Annotation:
    return Annotation(f"{who}-{n}", KEY, who, label, "rect", coords, created_at=T0, updated_at=T0)


def ids() -> object:
    numbers = count(1)
    return lambda: f"new-{next(numbers)}"


# three people: all drew the cat; only carol drew the dog (1 of 3: no consensus)
PEOPLE = {
    "alice": (box("alice", "cat", (10, 10, 50, 50)),),
    "bob": (box("bob", "cat", (12, 10, 52, 50)),),
    "carol": (box("carol", "cat", (10, 12, 50, 52)), box("carol", "dog", (100, 100, 140, 140), 2)),
}
# yolo sees the cat (as a dog), the dog, and a bird nobody drew; detr sees the bird too
MODELS = {
    YOLO: (
        box(YOLO, "dog", (11, 11, 51, 51)),
        box(YOLO, "dog", (101, 99, 141, 139), 2),
        box(YOLO, "cat", (150, 10, 190, 40), 3),
    ),
    DETR: (box(DETR, "cat", (152, 11, 191, 41)),),
}


def summary(units) -> list[tuple[object, ...]]:
    return [
        (
            u.number,
            sorted((who, s.id) for who, s in u.members.items()),
            u.consensus and (u.consensus.label, u.consensus.support, u.consensus.of),
        )
        for u in units
    ]


def test_a_models_shapes_join_the_units_they_match_and_the_rest_are_rows_of_their_own() -> None:
    found = units_of(PEOPLE, (), models=MODELS)
    assert summary(found.units) == [
        (
            1,
            [("alice", "alice-1"), ("bob", "bob-1"), ("carol", "carol-1"), (YOLO, f"{YOLO}-1")],
            ("cat", 3, 3),
        ),
        (2, [("carol", "carol-2"), (YOLO, f"{YOLO}-2")], None),
        # the bird: yolo's own row, which detr's matching box joins
        (3, [(DETR, f"{DETR}-1"), (YOLO, f"{YOLO}-3")], None),
    ]


def test_a_model_never_changes_a_consensus_or_its_support() -> None:
    alone = units_of(PEOPLE, ())
    with_models = units_of(PEOPLE, (), models=MODELS)
    assert [u.consensus for u in with_models.units[:2]] == [u.consensus for u in alone.units]
    # the dog: one person of three and a model drew it, still no consensus
    assert with_models.units[1].consensus is None and with_models.units[1].drawn_by_people == 1
    rows = tab.unit_rows(with_models.units, (), ["alice", "bob", "carol"], (), [DETR, YOLO])
    assert [(r["consensus"], r["support"], r["m0"], r["m1"]) for r in rows] == [
        ("cat", "3 of 3", "missed", "dog"),
        ("(none)", "1 of 3", "missed", "dog"),
        ("(none)", "0 of 3", "cat", "cat"),
    ]
    # accepting every consensus takes the people's cat only, never a model's box
    gold, added = accept_all(KEY, (), with_models.units, T0, ids())
    assert added == 1 and [(g.label, g.coords) for g in gold] == [("cat", (10, 10, 50, 50))]


def test_one_model_shape_per_unit_the_second_one_gets_its_own_row() -> None:
    twice = {YOLO: (box(YOLO, "cat", (10, 10, 50, 50)), box(YOLO, "cat", (11, 10, 51, 50), 2))}
    found = units_of({"alice": PEOPLE["alice"]}, (), models=twice)
    assert [sorted(u.members) for u in found.units] == [["alice", YOLO], [YOLO]]
    assert found.units[0].members[YOLO].id != found.units[1].members[YOLO].id


def test_a_models_shape_taken_into_gold_is_a_gold_shape_that_stands_for_its_row() -> None:
    found = units_of(PEOPLE, (), models=MODELS)
    bird = found.units[2]
    with pytest.raises(ReviewError, match="only a detector drew it"):
        accept_consensus(KEY, (), bird, T0, ids())
    [taken] = take_shape(KEY, (), bird, DETR, T0, ids())
    assert (taken.annotator, taken.label, taken.coords, taken.source) == (
        GOLD,
        "cat",
        (152, 11, 191, 41),
        HUMAN,
    )
    again = units_of(PEOPLE, (taken,), models=MODELS)
    assert [u.gold_id for u in again.units] == [None, None, taken.id] and again.extra_gold == ()


def test_with_no_person_a_models_shapes_still_make_rows() -> None:
    found = units_of({}, (), models={YOLO: MODELS[YOLO]})
    assert [(sorted(u.members), u.consensus) for u in found.units] == [
        ([YOLO], None),
        ([YOLO], None),
        ([YOLO], None),
    ]


def test_the_figure_draws_each_models_shapes_as_a_fixed_layer_named_in_the_legend() -> None:
    image = {"key": KEY, "url": "/images/b/1.jpg", "width": 200, "height": 150}
    gold = (box(GOLD, "cat", (10, 10, 50, 50)),)
    figure = tab.review_figure(image, PEOPLE, gold, LABELS, "cat", MODELS)
    # Room for its legend below, in its own figure only: the annotate figure keeps its own.
    assert figure["layout"]["margin"]["b"] == 50
    annotate = image_figure(KEY, image["url"], 200, 150, [], {})
    assert annotate["layout"]["margin"]["b"] == 30
    shapes = figure["layout"]["shapes"]
    names = [s["name"] for s in shapes]
    # people, then each model (sorted), then gold: the order relayout indices refer to
    assert names == tab.shape_names(PEOPLE, gold, MODELS)
    assert names == [
        "alice-1",
        "bob-1",
        "carol-1",
        "carol-2",
        f"{DETR}-1",
        f"{YOLO}-1",
        f"{YOLO}-2",
        f"{YOLO}-3",
        f"{GOLD}-1",
    ]
    models = [s for s in shapes if s["name"].startswith("model:")]
    assert not any(s["editable"] for s in models) and shapes[-1]["editable"]
    detr, yolo = models[0]["line"], models[1]["line"]
    people_lines = [(s["line"]["color"], s["line"]["dash"]) for s in shapes[:4]]
    assert (detr["color"], detr["dash"]) != (yolo["color"], yolo["dash"])
    assert (detr["color"], detr["dash"]) not in people_lines
    assert (yolo["color"], yolo["dash"]) not in people_lines
    legend = {t["name"]: t["line"] for t in figure["data"] if t.get("showlegend")}
    assert legend[DETR] == {**detr, "width": 2} and legend[YOLO] == {**yolo, "width": 2}
    assert {"alice", "bob", "carol"} <= set(legend)


def test_the_units_table_has_a_column_per_model_after_the_people() -> None:
    columns = tab.unit_columns(["alice", "bob"], LABELS, [DETR, YOLO])
    assert columns[3]["field"] == "gold"  # early, so it stays in view
    assert [(c["field"], c.get("headerName")) for c in columns[4:8]] == [
        ("a0", "alice"),
        ("a1", "bob"),
        ("m0", DETR),
        ("m1", YOLO),
    ]
