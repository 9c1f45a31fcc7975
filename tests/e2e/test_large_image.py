"""A large image: the browser gets a downscaled rendition, coordinates stay original."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.e2e.helpers import drag, image_size, sign_in, wait_rows
from tests.servers import AppServer


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("large")
    (root / "images").mkdir()
    Image.new("RGB", (3000, 2000), "darkgreen").save(root / "images" / "field.jpg")
    server = AppServer(root / "data", env={"IMAGE_SOURCE": str(root / "images")}).start()
    yield server
    server.stop()


def test_drawing_on_a_downscaled_rendition_stores_original_pixels(page, app_server):
    sign_in(page, "large")
    assert image_size(page) == (3000, 2000)
    drag(page, [(600, 400), (2400, 1600)])
    row = wait_rows(page, 1)[0]
    # ~2 screen pixels of plotly's drag threshold are ~10 image pixels at this scale.
    coords = [float(row[c]) for c in ("x0", "y0", "x1", "y1")]
    assert all(abs(a - e) <= 12 for a, e in zip(coords, [600, 400, 2400, 1600], strict=True))
    href = page.evaluate("() => document.querySelector('#graph .imagelayer image').href.baseVal")
    served = page.request.get(app_server.url.rstrip("/") + href)
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.body())).size == (2048, 1365)
