"""The first requests after a start, all at once, under the Procfile's threads: none fails.

Dash used to finish its set-up on the first request; a request served by another thread
meanwhile found no script registry, so bundles answered 500 and the first visitor's page
stayed blank (issue 17; plotly/dash#3971)."""

from __future__ import annotations

import importlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port, stop_pid

STARTS = 4


@pytest.fixture(scope="module")
def page_paths(tmp_path_factory) -> list[str]:
    """The page and every script it loads (the same on every start)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("reference")))
        page = importlib.import_module("app").server.test_client().get("/").get_data(True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert scripts
    return ["/", "/_dash-layout", "/_dash-dependencies", *scripts]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until the port accepts connections, sending no request (the first must be ours)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited early"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("gunicorn did not listen")


def _all_at_once(base: str, paths: list[str]) -> dict[str, int]:
    """GET every path from its own thread, released together; path -> status."""
    statuses: dict[str, int] = {}
    gate = threading.Barrier(len(paths))

    def fetch(path: str) -> None:
        gate.wait()
        try:
            with urllib.request.urlopen(base + path, timeout=30) as answer:
                statuses[path] = answer.status
        except urllib.error.HTTPError as error:
            statuses[path] = error.code

    threads = [threading.Thread(target=fetch, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_first_requests_after_a_start_all_succeed(tmp_path: Path, page_paths):
    failures = []
    for start in range(STARTS):
        port = free_port()
        data = tmp_path / f"start{start}"
        data.mkdir()
        log_path = data / "gunicorn.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "app:server", "-w", "1", "--threads", "4"]
                + ["-b", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env={**os.environ, "DATA_DIR": str(data)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_for_port(port, process)
                statuses = _all_at_once(f"http://127.0.0.1:{port}", page_paths)
            finally:
                stop_pid(process)
        failed = {path: code for path, code in statuses.items() if code != 200}
        if failed:
            failures.append((start, failed, log_path.read_text()[-1500:]))
    assert not failures, failures
