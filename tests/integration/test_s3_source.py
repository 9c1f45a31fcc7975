"""The S3 source against moto's S3 server over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib
import io
import json
import logging
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from PIL import Image

from config import load_settings
from storage.catalog import Catalog
from storage.errors import ImageNotFound, SourceUnavailable, UnreadableImage
from storage.image_service import ImageService
from storage.runtime import build_services, install
from storage.s3_source import S3Source, make_client
from tests.servers import MotoServer
from tests.unit.callback_support import DictCache

BUCKET = "concord-test"
BIG = 1205  # more than one LIST page of 1,000


def jpeg(size: tuple[int, int], colour: str = "teal", fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def bucket(s3_server: MotoServer) -> str:
    """s3://concord-test/proj with batches 'big' and 'small', a top-level image, junk keys
    and an image under another prefix."""
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    tiny = jpeg((8, 6))
    objects = {f"proj/big/{number:05d}.jpg": tiny for number in range(BIG)}
    objects.update(
        {
            "proj/top.png": jpeg((30, 20), fmt="PNG"),
            "proj/small/a.jpg": jpeg((640, 480)),
            "proj/small/b.png": jpeg((300, 500), fmt="PNG"),
            "proj/small/scan.tif": jpeg((200, 100), fmt="TIFF"),
            "proj/small/corrupt.jpg": b"this is a text file with an image extension\n" * 10,
            "proj/small/notes.txt": b"not an image",
            "proj/small/README": b"no extension",
            "proj/small/.hidden.jpg": tiny,
            "proj/small/": b"",  # a 'folder' marker some tools write
            "elsewhere/secret.jpg": tiny,
        }
    )
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda item: client.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]),
                objects.items(),
            )
        )
    return f"s3://{BUCKET}/proj"


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, s3_server: MotoServer) -> MotoServer:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture
def source(bucket: str, s3_env: MotoServer) -> S3Source:
    return S3Source(bucket)


def test_sub_prefixes_are_batches_and_top_level_images_one_more(source: S3Source) -> None:
    found = source.batches(max_entries=5000)

    assert found.names == ("", "big", "small") and found.complete


def test_a_batch_of_more_than_a_thousand_keys_is_listed_page_by_page(source: S3Source) -> None:
    catalog = Catalog(source, DictCache())

    first = catalog.page("big", 0)
    assert len(first.keys) == 1000 and first.more
    assert catalog.count("big") == (1000, False)  # only what was listed so far
    assert catalog.key_at("big", BIG - 1) == f"big/{BIG - 1:05d}.jpg"
    assert catalog.total("big") == BIG
    assert catalog.locate("big", "big/01100.jpg") == 1100


def test_only_image_keys_are_listed(source: S3Source) -> None:
    keys = source.list_keys("small", None, 100).keys

    assert keys == ("small/a.jpg", "small/b.png", "small/corrupt.jpg", "small/scan.tif")
    assert source.list_keys("", None, 100).keys == ("top.png",)  # not the sub-prefixes


@pytest.mark.parametrize(("key", "head"), [("small/a.jpg", 64), ("top.png", 1_000_000)])
def test_one_ranged_read_gives_the_header_and_the_same_metadata_as_a_head(
    source: S3Source, key: str, head: int
) -> None:
    data, meta = source.read_head_meta(key, head)

    assert meta == source.stat(key)  # same size and ETag: the same fingerprint either way
    assert data == source.read(key)[:head]


def test_search_by_name_prefix(source: S3Source) -> None:
    catalog = Catalog(source, DictCache())

    assert catalog.search("big", "0120", 10) == tuple(f"big/0120{n}.jpg" for n in range(5))


def test_sizes_come_from_a_ranged_read_and_renditions_from_the_object(source: S3Source) -> None:
    cache = DictCache()
    service = ImageService(Catalog(source, cache), cache, max_px=256)

    info = service.info("small/a.jpg")
    rendition = service.rendition("small/b.png")

    assert (info.width, info.height) == (640, 480)
    assert Image.open(io.BytesIO(rendition.data)).size == (154, 256)


def test_a_corrupt_object_is_an_unreadable_image_naming_it(source: S3Source) -> None:
    cache = DictCache()
    service = ImageService(Catalog(source, cache), cache, max_px=256)

    with pytest.raises(UnreadableImage, match="small/corrupt.jpg"):
        service.info("small/corrupt.jpg")
    with pytest.raises(UnreadableImage, match="small/corrupt.jpg"):
        service.rendition("small/corrupt.jpg")
    assert service.info("small/a.jpg").width == 640  # the next image is fine


@pytest.mark.parametrize(
    "key", ["small/missing.jpg", "../elsewhere/secret.jpg", "/proj/top.png", "small/notes.txt"]
)
def test_keys_outside_the_source_are_not_found(source: S3Source, key: str) -> None:
    with pytest.raises(ImageNotFound):
        source.stat(key)
    with pytest.raises(ImageNotFound):
        source.read(key)


def test_a_presigned_url_serves_the_original(source: S3Source) -> None:
    cache = DictCache()
    service = ImageService(Catalog(source, cache), cache, max_px=2048, presign_max_bytes=10**6)

    url = service.url("small/a.jpg")
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()

    assert url.startswith(source.client.meta.endpoint_url) and "X-Amz-Signature" in url
    assert body == source.read("small/a.jpg")
    assert service.url("small/scan.tif").startswith("/images/small/scan.tif?v=")


def test_a_missing_bucket_is_explained(s3_env: MotoServer) -> None:
    with pytest.raises(SourceUnavailable, match="bucket 'no-such-bucket' does not exist"):
        S3Source("s3://no-such-bucket/x").batches(100)


def test_missing_credentials_are_explained(
    s3_env: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(SourceUnavailable, match="No S3 credentials.*AWS_ACCESS_KEY_ID"):
        S3Source(f"s3://{BUCKET}/proj").batches(100)


def test_bad_credentials_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = MotoServer(auth=True).start()  # knows no access keys at all
    try:
        for name, value in strict.env().items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SourceUnavailable, match="denied access.*InvalidAccessKeyId"):
            S3Source(f"s3://{BUCKET}/proj").list_keys("", None, 10)
    finally:
        strict.stop()


def test_an_unreachable_server_is_explained_and_recovered_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = MotoServer().start()
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
        server.client().create_bucket(Bucket="flaky")
        catalog = Catalog(S3Source("s3://flaky"), DictCache())
        server.stop()

        with pytest.raises(SourceUnavailable, match="Cannot reach S3"):
            catalog.batches()

        server = MotoServer(port=server.port).start()  # back, empty: refill it
        server.client().create_bucket(Bucket="flaky")
        server.client().put_object(Bucket="flaky", Key="x.jpg", Body=jpeg((4, 4)))
        assert catalog.batches().names == ("",)  # failures are not cached
        assert catalog.key_at("", 0) == "x.jpg"
    finally:
        server.stop()


def test_the_client_uses_standard_retries_and_the_endpoint_variable(s3_env: MotoServer) -> None:
    client = make_client()

    assert client.meta.endpoint_url == s3_env.endpoint
    assert client.meta.config.retries["mode"] == "standard"


def test_the_image_route_serves_only_keys_in_the_source(bucket: str, s3_env: MotoServer) -> None:
    app = importlib.import_module("app")
    settings = replace(load_settings({"DATA_DIR": "/tmp/unused"}), image_source=bucket)
    settings = replace(settings, database_url="sqlite://", uses_sample_images=False)
    install(build_services(settings, DictCache(), DictCache()))
    client = app.server.test_client()

    good = client.get("/images/small/a.jpg")
    assert good.status_code == 200 and good.mimetype == "image/jpeg"
    assert client.get("/images/small/corrupt.jpg").status_code == 422
    for path in [
        "/images/small/missing.jpg",
        "/images/..%2Felsewhere%2Fsecret.jpg",
        "/images/%2e%2e/elsewhere/secret.jpg",
        "/images/small/notes.txt",
        "/images/small/.hidden.jpg",
    ]:
        assert client.get(path).status_code == 404, path
    # Paths the URL layer normalises first never reach the route: still no image.
    for path in ["/images/../elsewhere/secret.jpg", "/images/%2Fproj%2Ftop.png"]:
        assert not client.get(path).mimetype.startswith("image/"), path


def test_the_page_explains_a_missing_bucket_and_recovers_on_refresh(
    s3_env: MotoServer, tmp_path, caplog
) -> None:
    from callbacks import navigation
    from tests.unit.callback_support import call

    settings = load_settings({"DATA_DIR": str(tmp_path), "IMAGE_SOURCE": "s3://arrives-later"})
    install(build_services(settings, DictCache(), DictCache()))
    buttons = [None] * 7

    with caplog.at_level(logging.WARNING, logger="concord.s3"):
        position, _jump, _choices, _batch, text, is_open, _ = call(
            navigation.navigate, None, *buttons, None, "alice", None
        )
    assert is_open and "bucket 'arrives-later' does not exist" in text
    assert "arrives-later" in caplog.text  # in the logs too
    _options, _disabled, warning, shown = call(
        navigation.batch_options, "position-store.data", None
    )
    assert shown and "does not exist" in warning and "Refresh" in warning

    client = s3_env.client()
    client.create_bucket(Bucket="arrives-later")
    client.put_object(Bucket="arrives-later", Key="first.jpg", Body=jpeg((12, 8)))
    refresh = [None] * 6 + [1]
    position = call(navigation.navigate, "refresh-listing.n_clicks", *refresh, None, "a", None)[0]
    assert position == {"batch": "", "key": "first.jpg", "index": 0, "project": "default"}


def test_import_and_export_against_s3(s3_env: MotoServer, bucket: str, tmp_path) -> None:
    from workflows.exchange import export_annotations, import_annotations

    settings = load_settings(
        {"IMAGE_SOURCE": f"s3://{BUCKET}/proj", "DATA_DIR": str(tmp_path), "LABELS": "car"}
    )
    services = build_services(settings, DictCache(), DictCache())
    rows = "image,label,x0,y0,x1,y1\nsmall/a.jpg,car,0.5,0.5,1,1\nb.png,,,,,\n"  # b: by name

    report = import_annotations(services, "csv-normalized", "p.csv", rows.encode(), "model")
    coco = json.loads(export_annotations(services, "coco", "model").content)

    assert (report.images, report.shapes) == (2, 1)
    sizes = {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    assert sizes == {"small/a.jpg": (640, 480), "small/b.png": (300, 500)}
    assert coco["annotations"][0]["bbox"] == [320, 240, 320, 240]
