"""The gallery through the real app with sign-in: thumbnails only for a session, and an
annotator's crafted gallery request (someone else's name, their shapes, counts over
everyone) still answers with the annotator's own work only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import requests
from PIL import Image

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from domain.annotation import Annotation
from storage.annotation_store import AnnotationStore
from tests.dash_requests import DashClient
from tests.servers import AppServer

PASSWORD = "long enough password"


def test_thumbnails_need_a_session_and_annotators_get_their_own_work(tmp_path: Path) -> None:
    batch = tmp_path / "images" / "b"
    batch.mkdir(parents=True)
    for n in range(1, 4):
        Image.new("RGB", (400, 300), (n * 50, 90, 160)).save(batch / f"img{n}.jpg")
    users = tmp_path / "users.toml"
    for name, role in (("ann", Role.ANNOTATOR), ("rita", Role.REVIEWER)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    data = tmp_path / "data"
    data.mkdir()
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    for key, who, right in (("b/img1.jpg", "ann", 111.0), ("b/img2.jpg", "bob", 222.0)):
        box = Annotation(id=f"{who}-1", image_key=key, annotator=who, label="person",
                         kind="rect", coords=(10.0, 10.0, right, 50.0))  # fmt: skip
        store.sync_image(key, who, [box])
    store.engine.dispose()
    env = {
        "USERS_FILE": str(users),
        "SECRET_KEY": "h" * 32,
        "IMAGE_SOURCE": str(tmp_path / "images"),
    }
    server = AppServer(data, env=env).start()
    try:
        anonymous = requests.get(server.url + "thumbs/b/img1.jpg", allow_redirects=False)
        assert anonymous.status_code in (302, 401) and not anonymous.content.startswith(b"\xff\xd8")

        ann = DashClient(server.url)
        assert ann.sign_in("ann", PASSWORD).status_code == 302
        thumb = ann.session.get(server.url + "thumbs/b/img1.jpg")
        assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"

        spec = ann.spec("gallery-ask-store.data", "gallery-grid")
        crafted = "?view=gallery&annotator=bob&show=bob&finished=1&status=done"
        values = {
            "gallery-ask-store.data": {"search": crafted, "at": 1},
            "position-store.data": {"batch": "b"},
            "annotator-store.data": "bob",  # a browser claiming to be bob
        }
        answer = ann.call(spec, values).json()["response"]
        text = unquote(str(answer["gallery-grid"]["children"]))
        assert "img1.jpg" in text and "img2.jpg" not in text  # ann's done image only
        assert 'width="101"' in text and 'width="212"' not in text  # her box, not bob's
        assert "Only your own work" in str(answer["gallery-notes"]["children"])

        rita = DashClient(server.url)
        rita.sign_in("rita", PASSWORD)
        values["gallery-ask-store.data"] = {"search": "?view=gallery&show=bob", "at": 2}
        answer = rita.call(spec, values).json()["response"]
        text = unquote(str(answer["gallery-grid"]["children"]))
        assert 'width="212"' in text and 'width="101"' not in text  # a reviewer chooses
    finally:
        server.stop()
