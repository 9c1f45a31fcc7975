"""Running a detector over a batch: its shapes are kept as its own annotator, with scores
and the model's version, mapped onto the project's labels; failures are reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from domain.annotation import Annotation
from models.detector import Detection, DetectorError
from models.label_map import default_label_map
from tests.unit.callback_support import install_services, make_batch
from workflows.agreement import load_work
from workflows.exchange import export_annotations
from workflows.predict import batch_keys, predict_images

LABELS = ["person", "animal", "vehicle", "food", "object"]


def fake_detect(pixels: np.ndarray) -> list[Detection]:
    """A person on the left half, a car on the right, a toaster (object) and a class no
    mapping knows... except the fallback, so everything is kept by the default map."""
    height, width = pixels.shape[:2]
    return [
        Detection("person", 0.91, (0.0, 0.0, width / 2, float(height))),
        Detection("car", 0.6, (width / 2, 10.0, float(width), height - 10.0)),
        Detection("cat", 0.4, None, ((5.0, 5.0), (40.0, 5.0), (20.0, 30.0))),
    ]


def test_a_run_stores_the_models_shapes_as_its_own_annotator(tmp_path: Path) -> None:
    keys = make_batch(tmp_path / "images", [(300, 200), (120, 160)])
    services = install_services(tmp_path)
    labels = default_label_map(LABELS)

    report = predict_images(
        services, batch_keys(services, ""), fake_detect, "fake", "1.2", labels.project_label
    )
    events = len(services.store.events())
    again = predict_images(
        services, batch_keys(services, ""), fake_detect, "fake", "1.2", labels.project_label
    )

    assert (report.images, report.suggestions, report.dropped) == (2, 6, 0)
    assert report.annotator == "model:fake" and "detector fake 1.2" in report.summary()
    stored = services.store.annotations_for(keys[0], "model:fake")
    assert sorted((s.label, s.kind, s.score) for s in stored) == [
        ("animal", "polygon", 0.4),
        ("person", "rect", 0.91),
        ("vehicle", "rect", 0.6),
    ]
    assert {s.source for s in stored} == {"model:fake@1.2"}
    person = next(s for s in stored if s.label == "person")
    assert person.coords == (0.0, 0.0, 150.0, 200.0)  # the image's own pixels
    assert services.store.events(keys[0], "model:fake")[0].actor == "model:fake"
    assert again.suggestions == 6  # the same shapes again: nothing new written
    assert len(services.store.events()) == events
    # people's agreement stays people's; the model is there when asked for
    assert "model:fake" not in load_work(services).annotators
    assert "model:fake" in load_work(services, models=True).annotators


def test_unmapped_classes_are_dropped_and_failures_reported(tmp_path: Path) -> None:
    keys = make_batch(tmp_path / "images", [(300, 200), (300, 200), (300, 200)])
    (tmp_path / "images" / keys[1]).write_bytes(b"not an image")
    services = install_services(tmp_path, LABELS="person,bike")
    people = [
        Annotation("h1", keys[0], "ann", "person", "rect", (1.0, 1.0, 50.0, 50.0)),
    ]
    services.store.sync_image(keys[0], "ann", people)
    calls = []

    def flaky(pixels: np.ndarray) -> list[Detection]:
        calls.append(pixels.shape)
        if len(calls) == 2:
            raise DetectorError("fake: timed out after 60 s")
        return fake_detect(pixels)

    labels = default_label_map(["person", "bike"])  # a class keeps a label of its own name
    report = predict_images(
        services, batch_keys(services, ""), flaky, "fake", "1", labels.project_label
    )

    assert (report.images, report.suggestions, report.dropped) == (1, 1, 2)
    assert [problem.split(":")[0] for problem in report.problems] == [keys[1], keys[2]]
    assert "cannot" in report.problems[0] or "not an image" in report.problems[0]
    assert "timed out after 60 s" in report.problems[1]
    assert [s.label for s in services.store.annotations_for(keys[0], "model:fake")] == ["person"]
    assert [s.id for s in services.store.annotations_for(keys[0], "ann")] == ["h1"]
    assert calls == [(200, 300, 3), (200, 300, 3)]  # upright RGB, height x width


def test_the_models_shapes_export_as_coco_with_their_scores(tmp_path: Path) -> None:
    make_batch(tmp_path / "images", [(300, 200)])
    services = install_services(tmp_path)
    labels = default_label_map(LABELS)
    predict_images(
        services, batch_keys(services, ""), fake_detect, "fake", "1.2", labels.project_label
    )

    exported = export_annotations(services, "coco", "model:fake", None)

    coco = json.loads(exported.content)
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert sorted((names[a["category_id"]], a["score"]) for a in coco["annotations"]) == [
        ("animal", 0.4),
        ("person", 0.91),
        ("vehicle", 0.6),
    ]


def test_classes_mapped_to_one_label_give_one_suggestion_per_object() -> None:
    from datetime import UTC, datetime

    from models.suggestions import suggestion_records

    found = [
        Detection("cat", 0.47, (0.0, 0.0, 440.0, 290.0)),
        Detection("dog", 0.41, (1.0, 1.0, 445.0, 292.0)),  # the same animal as a dog
        Detection("person", 0.57, (3.0, 1.0, 448.0, 299.0)),  # another label: kept
        Detection("dog", 0.30, (500.0, 10.0, 600.0, 90.0)),  # another animal: kept
    ]
    labels = default_label_map(LABELS)
    now = datetime(2026, 1, 1, tzinfo=UTC)

    records, dropped = suggestion_records(
        found, "a.jpg", "model:x", "model:x@1", labels.project_label, now
    )

    assert dropped == 0
    assert sorted((r.label, r.score) for r in records) == [
        ("animal", 0.3),
        ("animal", 0.47),
        ("person", 0.57),
    ]
