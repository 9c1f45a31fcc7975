"""Pre-annotation fanned out over two real Celery workers on a real redis-server (each
started here and stopped by its PID): one worker is killed with SIGKILL mid-chunk, and the
run still stores the model's shapes on every image exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.fanout_board import redis_board
from tests.servers import ROOT, RedisServer, stop_pid
from tests.unit.callback_support import install_services, make_batch
from workflows import fanout
from workflows.suggest import forget_detectors

SLOW = "tests.unit.plugin_detector:slow"  # 0.2 s per image


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool", "solo"]
            + ["-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_batch_is_shared_by_two_workers_and_survives_one_being_killed(
    tmp_path: Path, redis_url: str
) -> None:
    keys = [f"site/{k}" for k in make_batch(tmp_path / "images" / "site", [(48, 40)] * 40)]
    env = {
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp_path / "data"),
        "IMAGE_SOURCE": str(tmp_path / "images"),
        "DETECTOR": SLOW,
    }
    forget_detectors()
    services = install_services(tmp_path, DETECTOR=SLOW, REDIS_URL=redis_url)  # the schema
    logs = {name: tmp_path / f"{name}.log" for name in ("w1", "w2")}
    workers = {name: start_worker(name, env, log) for name, log in logs.items()}
    board = redis_board(redis_url)
    try:
        for name, log in logs.items():
            wait_for(lambda log=log: "ready." in log.read_text(), 90, f"worker {name}")
        from celery import Celery

        client = Celery("concord", broker=redis_url)
        outcome: dict[str, Any] = {}

        def coordinator() -> None:
            try:
                outcome["report"] = fanout.fan_out(
                    services,
                    board,
                    keys,
                    0.5,
                    2.0,  # the detector's timeout per image: the lease is at least 1.5 times it
                    lambda run: client.send_task("concord.predict_chunk", args=[run]),
                    helpers=2,
                    chunk_images=4,
                    lease_s=3.0,
                )
            except Exception as exc:  # shown by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=coordinator)
        thread.start()
        w1 = f":{workers['w1'].pid}"

        def w1_busy_after_a_chunk() -> str | None:
            # w1 finished a chunk and now holds another: kill it mid-chunk.
            [reports] = board.keys("concord:fanout:*:reports") or [None]
            [leases] = board.keys("concord:fanout:*:lease") or [None]
            if reports is None or leases is None:
                return None
            done = [json.loads(r)["worker"] for r in board.hvals(reports)]
            held = [c for c, v in board.hgetall(leases).items() if json.loads(v)[0].endswith(w1)]
            return held[0] if held and any(w.endswith(w1) for w in done) else None

        killed_chunk = wait_for(w1_busy_after_a_chunk, 60, "w1 mid-chunk")
        os.kill(workers["w1"].pid, signal.SIGKILL)
        workers["w1"].wait(10)
        thread.join(120)
        assert not thread.is_alive(), "the fan-out never finished"
        assert "error" not in outcome, outcome.get("error")
    finally:
        for process in workers.values():
            stop_pid(process)
        board.close()

    report = outcome["report"]
    assert (report.images, report.suggestions, report.problems) == (40, 40, ())
    for key in keys:  # every image has exactly one set of the model's shapes
        [shape] = services.store.annotations_for(key, "model:fake")
        assert shape.source == "model:fake@1.0"
    assert board_is_clean(redis_url)
    w2_log = logs["w2"].read_text()
    # w2 did chunks of its own (its task's result lists them); w1 had finished one too.
    assert re.search(r"concord\.predict_chunk\[[^]]+\] succeeded in [^:]+: \['\d+'", w2_log), (
        w2_log[-2000:]
    )
    assert killed_chunk is not None
    services.store.engine.dispose()


def board_is_clean(url: str) -> bool:
    board = redis_board(url)
    try:
        return not board.keys("concord:fanout:*")
    finally:
        board.close()
