"""Callbacks called as functions: what the browser would receive, and what gets saved."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from dash import Patch, no_update
from dash.exceptions import PreventUpdate

from callbacks import annotations, identity, navigation, views
from components import ids
from domain.records_state import state_from_data
from domain.status import ImageStatus
from storage.images import batch_of
from storage.runtime import install
from tests.unit.callback_support import FlakyStore, call, install_services, make_batch

RECT = {"type": "rect", "x0": 10, "y0": 20, "x1": 110, "y1": 80, "label": {"text": "person"}}


@pytest.fixture()
def services(tmp_path):
    make_batch(tmp_path / "images", [(400, 300), (640, 480), (200, 200)])
    return install_services(tmp_path)


def at(key: str) -> dict:
    """The position store's data for an image (index unknown: the app looks it up)."""
    return {"batch": batch_of(key), "key": key, "index": None}


def open_image(key: str, annotator: str = "alice") -> tuple[dict, dict]:
    """What the page holds after navigating to key: the image view and the loaded records."""
    image, _text = call(navigation.show_image, "position-store.data", at(key))
    records = call(annotations.load_records, "image-store.data", image, annotator, None)
    return image, records


BUTTONS = ("prev", "next", "jump", "no-objects", "skip", "batch", "refresh-listing")


def press(
    button: str, position: dict | None, records: dict | None, annotator: str = "alice", value=1
):
    """navigate() as Dash calls it after one of its buttons (or a selector) changed; its
    outputs are (position, jump value, jump choices, batch value, message, message open,
    message colour)."""
    args = [value if name == button else None for name in BUTTONS]
    trigger = f"{button}.{'value' if button in ('jump', 'batch') else 'n_clicks'}"
    return call(navigation.navigate, trigger, *args, position, annotator, records)


def load(position: dict | None, annotator: str = "alice"):
    """navigate() on page load, with the position remembered in local storage."""
    return call(navigation.navigate, None, *[None] * len(BUTTONS), position, annotator, None)


def draw(image, records, shapes, label="person", annotator="alice"):
    return call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes": shapes},
        records,
        image,
        annotator,
        label,
    )


def test_drawing_saves_at_once_in_image_pixels(services):
    image, records = open_image("img01.jpg")
    data, text, is_open, _color = draw(image, records, [RECT])
    assert (text, is_open) == (no_update, no_update)
    saved = services.store.annotations_for("img01.jpg", "alice")
    assert [(r.label, r.kind, r.coords) for r in saved] == [("person", "rect", (10, 20, 110, 80))]
    assert data["items"][0]["id"] == saved[0].id and data["unsaved"] is False
    assert services.store.statuses_for("alice") == {"img01.jpg": "done"}


def test_move_then_erase_are_saved(services):
    image, records = open_image("img01.jpg")
    records = draw(image, records, [RECT])[0]
    moved = call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes[0].x0": 50, "shapes[0].x1": 150},
        records,
        image,
        "alice",
        "person",
    )[0]
    assert services.store.annotations_for("img01.jpg", "alice")[0].coords == (50, 20, 150, 80)
    call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes": []},
        moved,
        image,
        "alice",
        "person",
    )
    assert services.store.annotations_for("img01.jpg", "alice") == []
    assert services.store.statuses_for("alice") == {}


def test_zoom_and_autosize_do_nothing(services):
    image, records = open_image("img01.jpg")
    for event in ({"autosize": True}, {"xaxis.range[0]": 3, "xaxis.range[1]": 90}, None):
        with pytest.raises(PreventUpdate):
            call(
                annotations.on_figure_change,
                "graph.relayoutData",
                event,
                records,
                image,
                "alice",
                "person",
            )


def test_malformed_shape_is_explained_and_nothing_is_saved(services):
    image, records = open_image("img01.jpg")
    bad = {"type": "path", "path": "M 1 2 C 3 4 5 6 7 8"}
    data, text, is_open, color = draw(image, records, [bad])
    assert is_open is True and "ignored a drawn shape" in text and "unsupported path" in text
    assert data["items"] == [] and services.store.annotations_for("img01.jpg", "alice") == []


def test_grid_label_edit_and_bad_values(services):
    image, records = open_image("img01.jpg")
    records = draw(image, records, [RECT])[0]
    row_id = records["items"][0]["id"]

    def edit(column, value, current):
        change = {"rowId": row_id, "colId": column, "data": {"id": row_id, column: value}}
        return call(
            annotations.on_cell_edit, "grid.cellValueChanged", [change], current, image, "alice"
        )

    records = edit("label", "food", records)[0]
    assert services.store.annotations_for("img01.jpg", "alice")[0].label == "food"
    for column, value, expected in [
        ("x1", "abc", "not a number"),
        ("y1", "9999", "outside the image"),
        ("label", "spaceship", "unknown label"),
    ]:
        data, text, is_open, _ = edit(column, value, records)
        assert is_open is True and expected in text
        assert data["rev"] > records["rev"]  # the grid re-renders, undoing the typed value
        saved = services.store.annotations_for("img01.jpg", "alice")[0]
        assert (saved.label, saved.coords) == ("food", (10, 20, 110, 80))


def test_failed_save_is_shown_kept_and_retried(services, tmp_path):
    flaky = FlakyStore(services.store.engine)
    install(replace(services, store=flaky))
    image, records = open_image("img01.jpg")
    data = draw(image, records, [RECT])[0]
    assert data["unsaved"] is True and "connection lost" in data["error"]
    assert len(data["items"]) == 1  # the shape stays in the browser
    status, retry_style, timer_disabled = views.render_save_status(data)
    assert "Not saved" in str(status) and retry_style == {} and timer_disabled is False
    # Moving on is refused while the change cannot be saved.
    position, _jump, _choices, _batch, text, is_open, _ = press("next", at("img01.jpg"), data)
    assert position is no_update and is_open and "not saved yet" in text
    flaky.failing = False
    saved = call(annotations.retry_save, "retry-timer.n_intervals", None, 1, data)[0]
    assert saved["unsaved"] is False
    assert len(flaky.annotations_for("img01.jpg", "alice")) == 1


def test_unsaved_records_survive_a_reload(services):
    flaky = FlakyStore(services.store.engine)
    install(replace(services, store=flaky))
    image, records = open_image("img01.jpg")
    unsaved = draw(image, records, [RECT])[0]
    flaky.failing = False
    # After a reload the page loads the image again with the stored (local) records.
    reloaded = call(annotations.load_records, "image-store.data", image, "alice", unsaved)
    assert reloaded["unsaved"] is False and len(reloaded["items"]) == 1
    assert len(flaky.annotations_for("img01.jpg", "alice")) == 1


def test_no_objects_and_skip_record_statuses_and_move_on(services):
    image, records = open_image("img01.jpg")
    position = press("no-objects", at("img01.jpg"), records)[0]
    assert position == {"batch": "", "key": "img02.jpg", "index": 1, "project": "default"}
    image2, records2 = open_image("img02.jpg")
    press("skip", position, records2)
    assert services.store.statuses_for("alice") == {"img01.jpg": "empty", "img02.jpg": "skipped"}
    bars, text = call(navigation.show_progress, "records-store.data", records2, "alice", position)
    assert text.startswith("1 of 3 images done") and "1 skipped" in text


def test_paging_stops_at_either_end_and_says_so(services):
    _image, records = open_image("img03.jpg")
    position, _, _, _, text, is_open, color = press("next", at("img03.jpg"), records)
    assert position is no_update and "last image" in text and color == "info"
    assert press("prev", at("img01.jpg"), records)[4] == "This is the first image of the batch."
    assert press("prev", at("img02.jpg"), records)[0] == at("img01.jpg") | {
        "index": 0,
        "project": "default",
    }


def test_a_remembered_image_that_is_gone_is_explained(services):
    position, jump, _choices, batch, text, is_open, _ = load(at("removed.jpg"))
    assert (
        position == {"batch": "", "key": "img01.jpg", "index": 0, "project": "default"}
        and jump == "img01.jpg"
    )
    assert is_open and "removed.jpg is no longer in the batch" in text


def test_no_objects_on_the_last_image_records_it_and_stays(services):
    _image, records = open_image("img03.jpg")
    position = press("no-objects", at("img03.jpg"), records)[0]
    assert position["key"] == "img03.jpg"
    assert services.store.statuses_for("alice") == {"img03.jpg": "empty"}


def test_no_objects_refused_when_the_image_has_shapes(services):
    image, records = open_image("img01.jpg")
    records = draw(image, records, [RECT])[0]
    position, _, _, _, text, is_open, color = press("no-objects", at("img01.jpg"), records)
    assert position is no_update and "delete them" in text and color == "warning"
    assert services.store.statuses_for("alice") == {"img01.jpg": "done"}


def test_unreadable_image_is_explained_and_not_editable(tmp_path):
    make_batch(tmp_path / "images", [(50, 50)])
    (tmp_path / "images" / "broken.jpg").write_text("this is not a JPEG")
    install_services(tmp_path)
    image, text = call(navigation.show_image, "position-store.data", at("broken.jpg"))
    assert "broken.jpg is not an image" in image["error"] and image["url"] is None
    figure = call(views.render_figure, "image-store.data", image, None, None, "person")
    assert "broken.jpg" in json.dumps(figure["layout"]["annotations"])
    with pytest.raises(PreventUpdate):
        draw(image, {"image_key": "broken.jpg", "annotator": "alice", "items": []}, [RECT])


def test_empty_folder_says_so(tmp_path):
    (tmp_path / "images").mkdir()
    install_services(tmp_path)
    position = load(None)[0]
    image, text = call(navigation.show_image, "position-store.data", position)
    assert image["key"] is None and "No images in" in image["error"] and text == "0 of 0"
    options, disabled, warning, is_open = call(
        navigation.batch_options, "position-store.data", position
    )
    assert is_open and "No images in" in warning and disabled


def test_figure_is_small_whatever_the_image_size(tmp_path):
    make_batch(tmp_path / "images", [(4000, 3000)])
    install_services(tmp_path)
    image, records = open_image("img01.jpg")
    assert (image["width"], image["height"]) == (4000, 3000)
    records = draw(image, records, [dict(RECT, x1=3900, y1=2900)])[0]
    figure = call(views.render_figure, "image-store.data", image, records, None, "person")
    size = len(json.dumps(figure))
    assert size < 5000 and "base64" not in json.dumps(figure)
    assert figure["layout"]["images"][0]["source"].startswith("/images/img01.jpg?v=")
    patch = call(views.render_figure, "grid.selectedRows", image, records, [], "animal")
    assert isinstance(patch, Patch)


def test_load_failure_refuses_edits_so_nothing_is_overwritten(services):
    class BrokenReads(FlakyStore):
        failing = False

        def annotations_for(self, *args):
            from storage.errors import StorageError

            raise StorageError("cannot read annotations: database is locked")

    image, records = open_image("img01.jpg")
    draw(image, records, [RECT])
    install(replace(services, store=BrokenReads(services.store.engine)))
    records = call(annotations.load_records, "image-store.data", image, "alice", None)
    assert state_from_data(records).loaded is False
    _data, text, is_open, _ = draw(image, records, [dict(RECT, x0=1)])
    assert is_open and "could not be loaded" in text
    assert len(services.store.annotations_for("img01.jpg", "alice")) == 1


def test_name_is_required_and_cleaned():
    assert identity.save_name(1, None, "  Ada   Lovelace ") == ("Ada Lovelace", "")
    stored, error = identity.save_name(1, None, "   ")
    assert stored is no_update and "Enter your name" in error


@pytest.fixture()
def batches(tmp_path):
    make_batch(tmp_path / "images" / "north", [(40, 30)] * 4)
    make_batch(tmp_path / "images" / "south", [(50, 20)] * 2)
    return install_services(tmp_path)


def test_sub_folders_are_batches_to_choose_from(batches):
    position, jump, _choices, batch, *_ = load(None)
    assert position == {
        "batch": "north",
        "key": "north/img01.jpg",
        "index": 0,
        "project": "default",
    }
    options, disabled, _warning, warning_open = call(
        navigation.batch_options, "position-store.data", position
    )
    assert [option["value"] for option in options] == ["north", "south"]
    assert disabled is False and warning_open is False

    position, jump, choices, batch, *_ = press("batch", position, None, value="south")
    assert position == {
        "batch": "south",
        "key": "south/img01.jpg",
        "index": 0,
        "project": "default",
    }
    assert (jump, batch) == ("south/img01.jpg", "south")
    # The jump box gets its choices with its value: this image first, then the next ones.
    assert [choice["value"] for choice in choices] == ["south/img01.jpg", "south/img02.jpg"]
    # Next pages within the batch and stops at its end.
    position = press("next", position, None)[0]
    assert position["key"] == "south/img02.jpg"
    assert "last image" in press("next", position, None)[4]
    image, text = call(navigation.show_image, "position-store.data", position)
    assert text == "2 of 2 · south/img02.jpg" and (image["width"], image["height"]) == (50, 20)


def test_progress_counts_the_current_batch(batches):
    batches.store.set_status("north/img01.jpg", "alice", ImageStatus.EMPTY)
    batches.store.set_status("south/img01.jpg", "alice", ImageStatus.DONE)
    position = load(None)[0]
    _bars, text = call(navigation.show_progress, "records-store.data", None, "alice", position)
    assert text.startswith("1 of 4 images done")


def test_the_next_two_images_are_offered_for_prefetch(batches):
    image, _ = open_image("north/img02.jpg")
    urls = call(navigation.prefetch_next, "image-store.data", image)
    assert [url.split("?")[0] for url in urls] == [
        "/images/north/img03.jpg",
        "/images/north/img04.jpg",
    ]
    assert urls[0] == batches.images.url("north/img03.jpg")
    last, _ = open_image("north/img04.jpg")
    assert call(navigation.prefetch_next, "image-store.data", last) == []


def test_jump_offers_names_by_prefix_and_positions_by_number(batches):
    position = {"batch": "north", "key": "north/img01.jpg", "index": 0}
    options = call(navigation.jump_options, "jump.search_value", "img03", position)
    assert {"label": "img03.jpg", "value": "north/img03.jpg"} in options
    numbered = call(navigation.jump_options, "jump.search_value", "4", position)
    assert {"label": "4. img04.jpg", "value": "north/img04.jpg"} in numbered
    # The current image is always an option, so the selector can show it.
    assert options[0]["value"] == "north/img01.jpg"
    moved = press("jump", position, None, value="north/img03.jpg")[0]
    assert moved == {"batch": "north", "key": "north/img03.jpg", "index": 2, "project": "default"}


def test_progress_of_a_huge_batch_is_counted_a_few_pages_per_update(batches, monkeypatch):
    monkeypatch.setattr(batches.images.catalog, "page_size", 1)  # four pages for "north"
    monkeypatch.setattr(navigation, "PROGRESS_PAGES", 1)
    position = {"batch": "north", "key": "north/img01.jpg", "index": 0}

    def progress_text() -> str:
        return call(navigation.show_progress, "records-store.data", None, "alice", position)[1]

    assert [progress_text().split(" (")[0] for _ in range(3)] == [
        f"0 of {count}+ images done" for count in (1, 2, 3)
    ]
    assert progress_text().startswith("0 of 4 images done")


def test_a_move_counts_a_huge_batch_only_as_far_as_listed(batches, monkeypatch):
    """The move's answer waits for no listing: its progress says 'N+' from the pages listed
    so far, and the request that follows (refresh_progress) lists a few more."""
    monkeypatch.setattr(batches.images.catalog, "page_size", 1)  # four pages for "north"
    monkeypatch.setattr(navigation, "PROGRESS_PAGES", 2)
    position = {"batch": "north", "key": "north/img01.jpg", "index": 0}
    arrived = call(navigation.arrival, "next.n_clicks", position, "alice", None, None, None, False)
    text = arrived[[o.component_id for o in navigation.ARRIVAL_OUTPUTS].index(ids.PROGRESS_TEXT)]
    assert text.startswith("0 of 1+ images done")  # only the page the image is on
    _bars, more = call(
        navigation.refresh_progress, "progress-ask-store.data", {}, "alice", position
    )
    assert more.startswith("0 of 4 images done")  # the prefetch listed 2 more, this the last
