"""Repeats: a finished image comes back for a blind second pass, kept as `name#repeat`, and
the agreement report measures each annotator against themselves."""

from __future__ import annotations

import pytest

from analysis.intra import first_passes, intra_rater
from callbacks import agreement, annotations, navigation
from domain.repeats import first_pass_of, pick_repeat, repeat_name
from storage.runtime import current
from tests.unit.callback_support import call, install_services, make_batch
from tests.unit.test_callbacks import RECT, at, draw, load, open_image, press
from workflows.agreement import load_work


def test_the_earliest_finished_image_not_repeated_comes_back_after_a_gap():
    finished = ["a", "b", "c", "d", "e"]
    assert pick_repeat(finished, set(), min_gap=3) == "a"
    assert pick_repeat(finished, {"a"}, min_gap=3) == "b"
    assert pick_repeat(finished, {"a", "b"}, min_gap=3) is None  # c, d, e are too recent
    assert first_pass_of(repeat_name("ann")) == "ann" and first_pass_of("ann") == "ann"


@pytest.fixture()
def repeating(tmp_path, monkeypatch):
    make_batch(tmp_path / "images", [(300, 200)] * 6)
    monkeypatch.setattr(navigation, "chance", lambda: 0.0)  # every chance taken
    return install_services(tmp_path, REPEAT_PERCENT="50")


def finish(position: dict, annotator: str = "alice") -> dict:
    """Draw a box on the image at position, then press Next; the new position."""
    image = call(navigation.show_image, "position-store.data", position)[0]
    records = call(annotations.load_records, "image-store.data", image, annotator, None)
    saved = draw(image, records, [RECT], annotator=annotator)[0]
    return press("next", position, saved, annotator)[0]


def test_a_finished_image_comes_back_blind_and_its_second_pass_is_kept_apart(repeating):
    position = load(at("img01.jpg"))[0]
    for _ in range(3):  # img01..img03 finished; img01 is old enough after the third
        position = finish(position)
    assert position["key"] == "img04.jpg" and not position.get("repeat")
    position = finish(position)  # img04 done: img01 comes back
    assert position["key"] == "img01.jpg" and position["repeat"] is True

    image = call(navigation.show_image, "position-store.data", position)[0]
    assert image["repeat"] is True
    records = call(annotations.load_records, "image-store.data", image, "alice", None)
    assert records["items"] == [] and records["annotator"] == "alice#repeat"  # blind
    wider = dict(RECT, x1=150)
    saved = draw(image, records, [wider], annotator="alice")[0]
    assert saved["annotator"] == "alice#repeat"
    store = repeating.store
    assert len(store.annotations_for("img01.jpg", "alice")) == 1  # the first pass untouched
    assert len(store.annotations_for("img01.jpg", "alice#repeat")) == 1

    after = press("next", position, saved, "alice")[0]
    assert after["key"] == "img05.jpg" and not after.get("repeat")  # on from where she was

    # Inter-rater measures never see the second pass; intra-rater compares the two.
    assert "alice#repeat" not in load_work(current()).annotators
    work = load_work(current(), repeats=True)
    [alice] = intra_rater(work)
    assert (alice.annotator, alice.images, alice.f1) == ("alice", 1, 1.0)
    assert 0.5 < alice.mean_iou < 1.0  # the box was redrawn wider
    assert first_passes(work).annotators == ("alice",)
    data = agreement.agreement_job(0.5, None, lambda *_: None)[0]
    assert data["annotators"] == ["alice"]
    assert data["intra_rater"][0]["annotator"] == "alice"
    assert "Same annotator twice" in str(agreement.show_intra_rater(data))


def test_no_repeats_unless_asked(tmp_path):
    make_batch(tmp_path / "images", [(300, 200)] * 6)
    install_services(tmp_path)
    position = load(at("img01.jpg"))[0]
    for _ in range(5):
        position = finish(position)
        assert not position.get("repeat")
    assert open_image("img06.jpg")[1]["annotator"] == "alice"
