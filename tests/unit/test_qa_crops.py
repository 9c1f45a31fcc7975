"""Crops for the label QA grid: the region around a shape (margin, clamped to the image),
and the /crops route (a small JPEG of the right part of the image, ETag and 304, signed-in
only, clear refusals)."""

from __future__ import annotations

import importlib
import io

import pytest
from PIL import Image

from components.qa_tab import crop_url, outline_svg
from config import load_settings
from domain.annotation import Annotation
from storage.crops import CROP_PX, bounding_box, crop_region, parse_box
from storage.runtime import build_services, install


def test_the_region_adds_a_margin_and_stays_inside_the_image() -> None:
    assert crop_region((100, 100, 200, 150), 400, 300) == (80, 90, 220, 160)  # 20 % each side
    assert crop_region((100, 100, 102, 101), 400, 300) == (92, 92, 110, 109)  # 8 px at least
    assert crop_region((0, 0, 400, 300), 400, 300) == (0, 0, 400, 300)  # clamped
    assert crop_region((390, 5, 400, 20), 400, 300) == (382, 0, 400, 28)
    with pytest.raises(ValueError, match="outside the 400x300 image"):
        crop_region((500, 10, 600, 20), 400, 300)


def test_boxes_are_read_strictly() -> None:
    assert parse_box("30,40,10,20") == (10, 20, 30, 40)  # corners in any order
    for bad in (None, "", "1,2,3", "1,2,3,x", "1,2,3,nan", "1,2,3,inf"):
        with pytest.raises(ValueError, match="box must be four"):
            parse_box(bad)
    assert bounding_box((), ((5, 9), (1, 3), (7, 2))) == (1, 2, 7, 9)


def test_the_outline_uses_the_crop_region_as_its_view_box() -> None:
    record = Annotation("a", "k.jpg", "alice", "cat", "rect", coords=(100, 100, 200, 150))
    uri = outline_svg(record, (80, 90, 220, 160), "#E69F00")
    assert uri.startswith("data:image/svg+xml")
    assert "viewBox%3D%2280%2090%20140%2070%22" in uri and "%23E69F00" in uri
    assert (
        crop_url("b/x y.jpg", (1, 2, 3, 4), "v1") == "/crops/b/x%20y.jpg?box=1.0,2.0,3.0,4.0&v=v1"
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("crops")
    images = root / "images"
    images.mkdir()
    # left half red, right half blue, 3000 px wide: the display rendition is 2048 wide
    picture = Image.new("RGB", (3000, 1500), (220, 20, 20))
    picture.paste((20, 20, 220), (1500, 0, 3000, 1500))
    picture.save(images / "halves.jpg", quality=95)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(root / "data"))
        patch.setenv("IMAGE_SOURCE", str(images))
        app = importlib.import_module("app")
        install(build_services(load_settings(), *app.caches))
        yield app.server.test_client()


def _colour(data: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))


def test_a_crop_is_a_small_jpeg_of_the_boxed_part(client) -> None:
    left = client.get("/crops/halves.jpg?box=100,100,1100,600")
    right = client.get("/crops/halves.jpg?box=2000,500,2100,550")
    assert left.status_code == 200 and left.mimetype == "image/jpeg"
    size = Image.open(io.BytesIO(left.data)).size
    assert max(size) == CROP_PX and size[0] > size[1]  # the region's shape, shrunk
    assert len(left.data) < 20_000
    red, blue = _colour(left.data), _colour(right.data)
    assert red[0] > 180 and red[2] < 80 and blue[2] > 180 and blue[0] < 80


def test_a_crop_is_validated_by_its_etag(client) -> None:
    first = client.get("/crops/halves.jpg?box=10,10,60,60")
    etag = first.headers["ETag"]
    assert etag and "max-age=86400" in first.headers["Cache-Control"]
    again = client.get("/crops/halves.jpg?box=10,10,60,60", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/crops/halves.jpg?box=10,10,70,60")
    assert other.headers["ETag"] != etag


def test_a_box_at_the_border_is_clamped_to_the_image(client) -> None:
    response = client.get("/crops/halves.jpg?box=2900,1400,3000,1500")
    assert response.status_code == 200
    width, height = Image.open(io.BytesIO(response.data)).size
    # region (2880, 1380)-(3000, 1500): square, not padded beyond the image
    assert abs(width - height) <= 1


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/crops/halves.jpg?box=1,2,3", 400, "four numbers"),
        ("/crops/halves.jpg", 400, "four numbers"),
        ("/crops/halves.jpg?box=5000,10,5100,20", 400, "outside the 3000x1500 image"),
        ("/crops/missing.jpg?box=1,2,3,4", 404, "no such image"),
        ("/crops/../secret.txt?box=1,2,3,4", 404, "no such image"),
    ],
)
def test_bad_requests_get_a_clear_answer(client, path: str, status: int, words: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
