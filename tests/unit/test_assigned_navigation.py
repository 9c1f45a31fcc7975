"""Paging with ANNOTATORS_PER_IMAGE: what two annotators see when they press the buttons."""

from __future__ import annotations

import pytest

from tests.unit.callback_support import install_services, make_batch
from tests.unit.test_callbacks import RECT, at, draw, load, open_image, press


@pytest.fixture()
def one_each(tmp_path):
    """Four images, each needing one annotator."""
    make_batch(tmp_path / "images", [(300, 200)] * 4)
    return install_services(tmp_path, ANNOTATORS_PER_IMAGE="1")


def key_of(outputs) -> str:
    return outputs[0]["key"]


def test_two_annotators_are_never_handed_the_same_image(one_each):
    alice = load(at("img01.jpg"), "alice")
    bob = load(at("img01.jpg"), "bob")  # the same remembered place: bob moves on
    assert key_of(alice) == "img01.jpg" and key_of(bob) == "img02.jpg"
    alice_next = press("no-objects", alice[0], None, "alice")
    bob_next = press("next", bob[0], None, "bob")
    assert key_of(alice_next) == "img03.jpg" and key_of(bob_next) == "img04.jpg"
    # Nothing else needs alice: img01 she finished, img02 and img04 are bob's.
    stuck = press("next", alice_next[0], None, "alice")
    assert "needs you now" in stuck[4]
    # Bob's Next takes him back round to img02, which he holds but has not finished.
    assert key_of(press("next", bob_next[0], None, "bob")) == "img02.jpg"


def test_previous_goes_back_through_ones_own_images_and_jump_refuses_others(one_each):
    alice = load(at("img01.jpg"), "alice")
    bob = load(at("img01.jpg"), "bob")  # img02
    third = press("next", alice[0], None, "alice")  # img03
    back = press("prev", third[0], None, "alice")
    assert key_of(back) == "img01.jpg"  # bob's img02 is skipped over
    refused = press("jump", third[0], None, "alice", value="img02.jpg")
    assert "already has its 1 annotator" in refused[4]
    assert key_of(bob) == "img02.jpg"


def test_skip_gives_the_image_back_and_drawing_on_anothers_image_is_refused(one_each):
    alice = load(at("img01.jpg"), "alice")
    skipped = press("skip", alice[0], None, "alice")
    assert key_of(skipped) == "img02.jpg"
    bob = load(at("img01.jpg"), "bob")
    assert key_of(bob) == "img01.jpg"  # free again after alice skipped it

    # Alice forges her way onto bob's image: the server refuses her shape.
    image, records = open_image("img01.jpg", "alice")
    data, text, is_open, _colour = draw(image, records, [RECT], annotator="alice")
    assert is_open and "not assigned to you" in text
    assert data["items"] == [] and one_each.store.annotations_for("img01.jpg", "alice") == []


def test_finished_images_stay_with_their_annotator(one_each):
    alice = load(at("img01.jpg"), "alice")
    image, records = open_image("img01.jpg", "alice")
    draw(image, records, [RECT], annotator="alice")
    moved = press("next", alice[0], None, "alice")  # img02
    back = press("prev", moved[0], None, "alice")
    assert key_of(back) == "img01.jpg"
    assert key_of(load(at("img01.jpg"), "bob")) == "img03.jpg"  # alice holds img02
    assert key_of(load(at("img01.jpg"), "carol")) == "img04.jpg"
    dan = load(at("img01.jpg"), "dan")  # nothing left: he sees img01, and why, but...
    assert "needs you now" in dan[4]
    image, records = open_image("img01.jpg", "dan")
    _data, text, _open, _colour = draw(image, records, [RECT], annotator="dan")
    assert "not assigned to you" in text  # ...cannot draw on it
