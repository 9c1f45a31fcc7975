"""Big images cost bounded memory per view (issue 16, point 12): a lower default pixel
limit, renditions made without a full-size colour copy, JPEGs decoded at reduced scale,
and a rendition (or a refusal) made once, not on every view."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, JpegImagePlugin

import storage.image_service as image_service
from config import load_settings
from storage.catalog import Catalog
from storage.errors import UnreadableImage
from storage.image_service import ImageService
from storage.images import LocalFolderSource
from storage.renditions import display_rendition, image_info, set_pixel_limit
from tests.unit.callback_support import DictCache

ROOT = Path(__file__).resolve().parents[2]


def png_header(width: int, height: int) -> bytes:
    """A PNG that states its size and has no pixels: enough for a header check."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture
def restore_limit(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restored after


def test_the_default_pixel_limit_is_100_megapixels() -> None:
    assert load_settings({"DATA_DIR": "/tmp/unused"}).max_image_pixels == 100_000_000


def test_an_image_over_the_default_limit_is_refused_from_its_header(restore_limit) -> None:
    set_pixel_limit(load_settings({"DATA_DIR": "/tmp/unused"}).max_image_pixels)

    with pytest.raises(UnreadableImage) as caught:
        image_info(png_header(14_000, 14_000), "scan.png")  # 196 MP, as the probe sent

    assert str(caught.value) == (
        "scan.png is too large to open safely (over 100,000,000 pixels; "
        "raise MAX_IMAGE_PIXELS to allow it)"
    )
    assert image_info(png_header(10_000, 10_000), "ok.png").width == 10_000


# The child decodes one rendition and reports how much its peak memory grew.
_CHILD = """
import json, sys
def peak_kb():  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
from storage.renditions import display_rendition, set_pixel_limit
set_pixel_limit(100_000_000)
data = open(sys.argv[1], "rb").read()
before = peak_kb()
rendition, mimetype = display_rendition(data, "big.png", 2048)
after = peak_kb()
print(json.dumps({"grown_mb": (after - before) / 1024, "bytes": len(rendition)}))
"""


def rendition_growth_mb(path: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["grown_mb"])


@pytest.mark.parametrize("mode", ["P", "L", "1"])
def test_a_big_png_is_shrunk_without_a_full_size_colour_copy(tmp_path: Path, mode: str) -> None:
    # 64 MP: one byte per pixel decoded; a full-size RGB copy would add four more (before:
    # 325 MB grown; now 83 MB for L, 131 MB for P and 1, whose bands are converted).
    image = Image.new(mode, (8000, 8000), 1)
    if mode == "P":
        image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(0, (1000, 1000, 7000, 7000))
    path = tmp_path / "big.png"
    image.save(path)
    del image

    grown = rendition_growth_mb(path)

    assert grown < 160, f"one view of a 64 MP {mode} PNG grew memory by {grown:.0f} MB"


def test_a_big_shrunk_png_still_looks_right() -> None:
    image = Image.new("P", (4000, 2000), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(1, (2000, 0, 4000, 2000))  # the right half red
    out = io.BytesIO()
    image.save(out, "PNG")

    data, mimetype = display_rendition(out.getvalue(), "half.png", 400)

    shown = Image.open(io.BytesIO(data)).convert("RGB")
    assert mimetype == "image/jpeg" and shown.size == (400, 200)
    assert shown.getpixel((100, 100)) == pytest.approx((0, 0, 0), abs=8)
    assert shown.getpixel((300, 100)) == pytest.approx((200, 30, 30), abs=8)


def test_a_jpeg_above_the_display_limit_is_decoded_at_reduced_scale(monkeypatch) -> None:
    decoded: list[tuple[int, int]] = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    out = io.BytesIO()
    Image.new("RGB", (8000, 6000), "navy").save(out, "JPEG")

    data, _ = display_rendition(out.getvalue(), "photo.jpg", 2048)

    assert decoded == [(2000, 1500)]  # 1/4 scale: a sixteenth of the pixels decoded
    assert Image.open(io.BytesIO(data)).size == (2000, 1500)


def service_for(root: Path) -> ImageService:
    cache = DictCache()
    return ImageService(Catalog(LocalFolderSource(root), cache), cache, 512)


def counting_renders(monkeypatch) -> list[str]:
    calls: list[str] = []
    render = image_service.display_rendition

    def counted(data: bytes, key: str, max_px: int) -> tuple[bytes, str]:
        calls.append(key)
        return render(data, key, max_px)

    monkeypatch.setattr(image_service, "display_rendition", counted)
    return calls


def test_a_second_view_of_a_big_image_does_not_decode_it_again(tmp_path, monkeypatch) -> None:
    Image.new("L", (6000, 4000), 90).save(tmp_path / "big.png")
    calls = counting_renders(monkeypatch)
    service = service_for(tmp_path)

    first = service.rendition("big.png")
    second = service.rendition("big.png")

    assert calls == ["big.png"]
    assert second == first


def test_a_second_view_of_a_broken_image_does_not_decode_it_again(tmp_path, monkeypatch) -> None:
    out = io.BytesIO()
    Image.effect_noise((3000, 2000), 60).save(out, "PNG")
    (tmp_path / "cut.png").write_bytes(out.getvalue()[: len(out.getvalue()) // 2])
    calls = counting_renders(monkeypatch)
    service = service_for(tmp_path)

    for _ in range(2):
        with pytest.raises(UnreadableImage, match="cut.png cannot be decoded"):
            service.rendition("cut.png")

    assert calls == ["cut.png"]
