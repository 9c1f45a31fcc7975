"""Every write path checks every record on the server (issue 16, points 1, 2, 5, 18).

The browser's records store is crafted as a probe would: Retry, Next's autosave and the
retry on reload must store the valid records, refuse the rest and say why."""

from __future__ import annotations

import math

import pytest
from dash import no_update

from callbacks import annotations, navigation
from domain.shape_rules import MAX_POINTS, MAX_SHAPES_PER_IMAGE
from storage.errors import SourceUnavailable
from tests.unit.callback_support import call, install_services, make_batch
from tests.unit.test_callbacks import RECT, at, draw, load, open_image, press

KEY = "img01.jpg"  # 400 x 300
BOW_TIE = [[10, 10], [200, 100], [200, 10], [10, 60]]  # crosses itself, has area


@pytest.fixture()
def services(tmp_path):
    make_batch(tmp_path / "images", [(400, 300), (640, 480)])
    return install_services(tmp_path)


def item(record_id: str, **fields) -> dict:
    """A record as the browser's store holds it: a valid rect of alice's on KEY."""
    data = {
        "id": record_id,
        "image_key": KEY,
        "annotator": "alice",
        "label": "person",
        "kind": "rect",
        "coords": [10, 20, 110, 80],
        "points": [],
        "version": 0,
    }
    data.update(fields)
    return data


def crafted(items: list[dict], image_key: str = KEY, known=None) -> dict:
    """A records store holding unsaved records, as a probe would send it."""
    return {
        "image_key": image_key,
        "annotator": "alice",
        "items": items,
        "unsaved": True,
        "error": "earlier failure",
        "rev": 3,
        "loaded": True,
        "known": known,
        "notice": None,
    }


def via_retry(state: dict, key: str = KEY) -> tuple[dict | None, str]:
    data, text, _is_open, _color = call(
        annotations.retry_save, "retry-timer.n_intervals", None, 1, state
    )
    return data, f"{text} {data['error']}"  # the banner, and the save status when unsaved


def via_next(state: dict, key: str = KEY) -> tuple[dict | None, str]:
    outputs = press("next", at(key), state)
    return None, str(outputs[4])


def via_load(state: dict, key: str = KEY) -> tuple[dict | None, str]:
    image, _text = call(navigation.show_image, "position-store.data", at(key))
    data = call(annotations.load_records, "image-store.data", image, "alice", state)
    return data, f"{data['notice']} {data['error']}"


PATHS = {"retry": via_retry, "next": via_next, "load": via_load}

PROBES = {
    "unknown label": (item("bad", label="spaceship"), ["spaceship", "project's labels"]),
    "NaN": (item("bad", coords=[math.nan, 20, 110, 80]), ["not a finite number"]),
    "Infinity": (item("bad", coords=[10, 20, math.inf, 80]), ["not a finite number"]),
    "one coordinate": (item("bad", coords=[10]), ["four coordinates"]),
    "eight coordinates": (item("bad", coords=[10, 20, 30, 40, 50, 60, 70, 80]), ["four"]),
    "outside the image": (
        item("bad", coords=[10, 20, 3000, 2000]),
        ["outside the image", "400x300"],
    ),
    "another image": (item("bad", image_key="img02.jpg"), ["another image or annotator"]),
    "unknown image": (item("bad", image_key="nope.jpg"), ["another image or annotator"]),
    "another annotator": (item("bad", annotator="bob"), ["another image or annotator"]),
    "too many points": (
        item(
            "bad",
            kind="path",
            coords=[],
            points=[[10 + i % 300, 10 + (i // 300) * 10] for i in range(MAX_POINTS + 1)],
        ),
        [f"at most {MAX_POINTS} points"],
    ),
    "self-crossing polygon": (
        item("bad", kind="polygon", coords=[], points=BOW_TIE),
        ["crosses itself"],
    ),
    "box with points": (item("bad", points=[[1, 2], [3, 4]]), ["rect"]),
    "bad score": (item("bad", score=math.nan), ["score"]),
    "unknown kind": (item("bad", kind="hexagon"), ["not a readable record"]),
    "text for a number": (item("bad", coords=["ten", 20, 110, 80]), ["not a readable record"]),
}


def stored(services, key: str = KEY, who: str = "alice") -> dict:
    return {r.id: r for r in services.store.annotations_for(key, who)}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("probe", PROBES)
def test_invalid_records_are_refused_and_valid_ones_saved(services, path, probe):
    image, records = open_image(KEY)
    first = draw(image, records, [RECT])[0]  # one shape already stored
    bad, expected = PROBES[probe]
    items = [*first["items"], item("good", coords=[200, 100, 300, 200]), bad]
    data, text = PATHS[path](crafted(items, known=first["known"]))
    kept = stored(services)
    assert set(kept) == {first["items"][0]["id"], "good"}  # the valid ones, nothing else
    assert kept["good"].coords == (200, 100, 300, 200)
    for words in expected:
        assert words in text
    assert "not saved" in text.lower()
    assert services.store.annotations_for("img02.jpg", "alice") == []
    assert services.store.annotations_for(KEY, "bob") == []
    if data is not None:  # the browser now holds what is stored: nothing left to retry
        assert data["unsaved"] is False
        assert {i["id"] for i in data["items"]} == set(kept)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("x1", "expected"), [(math.nan, "not a finite number"), ("far", "not a readable record")]
)
def test_an_invalid_edit_keeps_the_stored_shape(services, path, x1, expected):
    image, records = open_image(KEY)
    first = draw(image, records, [RECT])[0]
    moved = {**first["items"][0], "coords": [10, 20, x1, 80]}
    _data, text = PATHS[path](crafted([moved], known=first["known"]))
    kept = list(stored(services).values())
    assert [(r.id, r.coords) for r in kept] == [(moved["id"], (10, 20, 110, 80))]
    assert expected in text


@pytest.mark.parametrize("path", PATHS)
def test_too_many_shapes_keeps_the_first_ones(services, path):
    image, records = open_image(KEY)
    items = [
        item(f"s{n:04d}", coords=[n % 390, n // 390, n % 390 + 5, n // 390 + 5])
        for n in range(MAX_SHAPES_PER_IMAGE + 1)
    ]
    _data, text = PATHS[path](crafted(items, known=records["known"]))
    assert len(stored(services)) == MAX_SHAPES_PER_IMAGE
    assert f"at most {MAX_SHAPES_PER_IMAGE} shapes" in text


@pytest.mark.parametrize("path", ["retry", "load"])  # Next never saves on a place it left
def test_an_image_that_does_not_exist_is_refused(services, path):
    items = [item("ghost", image_key="nope.jpg")]
    if path == "load":  # the page itself is pointed at the image that is not there
        image = {"key": "nope.jpg", "batch": "", "width": 4000, "height": 3000, "error": None}
        data = call(
            annotations.load_records, "image-store.data", image, "alice", crafted(items, "nope.jpg")
        )
        text = data["error"]
    else:
        data, text = via_retry(crafted(items, "nope.jpg"))
    assert services.store.annotations_for("nope.jpg", "alice") == []
    assert "nope.jpg" in text and "image source" in text
    if data is not None:
        assert data["unsaved"] is True and len(data["items"]) == 1  # kept to retry


@pytest.mark.parametrize("path", ["retry", "next"])
def test_a_deleted_image_refuses_writes_and_keeps_the_shapes_unsaved(services, tmp_path, path):
    image, records = open_image(KEY)
    first = draw(image, records, [RECT])[0]
    (tmp_path / "images" / KEY).unlink()
    items = [*first["items"], item("good", coords=[200, 100, 300, 200])]
    data, text = PATHS[path](crafted(items, known=first["known"]))
    assert set(stored(services)) == {first["items"][0]["id"]}
    assert f"{KEY} is no longer in the image source" in text
    if path == "retry":
        assert data["unsaved"] is True and len(data["items"]) == 2
    else:
        assert "Not moving on" in text


def test_drawing_on_a_deleted_image_is_refused(services, tmp_path):
    image, records = open_image(KEY)
    (tmp_path / "images" / KEY).unlink()
    data, text, is_open, _color = draw(image, records, [RECT])
    assert stored(services) == {}
    assert data["unsaved"] is True and len(data["items"]) == 1
    assert "no longer in the image source" in data["error"]


def test_drawing_with_a_lying_image_size_is_checked_against_the_real_one(services):
    image, records = open_image(KEY)
    lying = {**image, "width": 4000, "height": 3000}
    far = {"type": "rect", "x0": 10, "y0": 20, "x1": 3000, "y1": 2000}
    data, text, is_open, _color = draw(lying, records, [RECT, far])
    assert [r.coords for r in stored(services).values()] == [(10, 20, 110, 80)]
    assert is_open and "outside the image (400x300)" in text


def test_drawing_a_self_crossing_polygon_is_refused(services):
    image, records = open_image(KEY)
    bow_tie = {"type": "path", "path": "M10,10L200,100L200,10L10,60Z"}
    data, text, is_open, _color = draw(image, records, [bow_tie])
    assert is_open and "crosses itself" in text
    assert data["items"] == [] and stored(services) == {}


def test_drawing_a_path_of_too_many_points_is_refused(services):
    image, records = open_image(KEY)
    points = "L".join(f"{10 + i % 300},{10 + (i // 300) * 10}" for i in range(MAX_POINTS + 1))
    data, text, is_open, _color = draw(image, records, [{"type": "path", "path": f"M{points}"}])
    assert is_open and f"at most {MAX_POINTS} points" in text
    assert data["items"] == [] and stored(services) == {}


def test_moving_a_polygon_corner_so_it_crosses_itself_is_refused(services):
    image, records = open_image(KEY)
    square = {"type": "path", "path": "M10,10L100,10L100,100L10,100Z"}
    first = draw(image, records, [square])[0]
    data, text, is_open, _color = call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes[0].path": "M10,10L200,100L200,10L10,60Z"},
        first,
        image,
        "alice",
        "person",
    )
    assert is_open and "crosses itself" in text
    assert [r.points for r in stored(services).values()] == [
        ((10, 10), (100, 10), (100, 100), (10, 100))
    ]


def test_typing_self_crossing_points_in_the_table_is_refused(services):
    image, records = open_image(KEY)
    square = {"type": "path", "path": "M10,10L100,10L100,100L10,100Z"}
    first = draw(image, records, [square])[0]
    row = first["items"][0]["id"]
    change = {"rowId": row, "colId": "points", "data": {"points": "10,10; 200,100; 200,10; 10,60"}}
    data, text, is_open, _ = call(
        annotations.on_cell_edit, "grid.cellValueChanged", [change], first, image, "alice"
    )
    assert is_open and "crosses itself" in text
    assert [r.points for r in stored(services).values()] == [
        ((10, 10), (100, 10), (100, 100), (10, 100))
    ]


@pytest.fixture()
def one_each(tmp_path):
    make_batch(tmp_path / "images", [(400, 300)] * 3)
    return install_services(tmp_path, ANNOTATORS_PER_IMAGE="1")


@pytest.mark.parametrize("path", PATHS)
def test_an_image_someone_else_holds_is_not_written(one_each, path):
    bob = load(at(KEY), "bob")
    assert bob[0]["key"] == KEY  # bob holds img01; alice is handed another image
    load(at(KEY), "alice")
    _data, text = PATHS[path](crafted([item("mine")]))
    assert one_each.store.annotations_for(KEY, "alice") == []
    assert "not assigned to you" in text
    assert one_each.store.statuses_for("alice") == {}


def test_next_moves_on_after_refusing_an_image_someone_else_holds(one_each):
    load(at(KEY), "bob")
    position = press("next", at(KEY), crafted([item("mine")]))[0]
    assert position is not no_update and position["key"] != KEY


def test_with_many_polygons_stored_ones_are_kept_and_a_new_crossing_one_refused(services):
    image, records = open_image(KEY)
    squares = [
        item(f"p{n}", kind="polygon", coords=[], points=[[n, 0], [n + 9, 0], [n + 9, 9]])
        for n in range(0, 120, 10)
    ]
    first = via_retry(crafted(squares, known=records["known"]))[0]
    assert len(stored(services)) == len(squares)
    crossing = item("bad", kind="polygon", coords=[], points=BOW_TIE)
    data, text = via_retry(crafted([*first["items"], crossing], known=first["known"]))
    assert set(stored(services)) == {s["id"] for s in squares}
    assert "crosses itself" in text and data["unsaved"] is False


def test_a_source_that_cannot_be_reached_does_not_stop_saving(services, monkeypatch):
    image, records = open_image(KEY)

    def unreachable(key):
        raise SourceUnavailable("Cannot reach S3 for s3://bucket/: timed out")

    monkeypatch.setattr(services.images.source, "stat", unreachable)
    data, text, is_open, _color = draw(image, records, [RECT])
    assert data["unsaved"] is False and len(stored(services)) == 1
