"""Suggest on the annotate page, callbacks called as functions with plug-in detectors: what
the labeler sees, what gets saved and what gets recorded."""

from __future__ import annotations

import json
from contextvars import copy_context

import pytest
from dash import Patch, no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

from callbacks import annotations, history, navigation, suggestions
from components import ids
from domain.suggestions import decided_ids, suggestions_from_data
from storage.images import batch_of
from storage.runtime import PER_IMAGE
from tests.unit.callback_support import call, install_services, make_batch
from tests.unit.suggestion_detectors import Counting
from workflows import suggest as suggesting

SEVERAL = "tests.unit.suggestion_detectors:several"
FAKE_SOURCE = "model:fake@1.0"


@pytest.fixture(autouse=True)
def fresh_detectors():
    """Each test loads its own DETECTOR (the app keeps one per process)."""
    suggesting.forget_detectors()
    Counting.calls = 0
    yield
    suggesting.forget_detectors()


def services_with(tmp_path, **env: str):
    make_batch(tmp_path / "images", [(400, 300), (640, 480)])
    return install_services(tmp_path, DETECTOR=env.pop("DETECTOR", SEVERAL), **env)


def opened(key: str = "img01.jpg", who: str = "alice") -> tuple[dict, dict]:
    position = {"batch": batch_of(key), "key": key, "index": None}
    image, _text = call(navigation.show_image, "position-store.data", position)
    records = call(annotations.load_records, "image-store.data", image, who, None)
    return image, records


def press_suggest(image: dict, who: str = "alice") -> tuple:
    """(suggestions store, banner text, banner open, banner colour)."""
    return call(suggestions.suggest, "suggest-button.n_clicks", 1, image, who)


def decide(trigger, store, records, image, who="alice", min_score=0.5):
    """decide() after a row's button (trigger: (type, id)) or an 'all shown' button."""
    if isinstance(trigger, tuple):
        kind, sid = trigger
        prop = json.dumps({"index": sid, "type": kind}, separators=(",", ":")) + ".n_clicks"
    else:
        prop = f"{trigger}.n_clicks"
    return call(
        suggestions.decide, prop, [1], [None], 1, None, store, min_score, records, image, who
    )


def render(store, image, who="alice", min_score=0.5, figure=None):
    """(figure patch, list rows, status text, accept-all disabled, reject-all disabled)."""
    figure = figure or {"data": [{"type": "scatter"}]}
    return call(
        suggestions.render_suggestions,
        "suggestions-store.data",
        store,
        min_score,
        image,
        who,
        figure,
    )


def item_ids(store) -> list[str]:
    return [item["id"] for item in store["items"]]


def by_label(store, label: str) -> str:
    return next(item["id"] for item in store["items"] if item["label"] == label)


def events(services, action: str, who: str = "alice", key: str = "img01.jpg"):
    return [e for e in services.store.events(key, who) if e.action == action]


def test_suggest_shows_the_models_shapes_with_label_and_score(tmp_path):
    services_with(tmp_path)
    image, _records = opened()
    store, text, is_open, _ = press_suggest(image)
    assert (text, is_open) == (no_update, no_update)
    found = {(i["label"], i["kind"], i["score"], i["source"]) for i in store["items"]}
    assert found == {
        ("vehicle", "rect", 0.9, FAKE_SOURCE),
        ("animal", "rect", 0.6, FAKE_SOURCE),
        ("object", "polygon", 0.4, FAKE_SOURCE),
    }  # the 0.2 car is under the detection floor (0.35)
    patch, rows, status, accept_all_off, _ = render(store, image, min_score=0.35)
    traces = patch.to_plotly_json()["operations"][0]["params"]["value"]
    assert traces[0]["hoverinfo"] == "skip"  # the figure's own invisible first trace
    outlines = traces[1:]
    assert [t["line"]["dash"] for t in outlines] == ["dash"] * 3
    assert [t["text"][0] for t in outlines] == ["vehicle 0.90", "animal 0.60", "object 0.40"]
    assert outlines[0]["line"]["color"] == services_color("vehicle")
    assert outlines[0]["x"] == [10, 110, 110, 10, 10] and outlines[0]["y"] == [20, 20, 80, 80, 20]
    assert "vehicle" in str(rows) and "0.90" in str(rows) and accept_all_off is False
    assert status.startswith("3 suggestions by fake@1.0 (3 at ≥ 0.35) · found now in")


def services_color(label: str) -> str:
    from storage.runtime import current

    return next(lab.color for lab in current().settings.labels if lab.name == label)


def test_min_score_hides_the_weaker_suggestions_and_all_shown_means_those(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    _patch, rows, status, *_ = render(store, image, min_score=0.5)
    assert "vehicle" in str(rows) and "animal" in str(rows) and "object" not in str(rows)
    assert "(2 at ≥ 0.50)" in status
    high = render(store, image, min_score=0.95)
    assert high[1] == [] and high[3] is True and high[4] is True  # nothing shown: all-buttons off
    data, left, *_ = decide(ids.SUGGEST_ACCEPT_ALL, store, records, image, min_score=0.5)
    saved = services.store.annotations_for("img01.jpg", "alice")
    assert sorted(r.label for r in saved) == ["animal", "vehicle"]
    assert [i["label"] for i in left["items"]] == ["object"]  # still to decide on
    assert len(events(services, "accept")) == 2
    assert {e.change for e in services.store.events("img01.jpg", "alice")} == {
        events(services, "accept")[0].change
    }  # the shapes, their accepts and the status: one transaction, one change


def test_accept_one_makes_the_labelers_own_shape_and_records_it(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    car = by_label(store, "vehicle")
    data, left, text, is_open, _ = decide((ids.SUGGEST_ACCEPT, car), store, records, image)
    assert (text, is_open) == (no_update, no_update)
    [shape] = services.store.annotations_for("img01.jpg", "alice")
    assert (shape.label, shape.kind, shape.coords) == ("vehicle", "rect", (10, 20, 110, 80))
    assert (shape.source, shape.score, shape.annotator) == (FAKE_SOURCE, 0.9, "alice")
    assert shape.id != car and data["items"][0]["id"] == shape.id and data["unsaved"] is False
    assert car not in item_ids(left) and len(left["items"]) == 2
    [accept] = events(services, "accept")
    assert accept.after == {"id": shape.id} and accept.annotation_id == shape.id
    assert accept.before == {
        "id": car,
        "label": "vehicle",
        "kind": "rect",
        "coords": [10, 20, 110, 80],
        "points": [],
        "score": 0.9,
        "source": FAKE_SOURCE,
    }
    [create] = events(services, "create")
    assert create.change == accept.change  # written in the same transaction
    assert services.store.statuses_for("alice") == {"img01.jpg": "done"}
    # The history says what happened; the model's stored shapes are not the labeler's.
    call(history.toggle_history, "history-open.n_clicks", 1, False)
    listing = call(history.show_history, "records-store.data", data, True, image, "alice")
    assert "accepted the suggested vehicle rect (0.90)" in str(listing)


def test_reject_records_it_and_the_suggestion_is_not_offered_again(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    cat = by_label(store, "animal")
    data, left, text, is_open, _ = decide((ids.SUGGEST_REJECT, cat), store, records, image)
    assert data is no_update and cat not in item_ids(left) and is_open is no_update
    [reject] = events(services, "reject")
    assert reject.annotation_id == cat and reject.after is None
    assert reject.before["label"] == "animal" and reject.before["score"] == 0.6
    assert services.store.annotations_for("img01.jpg", "alice") == []  # no shape, no status
    again = press_suggest(image)[0]
    assert cat not in item_ids(again) and len(again["items"]) == 2
    # Someone else still gets it: decisions are each labeler's own.
    bob_image, _ = opened(who="bob")
    assert cat in item_ids(press_suggest(bob_image, "bob")[0])
    # Undo takes the reject back (and says so in the history).
    call(history.undo_last_change, "history-undo.n_clicks", 1, records, image, "alice")
    assert cat in item_ids(press_suggest(image)[0])
    assert decided_ids(services.store.events("img01.jpg", "alice")) == set()


def test_reject_all_shown(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    _data, left, *_ = decide(ids.SUGGEST_REJECT_ALL, store, records, image, min_score=0.5)
    assert [i["label"] for i in left["items"]] == ["object"]
    assert len(events(services, "reject")) == 2
    assert len({e.change for e in events(services, "reject")}) == 1


def test_editing_an_accepted_suggestion_marks_it_edited(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    records = decide(ids.SUGGEST_ACCEPT_ALL, store, records, image)[0]
    vehicle = next(r for r in records["items"] if r["label"] == "vehicle")
    animal = next(r for r in records["items"] if r["label"] == "animal")
    change = {
        "rowId": vehicle["id"],
        "colId": "label",
        "data": {"id": vehicle["id"], "label": "food"},
    }
    records = call(
        annotations.on_cell_edit, "grid.cellValueChanged", [change], records, image, "alice"
    )[0]
    index = [r["id"] for r in records["items"]].index(animal["id"])
    call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {f"shapes[{index}].x0": 160},
        records,
        image,
        "alice",
        "person",
    )
    saved = {r.id: r for r in services.store.annotations_for("img01.jpg", "alice")}
    assert (saved[vehicle["id"]].label, saved[vehicle["id"]].source) == (
        "food",
        FAKE_SOURCE + "+edited",
    )
    assert saved[animal["id"]].coords[0] == 160
    assert saved[animal["id"]].source == FAKE_SOURCE + "+edited"
    assert saved[animal["id"]].score == 0.6  # the model's confidence stays with it
    edits = events(services, "edit")
    assert [(e.before["source"], e.after["source"]) for e in edits] == [
        (FAKE_SOURCE, FAKE_SOURCE + "+edited")
    ] * 2  # each edit of a suggestion is recorded, before and after


def test_undo_of_an_accept_deletes_the_shape_and_offers_the_suggestion_again(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    car = by_label(store, "vehicle")
    records = decide((ids.SUGGEST_ACCEPT, car), store, records, image)[0]
    undone = call(history.undo_last_change, "history-undo.n_clicks", 1, records, image, "alice")
    assert undone[0]["items"] == [] and services.store.annotations_for("img01.jpg", "alice") == []
    assert car in item_ids(press_suggest(image)[0])


def test_stored_suggestions_are_used_at_once_and_stored_for_the_next_person(tmp_path):
    services = services_with(tmp_path)
    image, _ = opened()
    first = press_suggest(image)[0]
    assert first["origin"] == "detected" and Counting.calls == 1
    stored = services.store.annotations_for("img01.jpg", "model:fake")
    assert sorted(r.id for r in stored) == sorted(item_ids(first))
    bob_image, _ = opened(who="bob")
    second = press_suggest(bob_image, "bob")[0]
    assert second["origin"] == "stored" and Counting.calls == 1
    assert sorted(item_ids(second)) == sorted(item_ids(first))
    # The model's shapes never appear among a labeler's own.
    assert opened(who="bob")[1]["items"] == []


def test_suggestions_are_for_this_image_and_this_labeler_only(tmp_path):
    services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    other_image, other_records = opened("img02.jpg")
    patch, rows, status, *_ = render(store, other_image)
    assert patch is no_update and rows == [] and status == ""
    with pytest.raises(PreventUpdate):  # a stale list cannot accept onto another image
        decide(ids.SUGGEST_ACCEPT_ALL, store, other_records, other_image)
    # Moving to another image clears them; the shown outlines are taken away.
    hidden, disabled, title, note, cleared = call(
        suggestions.show_controls, "image-store.data", other_image, "alice"
    )
    assert (hidden, disabled, note) == (False, False, "") and title.startswith("Key s")
    assert suggestions_from_data(cleared).items == ()
    drawn = {"data": [{"type": "scatter"}, {"type": "scatter", "name": "suggestion"}]}
    patch = render(cleared, other_image, figure=drawn)[0]
    assert isinstance(patch, Patch)
    assert len(patch.to_plotly_json()["operations"][0]["params"]["value"]) == 1


def test_new_rows_appearing_do_not_decide_anything(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    prop = json.dumps({"index": item_ids(store)[0], "type": ids.SUGGEST_ACCEPT}) + ".n_clicks"

    def run() -> object:  # as Dash calls it when a new row's button appears (n_clicks None)
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop, "value": None}]))
        return suggestions.decide([None], [None], None, None, store, 0.5, records, image, "alice")

    with pytest.raises(PreventUpdate):
        copy_context().run(run)
    assert services.store.events("img01.jpg", "alice") == []


@pytest.mark.parametrize(
    "env",
    [{"SUGGESTIONS": "off"}, {"ANNOTATORS_PER_IMAGE": "2"}, {"REPEAT_PERCENT": "10"}],
    ids=["switched-off", "two-per-image", "repeats"],
)
def test_switched_off_or_measuring_agreement_hides_and_refuses(tmp_path, env):
    services = services_with(tmp_path, **env)
    image, records = opened()
    hidden, disabled, *_ = call(suggestions.show_controls, "image-store.data", image, "alice")
    assert hidden is True and disabled is True
    store, text, is_open, color = press_suggest(image)
    assert store["items"] == [] and is_open and color == "warning"
    assert ("SUGGESTIONS=off" if env.get("SUGGESTIONS") else "agreement is measured") in text
    assert Counting.calls == 0
    assert services.store.annotations_for("img01.jpg", "model:fake") == []


def test_an_admin_setting_two_annotators_per_image_switches_them_off_live(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    services.app_settings.put(PER_IMAGE, "2")
    assert call(suggestions.show_controls, "image-store.data", image, "alice")[0] is True
    data, left, text, is_open, color = decide(ids.SUGGEST_ACCEPT_ALL, store, records, image)
    assert data is no_update and left["items"] == [] and "off" in text
    assert services.store.annotations_for("img01.jpg", "alice") == []
    services.app_settings.put(PER_IMAGE, "0")  # back to everyone sees everything: on again
    assert call(suggestions.show_controls, "image-store.data", image, "alice")[0] is False


def test_without_a_detector_the_button_is_disabled_and_says_how_to_switch_it_on(tmp_path):
    services_with(tmp_path, DETECTOR="none")
    image, _ = opened()
    hidden, disabled, title, note, _ = call(
        suggestions.show_controls, "image-store.data", image, "alice"
    )
    assert hidden is False and disabled is True
    assert "DETECTOR=nanodet" in note and "README" in note and title == note
    _store, text, is_open, color = press_suggest(image)
    assert is_open and color == "warning" and "DETECTOR=none" in text


def test_the_built_in_detector_is_not_loaded_until_someone_suggests(tmp_path, monkeypatch):
    services_with(tmp_path, DETECTOR="nanodet")
    image, _ = opened()
    hidden, disabled, _title, note, _ = call(
        suggestions.show_controls, "image-store.data", image, "alice"
    )
    assert (hidden, disabled, note) == (False, False, "")
    assert suggesting._loaded == {}  # showing the button loaded nothing
    monkeypatch.setattr(suggesting.importlib.util, "find_spec", lambda name: None)
    hidden, disabled, _title, note, _ = call(
        suggestions.show_controls, "image-store.data", image, "alice"
    )
    assert hidden is False and disabled is True and "pip install onnxruntime" in note


def test_a_detector_that_raises_is_a_clear_banner_and_the_page_keeps_working(tmp_path):
    services = services_with(tmp_path, DETECTOR="tests.unit.suggestion_detectors:raising")
    image, records = opened()
    store, text, is_open, color = press_suggest(image)
    assert is_open and color == "danger" and store["items"] == []
    assert text == "No suggestions: img01.jpg: fake: CUDA out of memory"
    rect = {"type": "rect", "x0": 10, "y0": 20, "x1": 110, "y1": 80}
    call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes": [rect]},
        records,
        image,
        "alice",
        "person",
    )
    assert len(services.store.annotations_for("img01.jpg", "alice")) == 1


def test_a_failed_save_accepts_nothing_and_keeps_the_suggestion(tmp_path):
    from dataclasses import replace

    from storage.runtime import install
    from tests.unit.callback_support import FlakyStore

    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    install(replace(services, store=FlakyStore(services.store.engine)))
    data, left, text, is_open, _ = decide(ids.SUGGEST_ACCEPT_ALL, store, records, image)
    assert is_open and "Not accepted" in text and "connection lost" in text
    assert data["items"] == [] and data["unsaved"] is False and left is no_update
    assert services.store.annotations_for("img01.jpg", "alice") == []
    assert events(services, "accept") == []


def test_only_the_models_own_suggestions_are_accepted_once(tmp_path):
    services = services_with(tmp_path)
    image, records = opened()
    store = press_suggest(image)[0]
    car = by_label(store, "vehicle")
    forged = dict(store["items"][0], id="m-forged", label="spaceship", coords=[0, 0, 9e9, 9e9])
    tampered = dict(store, items=[forged, *store["items"]])
    data, left, text, is_open, color = decide(
        (ids.SUGGEST_ACCEPT, "m-forged"), tampered, records, image
    )
    assert data is no_update and is_open and color == "info" and "m-forged" not in item_ids(left)
    records = decide((ids.SUGGEST_ACCEPT, car), store, records, image)[0]
    # The same row pressed again (a double click, another tab): no second shape.
    data, _left, text, is_open, _ = decide((ids.SUGGEST_ACCEPT, car), store, records, image)
    assert data is no_update and "decided on already" in text
    assert [r.label for r in services.store.annotations_for("img01.jpg", "alice")] == ["vehicle"]
    assert len(events(services, "accept")) == 1
