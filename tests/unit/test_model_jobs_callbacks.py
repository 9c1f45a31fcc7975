"""The Admin tab's detector card, its callbacks called as functions on a temporary project
with plug-in detectors (tests.unit.plugin_detector)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash._callback import GLOBAL_CALLBACK_LIST
from dash.exceptions import PreventUpdate

import callbacks.model_jobs as jobs
from auth.permissions import callback_ids, role_needed
from components import ids
from components.model_jobs import ALL
from domain.accounts import Role
from tests.unit.callback_support import install_services, make_batch
from tests.unit.plugin_detector import write_square_images
from tests.unit.test_learning import store_people
from workflows.suggest import forget_detectors

FAKE = "tests.unit.plugin_detector:make"


@pytest.fixture(autouse=True)
def fresh_detectors() -> Iterator[None]:
    forget_detectors()
    yield
    forget_detectors()


def text(component: Any) -> str:
    """Every string in a component tree, joined by spaces."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text(c) for c in component)
    return text(getattr(component, "children", None))


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def __call__(self, value: tuple[int, str]) -> None:
        self.calls.append(value)


def test_pre_annotating_a_batch_stores_the_models_shapes_and_says_what_it_did(
    tmp_path: Path,
) -> None:
    make_batch(tmp_path / "images" / "site", [(80, 60), (90, 70)])
    make_batch(tmp_path / "images" / "other", [(50, 50)])
    services = install_services(tmp_path, DETECTOR=FAKE)
    progress = Progress()

    result = jobs.run_preannotate(progress, 1, "site", 0.5)

    said = text(result)
    assert result.color == "success"
    assert said.startswith("Pre-annotated with fake 1.0:")
    assert "2 image(s), 2 suggestion(s) stored as model:fake" in said
    assert "detector fake 1.0" in said and " s" in said
    assert [p for p, _ in progress.calls] == [0, 50]
    [shape] = services.store.annotations_for("site/img01.jpg", "model:fake")
    assert (shape.label, shape.score, shape.source) == ("vehicle", 0.9, "model:fake@1.0")
    assert services.store.annotations_for("other/img01.jpg", "model:fake") == []


def test_every_batch_and_the_images_that_failed_are_listed(tmp_path: Path) -> None:
    make_batch(tmp_path / "images" / "site", [(80, 60)])
    (tmp_path / "images" / "site" / "broken.jpg").write_bytes(b"not a jpeg")
    make_batch(tmp_path / "images" / "other", [(50, 50)])
    install_services(tmp_path, DETECTOR=FAKE)

    result = jobs.preannotate_job(ALL, 0.35, lambda *_: None)

    said = text(result)
    assert result.color == "warning"
    assert "2 image(s), 2 suggestion(s)" in said and "1 image(s) failed" in said
    assert "site/broken.jpg:" in said


@pytest.mark.parametrize(
    ("detector", "min_score", "reason"),
    [
        ("none", 0.35, "no detector is configured (DETECTOR=none)"),
        ("tests.unit.plugin_detector:broken", 0.35, "the factory raised RuntimeError"),
        (FAKE, 1.5, "the min score is a number from 0 to 1, not 1.5"),
        (FAKE, None, "the min score is a number from 0 to 1, not None"),
    ],
)
def test_a_job_that_cannot_run_says_why(
    tmp_path: Path, detector: str, min_score: Any, reason: str
) -> None:
    make_batch(tmp_path / "images" / "site", [(80, 60)])
    services = install_services(tmp_path, DETECTOR=detector)

    result = jobs.preannotate_job("site", min_score, lambda *_: None)

    assert result.color == "danger"
    assert text(result).startswith("Nothing pre-annotated:") and reason in text(result)
    assert services.store.annotators() == []


def test_training_shows_the_new_version_and_accuracy_before_and_after(tmp_path: Path) -> None:
    truth = write_square_images(tmp_path / "images" / "site", 40)
    env = {"DETECTOR": "tests.unit.plugin_detector:squares", "LABEL_MAP": ""}
    services = install_services(tmp_path, **env)
    store_people(services, {f"site/{name}": found for name, found in truth.items()})

    refused = jobs.run_train(Progress(), 1)
    jobs.preannotate_job("site", 0.1, lambda *_: None)
    progress = Progress()
    trained = jobs.run_train(progress, 1)
    options, batch, version = jobs.show_model_card(ids.TAB_ADMIN, None, None, "gone")

    assert refused.color == "danger"
    assert text(refused).startswith("Not trained: no shapes of model:squares stored")
    said = text(trained)
    assert trained.color == "success" and said.startswith("Trained squares 1.0+head1.")
    assert "Held-out label accuracy: before 0." in said and "after 1.000" in said
    assert progress.calls and progress.calls[0][0] == 0
    assert [o["value"] for o in options] == [ALL, "site"] and batch == ALL
    assert version.startswith("Model: squares 1.0+head1")


def test_too_little_to_learn_from_is_explained(tmp_path: Path) -> None:
    truth = write_square_images(tmp_path / "images", 6)
    services = install_services(tmp_path, DETECTOR="tests.unit.plugin_detector:squares")
    store_people(services, truth)
    jobs.preannotate_job(ALL, 0.1, lambda *_: None)

    result = jobs.train_job(lambda *_: None)

    assert result.color == "danger"
    assert "Not trained: too little to learn from: 6 object(s)" in text(result)


def test_the_card_lists_batches_and_the_version_for_admins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_batch(tmp_path / "images" / "site", [(80, 60)])
    install_services(tmp_path, DETECTOR=FAKE)

    options, batch, version = jobs.show_model_card(ids.TAB_ADMIN, None, None, "site")
    with pytest.raises(PreventUpdate):
        jobs.show_model_card(ids.TAB_ANNOTATE, None, None, "site")
    monkeypatch.setattr(jobs, "may", lambda role: role != Role.ADMIN)
    with pytest.raises(PreventUpdate):
        jobs.show_model_card(ids.TAB_ADMIN, None, None, "site")

    assert [o["value"] for o in options] == [ALL, "site"] and batch == "site"
    assert version == "Model: fake 1.0 (shapes stored as model:fake)"


def test_without_a_detector_the_card_says_so(tmp_path: Path) -> None:
    install_services(tmp_path, DETECTOR="none")

    _, _, version = jobs.show_model_card(ids.TAB_ADMIN, None, None, None)

    assert version == "No usable detector: no detector is configured (DETECTOR=none)."


def test_the_request_guard_refuses_the_model_jobs_to_everyone_but_admins() -> None:
    # Dash moves the registered callbacks into an app on its first request: look in both.
    built = getattr(sys.modules.get("app"), "app", None)
    registered = [*GLOBAL_CALLBACK_LIST, *getattr(built, "_callback_list", [])]
    specs = [spec for spec in registered if "admin-model-" in spec["output"]]
    assert len(specs) == 3  # the card, Pre-annotate, Train
    for spec in specs:
        assert role_needed(callback_ids(spec)) == Role.ADMIN, spec["output"]


def test_with_redis_a_pre_annotation_fans_out_in_chunks_over_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.test_fanout import FakeBoard

    make_batch(tmp_path / "images" / "site", [(80, 60)] * 3)
    services = install_services(tmp_path, DETECTOR=FAKE, REDIS_URL="redis://127.0.0.1:1/0")
    board, sent = FakeBoard(), []
    monkeypatch.setattr(jobs, "redis_board", lambda url: board)
    monkeypatch.setattr(jobs, "launcher", lambda: sent.append)
    progress = Progress()

    result = jobs.run_preannotate(progress, 1, "site", 0.5)

    assert result.color == "success"
    assert "3 image(s), 3 suggestion(s) stored as model:fake" in text(result)
    assert len(sent) == jobs.HELPERS  # helpers were asked for; nobody else took a chunk here
    assert progress.calls[0][0] == 0 and progress.calls[-1] == (100, "1 of 1 chunk(s) done")
    assert board.empty()
    assert len(services.store.annotations_for("site/img03.jpg", "model:fake")) == 1


def test_with_redis_gone_nothing_is_pre_annotated_and_the_job_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_batch(tmp_path / "images" / "site", [(80, 60)])
    install_services(tmp_path, DETECTOR=FAKE, REDIS_URL="redis://127.0.0.1:1/0")
    monkeypatch.setattr(jobs, "launcher", lambda: lambda run: None)

    result = jobs.run_preannotate(Progress(), 1, "site", 0.5)

    assert result.color == "danger"
    assert "Nothing pre-annotated:" in text(result) and "127.0.0.1:1" in text(result)
