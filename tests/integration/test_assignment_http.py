"""k = 1 through the real app: 20 annotators press Next at the same moment against gunicorn
with 4 workers on PostgreSQL, and no image is handed to two of them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from tests.dash_requests import DashClient
from tests.servers import AppServer

GUNICORN = ["-m", "gunicorn", "app:server", "-w", "4", "-b", "127.0.0.1:{port}"]
PEOPLE = [f"annotator-{n:02}" for n in range(20)]


def test_twenty_annotators_pressing_next_at_once_get_twenty_images(tmp_path, postgres_database_url):
    images = tmp_path / "images"
    images.mkdir()
    for n in range(30):
        Image.new("RGB", (64, 48), (n * 8, 100, 150)).save(images / f"img{n:02}.jpg")
    env = {
        "IMAGE_SOURCE": str(images),
        "DATABASE_URL": postgres_database_url,
        "ANNOTATORS_PER_IMAGE": "1",
    }
    server = AppServer(tmp_path / "data", env=env, command=GUNICORN).start()
    try:
        client = DashClient(server.url)
        move = client.spec("prev.n_clicks", "position-store.data")
        start = {"batch": "", "key": "img00.jpg", "index": 0}
        ready = threading.Barrier(len(PEOPLE))

        def press_next(name: str) -> str:
            person = DashClient(server.url)
            ready.wait()  # everyone at once
            answer = person.call(
                move,
                {"next.n_clicks": 1, "position-store.data": start, "annotator-store.data": name},
                changed="next.n_clicks",
            )
            assert answer.status_code == 200, answer.text
            assert "position-store" in answer.json()["response"], answer.text
            return answer.json()["response"]["position-store"]["data"]["key"]

        with ThreadPoolExecutor(len(PEOPLE)) as pool:
            handed = list(pool.map(press_next, PEOPLE))
    finally:
        server.stop()
    assert len(set(handed)) == len(PEOPLE), sorted(handed)
    assert "img00.jpg" not in handed  # Next moves on from where they all started
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
