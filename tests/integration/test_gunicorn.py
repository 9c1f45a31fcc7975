"""The PaaS path: `gunicorn app:server` with several workers on one data folder."""

from __future__ import annotations

import urllib.request

from tests.servers import AppServer

GUNICORN = ["-m", "gunicorn", "app:server", "-w", "3", "-b", "127.0.0.1:{port}"]


def test_gunicorn_workers_start_together_and_serve(tmp_path):
    server = AppServer(tmp_path / "data", command=GUNICORN).start()
    try:
        page = urllib.request.urlopen(server.url, timeout=5).read()
        assert b"Concord" in page
        for _ in range(6):  # several requests, so more than one worker answers
            with urllib.request.urlopen(server.url + "images/01-astronaut.jpg") as response:
                image = response.read()
                assert response.headers["Content-Type"] == "image/jpeg"
        assert image[:2] == b"\xff\xd8"
        samples = sorted(p.name for p in (tmp_path / "data" / "samples").iterdir())
        assert len(samples) == 8 and not [n for n in samples if n.endswith(".part")]
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
