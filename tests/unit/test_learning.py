"""Learning from corrections: people's labels teach a head to relabel the detector's boxes,
per-label thresholds reach the target precision, and too little data is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from domain.annotation import Annotation
from models.detector import Detection
from models.features import SIZE, box_features
from models.head import (
    HeadError,
    current_version,
    head_folder,
    load_head,
    one_hot,
    save_head,
)
from models.learning import ImageExamples, TrainingError, _Fit, fit, fit_threshold, folds_of
from models.loading import run_detector
from tests.unit.callback_support import install_services
from tests.unit.plugin_detector import SquareFinder, write_square_images
from workflows.predict import batch_keys, predict_images
from workflows.training import train_from_corrections

LABELS = ["person", "animal", "vehicle", "food", "object"]
PEOPLE = {"red": "food", "blue": "vehicle"}  # the cue: colour; the model says banana to all


def test_the_threshold_is_the_lowest_score_reaching_the_precision() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    correct = [True, True, True, False, True, False]

    strict = fit_threshold(scores, correct, objects=5, precision=0.9)
    loose = fit_threshold(scores, correct, objects=5, precision=0.8)
    never = fit_threshold([0.9, 0.3], [False, False], objects=2, precision=0.9)

    assert (strict.threshold, strict.precision, strict.recall) == (0.7, 1.0, 0.6)
    assert (loose.threshold, loose.precision, loose.recall) == (0.5, 0.8, 0.8)  # 4 of 5 kept
    assert strict.boxes == 6 and strict.objects == 5
    assert (never.threshold, never.precision, never.recall) == (None, None, None)
    assert fit_threshold([], [], objects=3, precision=0.9).threshold is None


def test_equal_scores_are_kept_or_cut_together() -> None:
    found = fit_threshold([0.8, 0.5, 0.5, 0.5], [True, True, False, False], 2, 0.6)

    assert (found.threshold, found.precision, found.recall) == (0.8, 1.0, 0.5)


def test_images_not_boxes_are_split_the_same_way_every_time() -> None:
    keys = [f"img{n:03d}.jpg" for n in range(100)]

    folds = folds_of(keys)
    shuffled = folds_of(list(reversed(keys)))

    assert (folds == 0).sum() == 20  # a fifth held out
    assert dict(zip(keys, folds.tolist())) == dict(zip(reversed(keys), shuffled.tolist()))
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    assert folds_of(keys[:3]).tolist().count(0) == 1  # 3 images: 3 folds


def examples(count: int, labels: tuple[str, ...] = ("food", "vehicle")) -> list[ImageExamples]:
    """Images of one object each whose first 40 features tell its label; the detector finds
    each object (mapped to 'food') and one false positive."""
    rng = np.random.default_rng(1)
    found = []
    for number in range(count):
        label = labels[number % len(labels)]
        truth = rng.normal(0, 1, (1, SIZE))
        truth[0, :40] += 2.0 * labels.index(label)
        boxes = np.vstack([truth + rng.normal(0, 0.1, (1, SIZE)), rng.normal(0, 1, (1, SIZE))])
        found.append(
            ImageExamples(
                f"img{number:03d}",
                (label,),
                truth,
                ("food", "food"),
                (0.9, 0.3),
                boxes,
                ((0, 0),),
            )
        )
    return found


def test_a_cue_the_mapping_misses_is_learnt() -> None:
    fitted = fit(examples(60), LABELS)

    assert fitted.before <= 0.6 and fitted.after > 0.9
    assert (fitted.images, fitted.objects, fitted.boxes, fitted.matched) == (60, 60, 120, 60)
    assert fitted.held_out_images == 12 and fitted.held_out_objects == 12
    assert fitted.classes == ("food", "vehicle")
    # the false positives score 0.3, the objects 0.9: the threshold cuts between them
    assert fitted.thresholds["food"].threshold == pytest.approx(0.9)
    assert fitted.thresholds["food"].recall == 1.0


@pytest.mark.parametrize("classes", [("food", "vehicle"), ("food", "vehicle", "animal")])
def test_the_saved_head_answers_as_scikit_learn_does(
    tmp_path: Path, classes: tuple[str, ...]
) -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(0, 1, (90, SIZE))
    features[:, 3] = 0.0  # a feature that never varies
    y = np.array([classes[n % len(classes)] for n in range(90)], dtype=object)
    features[:, 0] += 2.0 * np.array([classes.index(label) for label in y])
    mapped = [None if n % 3 == 0 else LABELS[n % len(LABELS)] for n in range(90)]
    x = np.hstack([features, one_hot(mapped, LABELS)])
    fitted = _Fit(x, y)
    arrays, order = fitted.arrays(len(LABELS))
    save_head(tmp_path, "my/model", arrays, {"classes": list(order), "inputs": LABELS})

    head = load_head(tmp_path, "my/model")

    assert head is not None and head.classes == tuple(sorted(classes))
    theirs = fitted.model.predict_proba(fitted.scaler.transform(x))
    assert np.allclose(head.probabilities(features, mapped), theirs, atol=1e-9)
    assert head_folder(tmp_path, "my/model").name == "my_model"


def test_heads_are_numbered_and_the_newest_is_loaded(tmp_path: Path) -> None:
    assert load_head(tmp_path, "squares") is None
    assert current_version(tmp_path, "squares", "1.0") == "1.0"
    fitted = _Fit(*_two_labels())
    arrays, order = fitted.arrays(0)
    info = {"classes": list(order), "inputs": [], "detector_version": "1.0"}

    first, _ = save_head(tmp_path, "squares", arrays, info)
    second, path = save_head(
        tmp_path, "squares", arrays, {**info, "thresholds": {"a": {"threshold": 0.5}}}
    )

    head = load_head(tmp_path, "squares")
    assert (first, second) == (1, 2) and head is not None
    assert head.number == 2 and head.version == "1.0+head2"
    assert head.thresholds == {"a": 0.5}
    assert json.loads(path.read_text())["number"] == 2
    assert current_version(tmp_path, "squares", "1.0") == "1.0+head2"
    kept = head.confident([Detection("a", 0.4, (0, 0, 5, 5)), Detection("b", 0.1, (0, 0, 5, 5))])
    assert [found.label for found in kept] == ["b"]  # b has no threshold
    assert head.misfit(["a", "b", "c"], "1.0") is None
    assert "labels LABELS no longer has (b)" in (head.misfit(["a"], "1.0") or "")
    assert "trained on its version '1.0', not '2.0'" in (head.misfit(["a", "b"], "2.0") or "")


def _two_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (40, SIZE))
    y = np.array(["a", "b"] * 20, dtype=object)
    x[:, 0] += (y == "b") * 3.0
    return x, y


def test_a_head_file_that_holds_objects_is_refused_not_unpickled(tmp_path: Path) -> None:
    fitted = _Fit(*_two_labels())
    arrays, order = fitted.arrays(0)
    _, path = save_head(tmp_path, "squares", arrays, {"classes": list(order), "inputs": []})
    np.savez(path.with_suffix(".npz"), mean=np.array([object()], dtype=object))  # a pickle

    with pytest.raises(HeadError, match="cannot read the label head"):
        load_head(tmp_path, "squares")
    path.write_text('{"format": 99}')
    with pytest.raises(HeadError):
        load_head(tmp_path, "squares")


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (examples(10), "too little to learn from: 10 object(s) of 2 label(s)"),
        (examples(40, ("food",)), "1 label(s)"),
        ([], "no detector boxes"),
    ],
)
def test_too_little_data_is_refused_in_one_line(found: list, reason: str) -> None:
    with pytest.raises(TrainingError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        fit(found, LABELS)


def test_features_describe_colour_and_clip_boxes_to_the_image() -> None:
    image = np.full((50, 80, 3), 128, np.uint8)
    image[10:30, 10:30] = (220, 30, 30)
    image[10:30, 50:70] = (30, 30, 220)

    rows = box_features(image, [(10, 10, 30, 30), (50, 10, 70, 30), (-20, 40, 500, 900)])

    assert rows.shape == (3, SIZE) and np.isfinite(rows).all()
    assert not np.allclose(rows[0], rows[1])
    assert rows[0, 72] > 0.8 and rows[1, 74] > 0.8  # the mean red, the mean blue


def store_people(services, truth: dict) -> None:  # type: ignore[no-untyped-def]
    """Ana labels every square by its colour: red ones food, blue ones vehicle."""
    groups = []
    for key, (colour, box) in truth.items():
        shape = Annotation(f"ana-{key}", key, "ana", PEOPLE[colour], "rect", tuple(map(float, box)))
        groups.append((key, "ana", [shape]))
    services.store.replace_images(groups, actor="ana")


def test_training_on_peoples_labels_relabels_the_detectors_boxes(tmp_path: Path) -> None:
    """The issue's test: the true label follows the colour, which the untrained mapping gets
    wrong (everything is a banana, so food); people's labels raise held-out accuracy from
    chance to over 0.9, and predict relabels afterwards."""
    truth = write_square_images(tmp_path / "images", 80)
    services = install_services(tmp_path)
    store_people(services, truth)
    finder = SquareFinder()
    label_of = services.settings.label_mapping.project_label

    def detect(pixels: np.ndarray) -> list[Detection]:
        return run_detector(finder, pixels, 0.1, 30)

    keys = batch_keys(services, None)
    plain = predict_images(services, keys, detect, finder.name, finder.version, label_of)
    report = train_from_corrections(services, finder, precision=0.9)
    again = predict_images(services, keys, detect, finder.name, finder.version, label_of)

    assert plain.version == "1.0" and plain.suggestions == 160
    assert report.version == "1.0+head1"
    assert (report.images, report.objects, report.boxes, report.matched) == (80, 80, 160, 80)
    assert report.held_out_images == 16
    assert report.before <= 0.6 and report.after > 0.9
    for label in ("food", "vehicle"):
        found = report.thresholds[label]
        assert found.threshold is not None and found.precision is not None
        assert found.precision >= 0.9 and found.recall is not None and found.recall > 0.9
    assert "before 0." in report.summary() and "1.0+head1" in report.summary()
    # most false boxes (0.2-0.4) fall under the thresholds; every square (0.6+) stays
    assert again.version == "1.0+head1" and again.below_threshold >= 60
    assert again.suggestions == 160 - again.below_threshold
    right = 0
    for key, (colour, box) in truth.items():
        stored = services.store.annotations_for(key, "model:squares")
        square = [shape for shape in stored if shape.coords == tuple(map(float, box))]
        right += bool(square) and square[0].label == PEOPLE[colour]
        assert {shape.source for shape in stored} <= {"model:squares@1.0+head1"}
    assert right >= 76  # relabelled by colour (in-sample: the head saw these)
    head = load_head(services.settings.data_dir, "squares")
    assert head is not None and head.info["version"] == "1.0+head1"
    newer = predict_images(services, keys[:2], detect, finder.name, "2.0", label_of)
    assert newer.version == "2.0" and "run predict and train again" in newer.summary()
    fresh = write_square_images(tmp_path / "new", 6, seed=7)
    from PIL import Image

    for name, (colour, box) in fresh.items():
        pixels = np.asarray(Image.open(tmp_path / "new" / name).convert("RGB"))
        label, probability = head.label_for_box(pixels, box)  # a box a person draws
        assert label == PEOPLE[colour] and 0.5 < probability <= 1.0


def test_training_without_detector_shapes_is_refused(tmp_path: Path) -> None:
    truth = write_square_images(tmp_path / "images", 30)
    services = install_services(tmp_path)
    store_people(services, truth)

    with pytest.raises(TrainingError, match="no shapes of model:squares stored"):
        train_from_corrections(services, SquareFinder())
    assert load_head(services.settings.data_dir, "squares") is None
