"""With REDIS_URL, background jobs (export, import, agreement, pre-annotation) run on a
Celery worker: the Procfile's `worker` process, here started on a real redis-server and
stopped by its PID."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import ConsoleLog, drag, sign_in, wait_rows, wait_until
from tests.e2e.test_exchange_panel import export_rows
from tests.servers import ROOT, AppServer, RedisServer, stop_pid

GUNICORN = ["-m", "gunicorn", "app:server", "-w", "2", "-b", "127.0.0.1:{port}"]


@pytest.fixture(scope="module")
def celery_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, Path]]:
    root = tmp_path_factory.mktemp("celery")
    redis = RedisServer().start()
    env = {"REDIS_URL": redis.url, "DATA_DIR": str(root / "data")}
    worker_log = root / "worker.log"
    with worker_log.open("ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app:celery_app",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = AppServer(root / "data", env=env, command=GUNICORN).start()
    try:
        yield server, worker_log
    finally:
        server.stop()
        stop_pid(worker)
        redis.stop()


def test_an_export_runs_on_the_celery_worker(browser, celery_deployment, tmp_path):
    server, worker_log = celery_deployment
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(server.url)
    name = f"celery-{uuid.uuid4().hex[:6]}"
    sign_in(page, name)
    drag(page, [(100, 120), (300, 260)])
    wait_rows(page, 1)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))
    page.click("#exchange-open")
    page.wait_for_selector("#exchange-panel", state="visible")
    wait_until(lambda: "All batches" in page.inner_text("#export-batch"), what="batch default")
    exported = export_rows(page, tmp_path, "CSV (tidy, pixels, every annotator)", name)
    assert [(r["annotator"], r["kind"]) for r in exported] == [(name, "rect")]
    log = worker_log.read_text()
    assert "background_callback_" in log and "succeeded" in log, log[-2000:]
    assert console.errors == []
    context.close()


def test_a_pre_annotation_runs_on_the_celery_worker(browser, celery_deployment):
    from tests.e2e.test_model_jobs import pre_annotate

    server, worker_log = celery_deployment
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(server.url)
    sign_in(page, f"celery-{uuid.uuid4().hex[:6]}")
    done_before = worker_log.read_text().count("succeeded")

    summary = pre_annotate(page, "(top level)")

    assert "stored as model:nanodet" in summary and "failed" not in summary
    log = worker_log.read_text()
    assert log.count("succeeded") > done_before, log[-2000:]  # the worker ran the job
    assert console.errors == []
    context.close()
