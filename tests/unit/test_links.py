"""The page's address names its image: a shared link opens it (in its own batch), a link to
an image that is gone or not the labeler's says so, and Back (the address changing) moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash.exceptions import PreventUpdate

from callbacks import navigation
from components.layout import project_link
from storage.runtime import Services
from tests.unit.callback_support import call, install_services, make_batch

BUTTONS = 7  # prev, next, jump, no objects, skip, batch, refresh


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    make_batch(tmp_path / "images" / "b1", [(400, 300), (640, 480), (200, 200)])
    make_batch(tmp_path / "images" / "b2", [(300, 300), (320, 240)])
    return install_services(tmp_path)


def open_page(trigger: str | None, position: Any, link: Any, shown: Any = None) -> tuple:
    """move() as the page calls it, with the link store's value."""
    args = [None] * BUTTONS
    return call(
        navigation.move, trigger, *args, position, "alice", None, None, None, None, shown, link
    )


def test_a_link_opens_its_image_in_its_own_batch(services: Services) -> None:
    remembered = {"batch": "b1", "key": "b1/img01.jpg", "index": 0}
    moved = open_page(None, remembered, {"key": "b2/img02.jpg"})
    assert (moved[0]["batch"], moved[0]["key"], moved[0]["index"]) == ("b2", "b2/img02.jpg", 1)
    assert moved[3] == "b2"  # the batch selector follows


def test_a_link_to_a_gone_image_says_so_and_opens_the_remembered_one(services: Services) -> None:
    remembered = {"batch": "b1", "key": "b1/img03.jpg", "index": 2}
    moved = open_page(None, remembered, {"key": "b1/nope.jpg"})
    assert moved[0]["key"] == "b1/img03.jpg"
    assert any("'b1/nope.jpg'" in str(v) and "not among" in str(v) for v in moved)


def test_back_moves_to_the_address_image_and_the_shown_one_asks_nothing(
    services: Services,
) -> None:
    here = {"batch": "b1", "key": "b1/img03.jpg", "index": 2}
    shown = {"key": "b1/img03.jpg"}
    moved = open_page("link-store.data", here, {"key": "b1/img02.jpg", "at": 1}, shown)
    assert moved[0]["key"] == "b1/img02.jpg"
    with pytest.raises(PreventUpdate):
        open_page("link-store.data", here, {"key": "b1/img03.jpg", "at": 2}, shown)


def test_a_link_to_an_image_with_its_annotators_says_so(tmp_path: Path) -> None:
    make_batch(tmp_path / "images", [(400, 300), (640, 480)])
    services = install_services(tmp_path, ANNOTATORS_PER_IMAGE="1")
    held = services.assignments
    assert held is not None and held.hold_or_claim("bob", "img02.jpg")
    moved = open_page(None, None, {"key": "img02.jpg"})
    assert moved[0]["key"] == "img01.jpg"  # alice gets an image that needs her
    assert any("img02.jpg already has its 1 annotator(s)" in str(v) for v in moved)


def test_project_links_name_the_project_and_image() -> None:
    assert project_link("cats") == "/?project=cats"
    assert project_link("cats", "b1/a b.jpg") == "/?project=cats&image=b1%2Fa+b.jpg"


def test_a_page_without_a_link_opens_whatever_dash_names_as_the_trigger(
    services: Services,
) -> None:
    """Dash's first call may name the (empty) link store as its trigger."""
    moved = open_page("link-store.data", None, None)
    assert moved[0]["key"] == "b1/img01.jpg"
    again = open_page("link-store.data", None, {"key": "b2/img01.jpg"})
    assert again[0]["key"] == "b2/img01.jpg"
