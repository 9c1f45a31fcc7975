"""The /images route: renditions by URL, validators, and nothing outside the source."""

from __future__ import annotations

import importlib
import io

import pytest
from PIL import Image

from config import load_settings
from storage.runtime import build_services, install
from tests.unit.callback_support import make_batch


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("route")
    make_batch(root / "images", [(3000, 1500), (20, 20)])
    (root / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "secret.txt").write_text("not for browsers")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(root / "data"))
        patch.setenv("IMAGE_SOURCE", str(root / "images"))
        app = importlib.import_module("app")
        install(build_services(load_settings(), *app.caches))
        yield app.server.test_client()


def test_large_image_is_served_downscaled_with_validators(client):
    response = client.get("/images/img01.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(response.data)).size == (2048, 1024)
    assert response.headers["ETag"] and "max-age=86400" in response.headers["Cache-Control"]
    again = client.get("/images/img01.jpg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_small_image_keeps_its_size(client):
    response = client.get("/images/img02.jpg")
    assert Image.open(io.BytesIO(response.data)).size == (20, 20)


@pytest.mark.parametrize(
    "path",
    [
        "/images/missing.jpg",
        "/images/../secret.txt",
        "/images/%2e%2e/secret.txt",
        "/images/..%2Fsecret.txt",
        "/images/%2Fetc%2Fpasswd",
        "/images/img01.jpg%00.png",
    ],
)
def test_only_images_in_the_source_are_served(client, path):
    response = client.get(path)
    # Either the route refuses, or the path never reaches it (Dash answers with its page).
    assert response.status_code == 404 or response.mimetype == "text/html"
    assert not response.mimetype.startswith("image/")
    assert b"not for browsers" not in response.data


def test_corrupt_image_gets_a_clear_error(client):
    response = client.get("/images/broken.jpg")
    assert response.status_code == 422
    assert b"broken.jpg" in response.data


def test_page_loads(client):
    response = client.get("/")
    assert response.status_code == 200 and b"Concord" in response.data
