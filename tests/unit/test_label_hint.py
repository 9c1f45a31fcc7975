"""A box a person draws gets the trained head's label when the head is sure, else the active
label; edits are never relabelled and without a head nothing extra is done."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callbacks import annotations
from models.head import Head
from models.loading import run_detector
from tests.unit.callback_support import call, install_services
from tests.unit.plugin_detector import SquareFinder, write_square_images
from tests.unit.test_callbacks import draw, open_image
from tests.unit.test_learning import store_people
from workflows import label_hint
from workflows.predict import batch_keys, predict_images
from workflows.suggest import forget_detectors
from workflows.training import train_from_corrections

SQUARES = "tests.unit.plugin_detector:squares"


@pytest.fixture(autouse=True)
def fresh_process():
    forget_detectors()
    label_hint.forget_hints()
    yield
    forget_detectors()
    label_hint.forget_hints()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A folder whose DATA_DIR holds a head trained on people labelling red squares food and
    blue ones vehicle, and a batch 'fresh' of squares it never saw (name -> colour, box)."""
    root = tmp_path_factory.mktemp("hint")
    truth = write_square_images(root / "images", 60)
    services = install_services(root, DETECTOR=SQUARES)
    store_people(services, truth)
    finder = SquareFinder()

    def detect(pixels):
        return run_detector(finder, pixels, 0.1, 30)

    label_of = services.settings.label_mapping.project_label
    predict_images(services, batch_keys(services, None), detect, "squares", "1.0", label_of)
    train_from_corrections(services, finder, precision=0.9)
    fresh = write_square_images(root / "images" / "fresh", 4, seed=7)
    return root, {f"fresh/{name}": found for name, found in fresh.items()}


@pytest.fixture()
def copied(trained, tmp_path: Path) -> tuple[Path, dict]:
    """The trained folder copied for one test (drawings do not leak into the next)."""
    root, fresh = trained
    shutil.copytree(root, tmp_path / "copy")
    return tmp_path / "copy", fresh


def rect(box, label: str) -> dict:
    x0, y0, x1, y1 = box
    return {"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "label": {"text": label}}


def labels_drawn(services, key: str, shapes: list[dict], active: str) -> list[str]:
    image, records = open_image(key)
    draw(image, records, shapes, label=active)
    return [r.label for r in services.store.annotations_for(key, "alice")]


def test_a_box_drawn_over_a_square_gets_the_heads_label(copied) -> None:
    root, fresh = copied
    services = install_services(root, DETECTOR=SQUARES)
    red = next(key for key, (colour, _box) in fresh.items() if colour == "red")
    blue = next(key for key, (colour, _box) in fresh.items() if colour == "blue")

    assert labels_drawn(services, red, [rect(fresh[red][1], "animal")], "animal") == ["food"]
    x0, y0, x1, y1 = fresh[blue][1]
    polygon = {"type": "path", "path": f"M{x0},{y0}L{x1},{y0}L{x1},{y1}L{x0},{y1}Z"}
    assert labels_drawn(services, blue, [polygon], "person") == ["vehicle"]


def test_edits_are_never_relabelled(copied) -> None:
    root, fresh = copied
    services = install_services(root, DETECTOR=SQUARES)
    red = next(key for key, (colour, _box) in fresh.items() if colour == "red")
    image, records = open_image(red)
    records, *_ = draw(image, records, [rect((0, 0, 10, 10), "person")], label="person")
    saved = services.store.annotations_for(red, "alice")
    assert [r.label for r in saved] == ["person"]  # grey corner: the head is not sure

    x0, y0, x1, y1 = fresh[red][1]
    moved = {"shapes[0].x0": x0, "shapes[0].y0": y0, "shapes[0].x1": x1, "shapes[0].y1": y1}
    call(
        annotations.on_figure_change, "graph.relayoutData", moved, records, image, "alice", "animal"
    )

    saved = services.store.annotations_for(red, "alice")
    assert [(r.label, r.coords) for r in saved] == [("person", (x0, y0, x1, y1))]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(("food", 0.79), "animal"), (("food", 0.8), "food"), (("banana", 0.99), "animal")],
)
def test_an_unsure_answer_or_an_unknown_label_keeps_the_active_label(
    copied, monkeypatch, answer, expected
) -> None:
    root, fresh = copied
    services = install_services(root, DETECTOR=SQUARES)
    monkeypatch.setattr(Head, "label_for_box", lambda self, image, box: answer)
    key, (_colour, box) = next(iter(fresh.items()))

    assert labels_drawn(services, key, [rect(box, "animal")], "animal") == [expected]


def test_without_a_head_the_active_label_is_kept_and_no_pixels_are_read(tmp_path) -> None:
    truth = write_square_images(tmp_path / "images", 2)
    services = install_services(tmp_path, DETECTOR=SQUARES)
    key, (_colour, box) = next(iter(truth.items()))

    assert labels_drawn(services, key, [rect(box, "animal")], "animal") == ["animal"]
    assert not label_hint._pixels and not label_hint._heads


def test_no_hint_while_suggestions_are_off(copied) -> None:
    root, fresh = copied
    services = install_services(root, DETECTOR=SQUARES, SUGGESTIONS="off")
    red = next(key for key, (colour, _box) in fresh.items() if colour == "red")

    assert labels_drawn(services, red, [rect(fresh[red][1], "animal")], "animal") == ["animal"]
