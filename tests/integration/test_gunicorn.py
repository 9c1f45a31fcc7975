"""The PaaS path: `gunicorn app:server` with several workers on one data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from tests.servers import ROOT, free_port, stop_pid


def test_gunicorn_workers_start_together_and_serve(tmp_path):
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "-w", "3", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        page = image = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and page is None:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            except OSError:
                time.sleep(0.3)
        assert page is not None and b"Concord" in page
        for _ in range(6):  # several requests, so more than one worker answers
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/images/01-astronaut.jpg") as r:
                image = r.read()
                assert r.headers["Content-Type"] == "image/jpeg"
        assert image and image[:2] == b"\xff\xd8"
        samples = sorted(p.name for p in (tmp_path / "data" / "samples").iterdir())
        assert len(samples) == 8 and not [n for n in samples if n.endswith(".part")]
    finally:
        stop_pid(process)
    log = process.stdout.read().decode()
    assert "Traceback" not in log, log[-3000:]
