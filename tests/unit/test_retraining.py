"""RETRAIN_EVERY: the label head is trained again, once, each time the people's finished
images pass another multiple of N; a detector's and second passes' images do not count."""

from __future__ import annotations

from pathlib import Path

import callbacks.model_jobs as jobs
from domain.status import ImageStatus
from models.head import load_head
from tests.unit.callback_support import install_services
from tests.unit.plugin_detector import write_square_images
from tests.unit.test_learning import store_people
from workflows.retraining import due_multiple, maybe_retrain
from workflows.suggest import forget_detectors


def test_a_multiple_is_due_once_the_count_reaches_it() -> None:
    assert [due_multiple(n, 10) for n in (0, 9, 10, 19, 20, 35)] == [None, None, 1, 1, 2, 3]
    assert due_multiple(500, 0) is None  # off


def test_retraining_starts_once_per_multiple_whoever_asks(tmp_path: Path) -> None:
    forget_detectors()
    truth = write_square_images(tmp_path / "images" / "site", 40)
    env = {"DETECTOR": "tests.unit.plugin_detector:squares", "LABEL_MAP": "", "RETRAIN_EVERY": "30"}
    services = install_services(tmp_path, **env)
    people = dict(list({f"site/{n}": found for n, found in truth.items()}.items())[:25])
    store_people(services, people)
    jobs.preannotate_job("site", 0.1, lambda *_: None)  # the model's shapes: not counted
    started: list[object] = []

    def run_now(work) -> None:  # the background thread, run in this test's thread
        started.append(work)
        work()

    assert services.store.count_finished_by_people() == 25
    assert maybe_retrain(services, run_now) is False  # 25 < 30: not yet
    services.store.set_status("site/sq030.png", "ann#repeat", ImageStatus.EMPTY)  # not counted
    assert maybe_retrain(services, run_now) is False
    for name in ("sq030.png", "sq031.png", "sq032.png", "sq033.png", "sq034.png"):
        services.store.set_status(f"site/{name}", "ann", ImageStatus.EMPTY)

    first = maybe_retrain(services, run_now)  # 30 reached: this worker claims it
    again = maybe_retrain(services, run_now)  # another worker, same multiple: nothing

    assert (first, again, len(started)) == (True, False, 1)
    head = load_head(services.settings.data_dir, "squares")
    assert head is not None and head.number == 1  # trained, as cli.py train would
    forget_detectors()


def test_off_by_default_and_costs_nothing(tmp_path: Path) -> None:
    services = install_services(tmp_path)

    assert services.settings.retrain_every == 0
    assert maybe_retrain(services, lambda work: (_ for _ in ()).throw(AssertionError)) is False


def test_next_asks_whether_retraining_is_due(tmp_path: Path, monkeypatch) -> None:
    from callbacks import navigation
    from tests.unit.callback_support import make_batch
    from tests.unit.test_callbacks import at, press

    make_batch(tmp_path / "images", [(300, 200)] * 3)
    install_services(tmp_path)
    asked: list[object] = []
    monkeypatch.setattr(navigation, "maybe_retrain", asked.append)

    moved = press("next", at("img01.jpg"), None)
    press("prev", moved[0], None)

    assert moved[0]["key"] == "img02.jpg" and len(asked) == 1  # Next asks; Previous does not
