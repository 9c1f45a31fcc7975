"""Image sources, header sizes, display renditions and the caching image service."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storage.catalog import Catalog
from storage.errors import ImageNotFound, StorageError, UnreadableImage
from storage.image_service import ImageService, Rendition
from storage.images import KeyPage, LocalFolderSource, ObjectMeta
from storage.renditions import ImageInfo, display_rendition, image_info, set_pixel_limit
from tests.unit.callback_support import DictCache


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def write_image(path: Path, size: tuple[int, int] = (32, 24), fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(Image.new("RGB", size, "teal"), fmt))
    return path


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- LocalFolderSource ----------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    for name in ["b.png", "a.JPG", "c.jpeg", "sub/d.tif", "sub/deeper/e.WebP", "z.gif"]:
        write_image(folder / name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "photo.jpg.bak").write_text("backup")
    write_image(folder / ".hidden.png")
    write_image(folder / ".thumbs" / "f.png")
    write_image(folder / "sub" / ".cache" / "g.png")
    (folder / "empty-dir").mkdir()
    return folder


def keys_of(source: LocalFolderSource, batch: str) -> tuple[str, ...]:
    return source.list_keys(batch, None, 10_000).keys


def test_sub_folders_are_batches_and_top_level_images_are_one_too(root: Path) -> None:
    found = LocalFolderSource(root).batches(max_entries=1000)

    assert found.names == ("", "empty-dir", "sub")
    assert found.complete


def test_a_batch_lists_its_images_sorted_with_slash_paths(root: Path) -> None:
    source = LocalFolderSource(root)

    assert keys_of(source, "") == ("a.JPG", "b.png", "c.jpeg", "z.gif")
    assert keys_of(source, "sub") == ("sub/d.tif", "sub/deeper/e.WebP")
    assert keys_of(source, "empty-dir") == ()
    assert keys_of(source, "no-such-batch") == ()
    assert keys_of(source, "..") == ()


def test_a_flat_folder_is_one_batch(tmp_path: Path) -> None:
    write_image(tmp_path / "x.png")

    assert LocalFolderSource(tmp_path).batches(1000).names == ("",)


def test_listing_comes_in_pages_after_a_key(root: Path) -> None:
    source = LocalFolderSource(root)

    first = source.list_keys("", None, 2)
    second = source.list_keys("", first.keys[-1], 2)

    assert first == KeyPage(("a.JPG", "b.png"), True)
    assert second == KeyPage(("c.jpeg", "z.gif"), False)
    assert source.list_keys("", None, 10, prefix="c").keys == ("c.jpeg",)
    assert source.list_keys("sub", None, 10, prefix="deeper").keys == ("sub/deeper/e.WebP",)


def test_batch_discovery_stops_after_max_entries(root: Path) -> None:
    found = LocalFolderSource(root).batches(max_entries=2)

    assert not found.complete


def test_listing_a_missing_folder_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        LocalFolderSource(tmp_path / "nowhere").batches(1000)
    with pytest.raises(StorageError, match="does not exist"):
        LocalFolderSource(tmp_path / "nowhere").list_keys("", None, 10)


def test_read_returns_the_files_bytes(root: Path) -> None:
    source = LocalFolderSource(root)

    assert source.read("sub/deeper/e.WebP") == (root / "sub/deeper/e.WebP").read_bytes()
    assert source.path_of("sub/d.tif") == root / "sub" / "d.tif"


@pytest.mark.parametrize(
    "key",
    [
        "../outside.png",
        "sub/../../outside.png",
        "sub/../b.png",
        "/etc/passwd.png",
        "sub\\d.tif",
        ".hidden.png",
        ".thumbs/f.png",
        "notes.txt",
        "photo.jpg.bak",
        "missing.png",
        "sub",
        "",
    ],
)
def test_keys_that_are_not_images_inside_the_root_are_refused(root: Path, key: str) -> None:
    write_image(root.parent / "outside.png")
    source = LocalFolderSource(root)

    with pytest.raises(ImageNotFound):
        source.path_of(key)
    with pytest.raises(ImageNotFound):
        source.read(key)


def test_a_symlink_pointing_outside_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    secret = write_image(tmp_path / "private" / "secret.png")
    (root / "link.png").symlink_to(secret)
    (root / "linked-dir").symlink_to(secret.parent, target_is_directory=True)
    source = LocalFolderSource(root)

    with pytest.raises(ImageNotFound):
        source.read("link.png")
    with pytest.raises(ImageNotFound):
        source.read("linked-dir/secret.png")


def test_a_symlink_pointing_outside_is_not_listed_in_the_batch(root: Path, tmp_path: Path) -> None:
    # The batch must not list an image that read() then refuses: it could never be annotated.
    (root / "link.png").symlink_to(write_image(tmp_path / "private" / "secret.png"))

    assert "link.png" not in keys_of(LocalFolderSource(root), "")


def test_a_symlink_inside_the_root_is_listed_and_followed(root: Path) -> None:
    (root / "alias.png").symlink_to(root / "b.png")
    source = LocalFolderSource(root)

    assert "alias.png" in keys_of(source, "")
    assert source.read("alias.png") == (root / "b.png").read_bytes()


def test_stat_gives_size_and_a_version_that_changes_with_the_file(root: Path) -> None:
    source = LocalFolderSource(root)
    first = source.stat("b.png")

    assert first.size == (root / "b.png").stat().st_size
    assert source.stat("b.png") == first

    write_image(root / "b.png", size=(64, 64))
    assert source.stat("b.png") != first


def test_stat_changes_when_only_the_time_changes(root: Path) -> None:
    source = LocalFolderSource(root)
    first = source.stat("b.png")
    stat = (root / "b.png").stat()

    os.utime(root / "b.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert source.stat("b.png").version != first.version


def test_stat_of_an_unknown_key_is_image_not_found(root: Path) -> None:
    with pytest.raises(ImageNotFound):
        LocalFolderSource(root).stat("missing.png")


def test_read_head_gives_the_first_bytes(root: Path) -> None:
    source = LocalFolderSource(root)

    assert source.read_head("b.png", 8) == (root / "b.png").read_bytes()[:8]
    assert source.presigned_url("b.png", 60) is None


# --- renditions -----------------------------------------------------------------------------


def test_image_info_reads_the_size() -> None:
    info = image_info(encode(Image.new("RGB", (300, 120)), "PNG"), "k.png")

    assert (info.width, info.height, info.format, info.mode) == (300, 120, "PNG", "RGB")


def size_of(info: ImageInfo) -> tuple[int, int]:
    return info.width, info.height


def rotated_jpeg(width: int, height: int, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(Image.new("RGB", (width, height), "red"), "JPEG", exif=exif)


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_exif_rotation_swaps_width_and_height(orientation: int) -> None:
    data = rotated_jpeg(400, 200, orientation)

    assert size_of(image_info(data, "phone.jpg")) == (200, 400)
    rendition, mimetype = display_rendition(data, "phone.jpg", 2048)
    assert mimetype == "image/jpeg"
    assert opened(rendition).size == (200, 400)


def test_exif_orientation_3_keeps_the_size() -> None:
    data = rotated_jpeg(400, 200, 3)

    assert size_of(image_info(data, "k.jpg")) == (400, 200)
    assert opened(display_rendition(data, "k.jpg", 2048)[0]).size == (400, 200)


def test_a_rotated_rendition_is_scaled_on_its_displayed_long_side() -> None:
    data = rotated_jpeg(800, 400, 6)

    assert opened(display_rendition(data, "k.jpg", 200)[0]).size == (100, 200)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_large_image_is_scaled_down_keeping_its_aspect(fmt: str) -> None:
    data = encode(Image.new("RGB", (3000, 1500), "navy"), fmt)

    rendition, _ = display_rendition(data, "big", 512)

    assert opened(rendition).size == (512, 256)


def test_a_big_jpeg_is_decoded_at_reduced_scale_within_the_display_limit() -> None:
    data = encode(Image.new("RGB", (4000, 3000), "navy"), "JPEG")

    width, height = opened(display_rendition(data, "photo.jpg", 2048)[0]).size

    assert 0.9 * 2048 <= width <= 2048 and width / height == pytest.approx(4 / 3, abs=0.01)


def test_a_small_image_is_not_enlarged() -> None:
    data = encode(Image.new("RGB", (300, 200)), "PNG")

    assert opened(display_rendition(data, "small", 512)[0]).size == (300, 200)


def test_a_16_bit_greyscale_png_becomes_a_visible_jpeg() -> None:
    ramp = (np.arange(64 * 32, dtype=np.uint16).reshape(32, 64) * 30).astype(np.uint16)
    source = Image.fromarray(ramp)
    assert source.mode.startswith("I;16")

    rendition, mimetype = display_rendition(encode(source, "PNG"), "scan.png", 2048)

    image = opened(rendition)
    assert mimetype == "image/jpeg" and image.format == "JPEG"
    assert image.size == (64, 32)
    low, high = image.convert("L").getextrema()
    assert high - low > 200  # stretched to the visible range, not black


def test_a_palette_png_with_transparency_stays_transparent() -> None:
    palette = Image.new("P", (50, 40), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (10, 10, 40, 30))
    data = encode(palette, "PNG", transparency=0)

    rendition, mimetype = display_rendition(data, "icon.png", 2048)

    image = opened(rendition)
    assert mimetype == "image/png" and image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0
    assert image.getpixel((20, 20)) == (255, 0, 0, 255)


def test_an_rgba_png_keeps_its_alpha() -> None:
    data = encode(Image.new("RGBA", (20, 20), (0, 0, 255, 128)), "PNG")

    rendition, mimetype = display_rendition(data, "a.png", 2048)

    assert mimetype == "image/png"
    assert opened(rendition).getpixel((5, 5))[3] == 128


def test_a_cmyk_jpeg_becomes_an_rgb_jpeg() -> None:
    data = encode(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG")

    rendition, mimetype = display_rendition(data, "print.jpg", 2048)

    image = opened(rendition)
    assert mimetype == "image/jpeg"
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((40, 30))
    assert red > 200 and green < 50 and blue < 50


def test_a_text_file_named_jpg_is_unreadable_naming_the_key() -> None:
    data = b"this is not a picture\n" * 10

    with pytest.raises(UnreadableImage, match="notes/x.jpg"):
        image_info(data, "notes/x.jpg")
    with pytest.raises(UnreadableImage, match="notes/x.jpg"):
        display_rendition(data, "notes/x.jpg", 512)


def test_a_truncated_jpeg_is_unreadable_naming_the_key() -> None:
    noise = np.random.default_rng(7).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "JPEG")

    with pytest.raises(UnreadableImage, match="cut.jpg"):
        display_rendition(data[: len(data) // 2], "cut.jpg", 512)


def test_a_decompression_bomb_is_refused_from_its_header(monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restored after
    set_pixel_limit(10_000)
    data = encode(Image.new("L", (200, 200)), "PNG")  # 40,000 pixels: over the limit

    with pytest.raises(UnreadableImage, match="bomb.png is too large.*MAX_IMAGE_PIXELS"):
        image_info(data, "bomb.png")
    with pytest.raises(UnreadableImage, match="too large"):
        display_rendition(data, "bomb.png", 512)
    set_pixel_limit(50_000)
    assert image_info(data, "bomb.png").width == 200


def test_an_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableImage, match="empty.png"):
        image_info(b"", "empty.png")


# --- ImageService -------------------------------------------------------------------------


class CountingSource(LocalFolderSource):
    """A folder source that counts reads, and signs URLs like an S3 source would."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []
        self.heads: list[str] = []
        self.stats: list[str] = []
        self.signed: list[str] = []

    def read(self, key: str) -> bytes:
        self.reads.append(key)
        return super().read(key)

    def read_head(self, key: str, size: int) -> bytes:
        self.heads.append(key)
        return super().read_head(key, size)

    def read_head_meta(self, key: str, size: int) -> tuple[bytes, ObjectMeta]:
        self.heads.append(key)
        return super().read_head_meta(key, size)

    def stat(self, key: str) -> ObjectMeta:
        self.stats.append(key)
        return super().stat(key)

    def presigned_url(self, key: str, expires: int) -> str | None:
        self.signed.append(key)
        return f"https://bucket.example/{key}?signature={len(self.signed)}"


def service_of(source: LocalFolderSource, max_px: int, presign_max_bytes: int = 0) -> ImageService:
    cache = DictCache()
    return ImageService(Catalog(source, cache), cache, max_px, None, presign_max_bytes)


@pytest.fixture
def service_root(tmp_path: Path) -> Path:
    write_image(tmp_path / "photo.jpg", size=(1200, 600), fmt="JPEG")
    write_image(tmp_path / "my folder" / "cat #1?.png", size=(10, 10))
    return tmp_path


def test_a_second_rendition_comes_from_the_cache(service_root: Path) -> None:
    source = CountingSource(service_root)
    service = service_of(source, max_px=300)

    first = service.rendition("photo.jpg")
    second = service.rendition("photo.jpg")

    assert source.reads == ["photo.jpg"]
    assert second == first
    assert isinstance(first, Rendition)
    assert opened(first.data).size == (300, 150)


def test_a_changed_file_is_rendered_again_after_a_refresh(service_root: Path) -> None:
    source = CountingSource(service_root)
    service = service_of(source, max_px=300)
    before = service.rendition("photo.jpg")

    write_image(service_root / "photo.jpg", size=(200, 400), fmt="JPEG")
    service.catalog.refresh()
    after = service.rendition("photo.jpg")

    assert source.reads == ["photo.jpg", "photo.jpg"]
    assert after.etag != before.etag
    assert opened(after.data).size == (150, 300)


def test_info_reads_only_the_header_once(service_root: Path) -> None:
    source = CountingSource(service_root)
    service = service_of(source, max_px=300)

    assert size_of(service.info("photo.jpg")) == (1200, 600)
    assert size_of(service.info("photo.jpg")) == (1200, 600)
    assert source.heads == ["photo.jpg"]
    assert source.reads == []
    assert source.stats == []  # size and version came with the header
    assert service.etag("photo.jpg") == service.etag("photo.jpg")
    assert source.stats == []  # and were cached for the ETag


def test_info_reads_the_whole_file_when_the_header_is_longer_than_the_head(
    tmp_path: Path,
) -> None:
    # A 300 kB ICC profile comes before the JPEG frame header, beyond the first 128 kB.
    noise = np.random.default_rng(1).integers(0, 255, 300_000, dtype=np.uint8).tobytes()
    encoded = encode(Image.new("RGB", (640, 480), "olive"), "JPEG", icc_profile=noise)
    (tmp_path / "profiled.jpg").write_bytes(encoded)
    source = CountingSource(tmp_path)

    info = service_of(source, max_px=300).info("profiled.jpg")

    assert size_of(info) == (640, 480)
    assert source.reads == ["profiled.jpg"]


def test_the_etag_depends_on_the_display_limit(service_root: Path) -> None:
    source = LocalFolderSource(service_root)

    small = service_of(source, max_px=300).etag("photo.jpg")
    large = service_of(source, max_px=2048).etag("photo.jpg")

    assert small != large


def test_url_quotes_the_key_and_carries_the_version(service_root: Path) -> None:
    service = service_of(LocalFolderSource(service_root), max_px=300)
    key = "my folder/cat #1?.png"

    url = service.url(key)

    assert url == f"/images/my%20folder/cat%20%231%3F.png?v={service.etag(key)}"
    assert " " not in url


def test_a_small_browser_ready_original_gets_a_stable_presigned_url(tmp_path: Path) -> None:
    write_image(tmp_path / "small.jpg", size=(800, 600), fmt="JPEG")
    source = CountingSource(tmp_path)
    service = service_of(source, max_px=2048, presign_max_bytes=1_000_000)

    first = service.url("small.jpg")

    assert first.startswith("https://bucket.example/small.jpg?signature=")
    assert service.url("small.jpg") == first  # the same URL, so the browser's cache hits
    assert source.signed == ["small.jpg"]


@pytest.mark.parametrize(
    ("name", "size", "fmt", "presign_max_bytes"),
    [
        ("large.jpg", (3000, 2000), "JPEG", 10_000_000),  # over DISPLAY_MAX_PX
        ("scan.tif", (800, 600), "TIFF", 10_000_000),  # browsers do not show TIFF
        ("heavy.png", (800, 600), "PNG", 100),  # over PRESIGN_MAX_BYTES
        ("small.jpg", (800, 600), "JPEG", 0),  # presigning switched off
    ],
)
def test_originals_a_browser_cannot_take_as_they_are_go_through_the_app(
    tmp_path: Path, name: str, size: tuple[int, int], fmt: str, presign_max_bytes: int
) -> None:
    write_image(tmp_path / name, size=size, fmt=fmt)
    service = service_of(CountingSource(tmp_path), 2048, presign_max_bytes)

    assert service.url(name).startswith(f"/images/{name}?v=")


def test_a_rotated_jpeg_goes_through_the_app_to_be_turned_upright(tmp_path: Path) -> None:
    (tmp_path / "phone.jpg").write_bytes(rotated_jpeg(400, 200, 6))
    service = service_of(CountingSource(tmp_path), 2048, 10_000_000)

    assert service.url("phone.jpg").startswith("/images/phone.jpg?v=")


@pytest.mark.parametrize("count", [4_999, 5_001])
def test_more_top_level_images_than_the_listing_cap_are_still_a_batch(
    tmp_path: Path, count: int
) -> None:
    # Issue 17: 5,001 JPEGs straight in IMAGE_SOURCE gave no batch at all (4,999 gave one),
    # so they were invisible and an import of them was refused.
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 3)).save(jpeg, "JPEG")
    for number in range(count):
        (tmp_path / f"img{number:05d}.jpg").write_bytes(jpeg.getvalue())
    catalog = Catalog(LocalFolderSource(tmp_path), DictCache())

    assert catalog.batches().names == ("",)
    assert catalog.key_at("", count - 1) == f"img{count - 1:05d}.jpg"
    assert catalog.batches().complete == (count < 5_000)
