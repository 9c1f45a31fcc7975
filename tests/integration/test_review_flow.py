"""A review into gold through the Review tab's callbacks, on each database backend: the
queue's contents and order, unit actions saved as gold under the reviewer's name (with
versions, history and undo), verdicts, a send-back redone by the annotator, and gold in
the export."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from PIL import Image

from callbacks import review
from domain.annotation import Annotation
from domain.review import ReviewStatus
from domain.sources import GOLD
from domain.status import ImageStatus
from storage.runtime import Services, install
from tests.unit.callback_support import FlakyStore, call, install_services
from workflows.review_queue import load_queue, rank_batch, rework_notice

ONE, TWO, THREE, FOUR = (f"b/img0{n}.jpg" for n in range(1, 5))


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Iterator[Services]:
    for key in (ONE, TWO, THREE, FOUR):
        path = tmp_path / "images" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (200, 150), (90, 120, 150)).save(path)
    built = install_services(
        tmp_path, DATABASE_URL=database_url, ANNOTATORS_PER_IMAGE="2", LABELS="cat,dog"
    )
    yield built
    built.store.engine.dispose()


def box(key: str, who: str, label: str, coords: tuple[float, ...], n: int = 1) -> Annotation:
    return Annotation(f"{who}-{key}-{n}", key, who, label, "rect", coords)


def draw(services: Services) -> None:
    """alice and bob finish images one to three; only alice finishes four."""
    store = services.store
    store.sync_image(ONE, "alice", [box(ONE, "alice", "cat", (10, 10, 50, 50))])
    store.sync_image(
        ONE,
        "bob",
        [box(ONE, "bob", "cat", (12, 10, 52, 50)), box(ONE, "bob", "dog", (100, 90, 150, 140), 2)],
    )
    store.sync_image(TWO, "alice", [box(TWO, "alice", "cat", (20, 20, 80, 80))])
    store.sync_image(TWO, "bob", [box(TWO, "bob", "dog", (20, 20, 80, 80))])
    for who in ("alice", "bob"):
        store.set_status(THREE, who, ImageStatus.EMPTY)
    store.set_status(FOUR, "alice", ImageStatus.EMPTY)
    # neither a detector, nor a second pass, nor gold makes image four someone's second
    store.set_status(FOUR, "model:yolo", ImageStatus.EMPTY)
    store.set_status(FOUR, "alice#repeat", ImageStatus.EMPTY)


def open_in_review(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    image, gold, style, title, *_ = call(
        review.open_image, "review-queue.cellClicked", {"rowId": key}, None, None, None, "b"
    )
    assert style == {} and title == key
    return image, gold


def act(trigger: str, gold: Any, image: Any, row: str | None = None, who: str | None = None):
    """A unit action button pressed with a row selected; (gold data, banner text)."""
    selected = [{"id": row}] if row else []
    args = [None] * 7
    result = call(
        review.edit_gold,
        f"{trigger}.n_clicks",
        *args,
        selected,
        who,
        "cat",
        gold,
        image,
        "rita",
        "tab-1",
    )
    return result[0], result[1]


def gold_of(services: Services, key: str) -> list[tuple[str, tuple[float, ...]]]:
    return [(r.label, r.coords) for r in services.store.annotations_for(key, GOLD)]


def test_the_queue_holds_images_finished_by_k_people_most_disputed_first(services) -> None:
    draw(services)
    assert [i.key for i in load_queue(services, "b").items] == [ONE, TWO, THREE]

    assert rank_batch(services, "b") == 3
    queue = load_queue(services, "b")
    # two: the one object labelled differently (1.0); one: bob's extra dog (1 - 2/3)
    assert [(i.key, round(i.disagreement or 0, 3)) for i in queue.items] == [
        (TWO, 1.0),
        (ONE, 0.333),
        (THREE, 0.0),
    ]
    rows, counts, _options, batch = call(
        review.show_queue, "page-tabs.active_tab", "tab-review", None, None, None, None, None
    )
    assert batch == "b"
    assert [r["name"] for r in rows] == ["img02.jpg", "img01.jpg", "img03.jpg"]
    assert counts == "3 waiting · 0 accepted · 0 needs rework"


def test_unit_actions_save_gold_under_the_reviewers_name_and_undo(services) -> None:
    draw(services)
    image, gold = open_in_review(ONE)
    _figure, rows, columns, who, saved = call(
        review.render, "review-gold-store.data", gold, "cat", image
    )
    assert [(r["unit"], r["consensus"], r["a0"], r["a1"], r["gold"]) for r in rows] == [
        ("1", "cat", "cat", "cat", "—"),
        ("2", "dog", "missed", "dog", "—"),  # one of two suffices with two annotators
    ]
    assert [c.get("headerName") for c in columns][4:6] == ["alice", "bob"]

    gold, note = act("review-accept-unit", gold, image, "u1")
    assert note is None
    assert gold_of(services, ONE) == [("cat", (11.0, 10.0, 51.0, 50.0))]  # the median box
    gold, note = act("review-take", gold, image, "u1", who="bob")  # fix the unit: bob's box
    assert gold_of(services, ONE) == [("cat", (12.0, 10.0, 52.0, 50.0))]
    [stored] = services.store.annotations_for(ONE, GOLD)
    assert stored.version == 2  # the same gold shape, edited: versions as on the annotate page

    # crafted or missing choices change nothing, with a message
    for row, who, expected in (
        ("u99", None, "not one of this image's units"),
        ("galice-b/img01.jpg-1", None, "not one of this image's units"),
        ("u2", "alice", "alice drew nothing in unit 2"),
        (None, None, "select a unit in the table first"),
    ):
        trigger = "review-take" if who else "review-accept-unit"
        after, note = act(trigger, gold, image, row, who)
        assert expected in note
        assert gold_of(services, ONE) == [("cat", (12.0, 10.0, 52.0, 50.0))]
    after, note = act("review-drop", gold, image, "galice-b/img01.jpg-1")
    assert "not one of this image's gold shapes" in note

    gold, _ = act("review-accept-all", gold, image)
    assert sorted(gold_of(services, ONE)) == [
        ("cat", (12.0, 10.0, 52.0, 50.0)),
        ("dog", (100.0, 90.0, 150.0, 140.0)),
    ]
    events = services.store.events(ONE, GOLD)
    assert {e.actor for e in events} == {"rita"}

    gold, note = act("review-undo", gold, image)  # the accept-all is taken back
    assert gold_of(services, ONE) == [("cat", (12.0, 10.0, 52.0, 50.0))]
    gold, _ = act("review-drop", gold, image, "u1")
    assert gold_of(services, ONE) == []


def test_a_gold_box_drawn_and_moved_in_the_figure_is_saved(services) -> None:
    draw(services)
    image, gold = open_in_review(TWO)
    people = 2  # alice's and bob's boxes come first in the figure, not editable
    drawn = {"type": "rect", "x0": 30, "y0": 30, "x1": 90, "y1": 70}
    shapes = [{"type": "rect", "name": f"{w}-{TWO}-1"} for w in ("alice", "bob")] + [drawn]
    gold = call(
        review.edit_gold,
        "review-graph-edit-store.data",
        {"shapes": shapes},
        *[None] * 6,
        [],
        None,
        "dog",
        gold,
        image,
        "rita",
        "t",
    )[0]
    assert gold_of(services, TWO) == [("dog", (30.0, 30.0, 90.0, 70.0))]
    moved = {f"shapes[{people}].x0": 40, f"shapes[{people}].x1": 100}
    gold = call(
        review.edit_gold,
        "review-graph-edit-store.data",
        moved,
        *[None] * 6,
        [],
        None,
        "dog",
        gold,
        image,
        "rita",
        "t",
    )[0]
    assert gold_of(services, TWO) == [("dog", (40.0, 30.0, 100.0, 70.0))]
    # an edit aimed at an annotator's shape (index 0) never touches anyone's work
    with pytest.raises(PreventUpdate):
        call(
            review.edit_gold,
            "review-graph-edit-store.data",
            {"shapes[0].x0": 1},
            *[None] * 6,
            [],
            None,
            "dog",
            gold,
            image,
            "rita",
            "t",
        )
    assert [r.coords for r in services.store.annotations_for(TWO, "alice")] == [(20, 20, 80, 80)]
    assert gold_of(services, TWO) == [("dog", (40.0, 30.0, 100.0, 70.0))]


def decide(trigger: str, image: Any, gold: Any, comment: str, who: list[str]) -> tuple:
    return call(
        review.decide, f"{trigger}.n_clicks", 1, None, None, image, gold, comment, who, "rita"
    )


def test_accept_and_send_back_then_the_redo_comes_back_to_the_queue(services) -> None:
    draw(services)
    image, gold = open_in_review(ONE)
    gold, _ = act("review-accept-all", gold, image)
    changed, comment, text, shown, color = decide("review-accept", image, gold, "", [])
    assert color == "success" and changed
    assert services.reviews.reviews_of([ONE])[ONE].status == ReviewStatus.ACCEPTED
    exported = services.store.export_rows(GOLD)
    assert sorted(r.label for r in exported.shapes) == ["cat", "dog"]
    assert exported.statuses == {(ONE, GOLD): "done"}

    image, gold = open_in_review(TWO)
    for comment, who, expected in (
        ("", ["alice"], "the comment is empty"),
        ("wrong label", [], "choose whose work goes back"),
        ("wrong label", ["mallory"], "choose among the people who finished this image"),
    ):
        _changed, _c, text, _shown, color = decide("review-rework", image, gold, comment, who)
        assert expected in text and color == "warning"
        assert services.reviews.reviews_of([TWO]) == {}
    decide("review-rework", image, gold, "the cat is a dog", ["alice"])
    assert [i.key for i in load_queue(services, "b").items] == [THREE]
    assert rework_notice(services, TWO, "alice") == "Sent back for rework by rita: the cat is a dog"
    assert rework_notice(services, TWO, "bob") is None
    thread, status, options, _ = call(review.show_review, "review-changed-store.data", image, "x")
    assert "the cat is a dog" in str(thread)
    assert status.startswith("Sent back by rita") and "waiting for alice" in status
    assert options == ["alice", "bob"]

    services.store.sync_image(TWO, "alice", [box(TWO, "alice", "dog", (20, 20, 80, 80), 2)])
    assert rework_notice(services, TWO, "alice") is None  # her new pass closed the request
    queue = load_queue(services, "b")
    assert [(i.key, i.redone) for i in queue.items] == [(TWO, True), (THREE, False)]
    assert (queue.reviewed, queue.rework) == (1, 0)


def test_a_gold_label_typed_in_the_units_table_is_saved(services) -> None:
    draw(services)
    image, gold = open_in_review(ONE)
    gold, _ = act("review-accept-unit", gold, image, "u1")

    def typed(row: str, value: object) -> tuple:
        cells = [{"rowId": row, "colId": "gold", "value": value}]
        args = [None, cells, *[None] * 5, [], None, "cat"]
        return call(
            review.edit_gold, "review-units.cellValueChanged", *args, gold, image, "rita", "t"
        )

    gold, note, *_ = typed("u1", "dog")
    assert note is None and gold_of(services, ONE) == [("dog", (11.0, 10.0, 51.0, 50.0))]
    for row, value, expected in (
        ("u1", "horse", "choose one of the project's labels"),
        ("u2", "cat", "gold has nothing there yet"),
        ("u7", "cat", "not one of this image's units"),
    ):
        _gold, note, *_ = typed(row, value)
        assert expected in note
        assert gold_of(services, ONE) == [("dog", (11.0, 10.0, 51.0, 50.0))]


def test_the_gallery_opens_an_image_in_the_review_view(services) -> None:
    draw(services)
    sent = {"key": TWO, "batch": "b", "index": 1, "view": "review"}
    image, gold, style, title, *_ = call(
        review.open_image, "open-image-store.data", None, None, sent, None, "b"
    )
    assert (image["key"], image["width"], image["height"], title) == (TWO, 200, 150, TWO)
    assert gold["image_key"] == TWO and gold["annotator"] == GOLD
    with pytest.raises(PreventUpdate):  # a click meant for the annotate view
        call(
            review.open_image,
            "open-image-store.data",
            None,
            None,
            {**sent, "view": "annotate"},
            None,
            "b",
        )
    # the queue's Next goes to the first waiting image other than the one on screen
    image, *_ = call(review.open_image, "review-next.n_clicks", None, 1, None, image, "b")
    assert image["key"] == ONE


def test_a_failed_gold_save_is_shown_kept_and_saved_by_the_next_change(services) -> None:
    draw(services)
    image, gold = open_in_review(ONE)
    flaky = FlakyStore(services.store.engine)
    install(dataclasses.replace(services, store=flaky))
    gold, note = act("review-accept-unit", gold, image, "u1")
    assert gold["unsaved"] and gold_of(services, ONE) == []
    *_, status = call(review.render, "review-gold-store.data", gold, "cat", image)
    assert status.startswith("Gold not saved: the database refused the change: connection lost")
    _changed, _comment, text, _shown, _color = decide("review-accept", image, gold, "", [])
    assert text == "Gold is not saved yet: it cannot be accepted."
    assert services.reviews.reviews_of([ONE]) == {}

    flaky.failing = False  # the database is back: the next change saves what was kept too
    gold, note = act("review-take", gold, image, "u2", who="bob")
    assert not gold["unsaved"]
    assert sorted(gold_of(services, ONE)) == [
        ("cat", (11.0, 10.0, 51.0, 50.0)),
        ("dog", (100.0, 90.0, 150.0, 140.0)),
    ]


def test_a_detectors_shapes_show_join_units_and_can_be_taken_into_gold(services) -> None:
    draw(services)
    yolo = "model:yolo"
    services.store.sync_image(
        ONE,
        yolo,
        [box(ONE, yolo, "dog", (11, 11, 51, 51)), box(ONE, yolo, "cat", (150, 20, 190, 60), 2)],
    )
    image, gold = open_in_review(ONE)
    figure, rows, columns, who, _ = call(
        review.render, "review-gold-store.data", gold, "cat", image
    )
    shapes = figure["layout"]["shapes"]
    assert [(s["name"], s["editable"]) for s in shapes[3:]] == [
        (f"{yolo}-{ONE}-1", False),
        (f"{yolo}-{ONE}-2", False),
    ]
    assert yolo in [t["name"] for t in figure["data"] if t.get("showlegend")]
    assert [c.get("headerName") for c in columns][4:7] == ["alice", "bob", yolo]
    # the model's dog-labelled box joins the cat unit without changing its consensus
    assert [(r["unit"], r["consensus"], r["support"], r["a0"], r["a1"], r["m0"]) for r in rows] == [
        ("1", "cat", "2 of 2", "cat", "cat", "dog"),
        ("2", "dog", "1 of 2", "missed", "dog", "missed"),
        ("3", "(none)", "0 of 2", "missed", "missed", "cat"),
    ]
    assert [o["value"] for o in who] == ["alice", "bob", yolo]

    _after, note = act("review-accept-unit", gold, image, "u3")
    assert "only a detector drew it" in note and gold_of(services, ONE) == []
    gold, note = act("review-take", gold, image, "u3", who=yolo)
    assert note is None
    assert gold_of(services, ONE) == [("cat", (150.0, 20.0, 190.0, 60.0))]
    assert [(e.actor, e.annotator) for e in services.store.events(ONE, GOLD)] == [("rita", GOLD)]
    _figure, rows, *_ = call(review.render, "review-gold-store.data", gold, "cat", image)
    assert [r["gold"] for r in rows] == ["—", "—", "cat"]  # gold stands for the model's row

    # the model's two boxes come before gold in the figure: a move of gold is gold's
    moved = {"shapes[5].x0": 140}
    gold = call(
        review.edit_gold,
        "review-graph-edit-store.data",
        moved,
        *[None] * 6,
        [],
        None,
        "cat",
        gold,
        image,
        "rita",
        "t",
    )[0]
    assert gold_of(services, ONE) == [("cat", (140.0, 20.0, 190.0, 60.0))]
    with pytest.raises(PreventUpdate):  # the model's shapes cannot be moved
        call(
            review.edit_gold,
            "review-graph-edit-store.data",
            {"shapes[4].x0": 1},
            *[None] * 6,
            [],
            None,
            "cat",
            gold,
            image,
            "rita",
            "t",
        )
    assert [r.coords for r in services.store.annotations_for(ONE, yolo)][1] == (150, 20, 190, 60)

    # the queue, its counts and whom an image goes back to stay the people's
    queue = load_queue(services, "b")
    assert [(i.key, i.annotators) for i in queue.items][0] == (ONE, ("alice", "bob"))
    _thread, _status, options, _ = call(review.show_review, "review-changed-store.data", image, 1)
    assert options == ["alice", "bob"]
