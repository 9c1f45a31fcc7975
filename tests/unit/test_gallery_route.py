"""The /thumbs route (small, cached, validated; a broken image gets a clear 4xx) and the
gallery callback called as a function: thumbnails with their shapes and badges, the URL's
bad parts explained, a click opening the image."""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from callbacks import gallery
from components import ids
from domain.annotation import Annotation
from domain.status import ImageStatus
from storage.runtime import current
from tests.unit.callback_support import install_services, make_batch


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("thumbs")
    make_batch(root / "images", [(3000, 1500), (20, 20)])
    (root / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(root / "data"))
        patch.setenv("IMAGE_SOURCE", str(root / "images"))
        app = importlib.import_module("app")
        install_services(root)
        yield app.server.test_client()


def test_a_thumbnail_is_small_cached_and_validated(client, monkeypatch):
    response = client.get("/thumbs/img01.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(response.data)).size == (256, 128)
    assert len(response.data) < 20_000
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "max-age=86400" in cache
    etag = response.headers["ETag"]
    again = client.get("/thumbs/img01.jpg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    small = client.get("/thumbs/img02.jpg")
    assert Image.open(io.BytesIO(small.data)).size == (20, 20)  # never enlarged
    source = current().images.source
    monkeypatch.setattr(source, "read", lambda key: pytest.fail("read the original again"))
    cached = client.get("/thumbs/img01.jpg")
    assert cached.data == response.data


def test_a_broken_or_missing_image_gets_a_clear_answer(client):
    broken = client.get("/thumbs/broken.jpg")
    assert broken.status_code == 422 and b"broken.jpg" in broken.data
    assert broken.mimetype == "text/plain"
    assert client.get("/thumbs/broken.jpg").status_code == 422  # the refusal is cached
    missing = client.get("/thumbs/missing.jpg")
    assert missing.status_code == 404 and b"missing.jpg" in missing.data


def box(key: str, who: str, label: str) -> Annotation:
    return Annotation(id=f"{who}-{key}", image_key=key, annotator=who, label=label, kind="rect",
                      coords=(10.0, 10.0, 60.0, 40.0))  # fmt: skip


@pytest.fixture
def batch(tmp_path: Path):
    make_batch(tmp_path / "images" / "b", [(80, 60)] * 65)
    services = install_services(tmp_path, LABELS="cat,dog")
    keys = [f"b/img{n:02d}.jpg" for n in range(1, 66)]
    services.store.sync_image(keys[0], "alice", [box(keys[0], "alice", "cat")])
    services.store.sync_image(keys[1], "bob", [box(keys[1], "bob", "dog")])
    services.store.set_status(keys[64], "alice", ImageStatus.EMPTY)
    return keys


def render(search: str, annotator: str = "alice") -> tuple:
    return gallery.show_gallery({"search": search, "at": 1}, {"batch": "b"}, annotator)


def test_the_gallery_shows_a_page_of_thumbnails_with_shapes(batch):
    grid, summary, notes, has_notes, pages, page, items, *controls = render("?view=gallery")
    assert len(grid) == 60 and pages == 2 and page == 1 and not has_notes
    assert summary.startswith("65 images in this batch")
    first = grid[0].to_plotly_json()["props"]
    assert first["id"] == {"type": ids.GALLERY_TILE, "index": 0}
    picture = first["children"][0].children
    assert picture[0].src.startswith("/thumbs/b/img01.jpg?v=")
    svg = unquote(picture[1].src)
    assert 'viewBox="0 0 80 60"' in svg and "<rect" in svg
    assert items["tiles"][0] == {"key": "b/img01.jpg", "index": 0}
    # local mode is a reviewer's view: everyone's shapes, so bob's too
    assert len(grid[1].to_plotly_json()["props"]["children"][0].children) == 2
    grid, summary, *_ = render("?view=gallery&page=2")
    assert len(grid) == 5 and "showing 61–65" in summary


def test_a_filter_and_bad_parts_of_the_url(batch):
    grid, summary, notes, has_notes, pages, page, items, *controls = render(
        "?view=gallery&status=empty&page=-3&score=abc"
    )
    assert [t["key"] for t in items["tiles"]] == ["b/img65.jpg"]
    assert summary.startswith("1 images match")
    text = " ".join(n.children for n in notes)
    assert has_notes and "'-3'" in text and "'abc'" in text
    assert controls[2] == "empty"  # the status control shows the URL's filter
    grid, summary, notes, *_ = render("?view=gallery&page=9")
    assert "no page 9" in notes[0].children and len(grid) == 5
    _, _, notes, *_ = render("?view=gallery&disagreement=0.2")
    assert "No image has a disagreement score yet" in " ".join(n.children for n in notes)


def test_a_click_opens_the_image(batch):
    items = render("?view=gallery")[6]
    position, opened, tab = gallery.open_clicked({"tile": 1, "at": 5}, items)
    assert opened == {"batch": "b", "key": "b/img02.jpg", "index": 1, "view": "review"}
    assert tab == ids.TAB_REVIEW  # local mode: a reviewer


def test_a_click_on_a_filtered_tile_finds_its_place_in_the_batch(batch):
    items = render("?view=gallery&status=empty")[6]
    assert items["tiles"] == [{"key": "b/img65.jpg", "index": -1}]  # the batch not listed
    _, opened, _ = gallery.open_clicked({"tile": 0, "at": 5}, items)
    assert opened == {"batch": "b", "key": "b/img65.jpg", "index": 64, "view": "review"}


def overlays(grid: list) -> dict[int, str]:
    """Tile number -> the shapes' SVG, for tiles that draw shapes."""
    found = {}
    for number, tile in enumerate(grid):
        picture = tile.to_plotly_json()["props"]["children"][0].children
        if len(picture) == 2:
            found[number] = unquote(picture[1].src)
    return found


def test_a_reviewer_draws_the_consensus_gold_or_one_annotator(batch):
    store = current().store
    key = batch[2]
    for who, right in (("alice", 60.0), ("bob", 62.0), ("carol", 58.0)):
        record = Annotation(id=f"{who}-c", image_key=key, annotator=who, label="dog",
                            kind="rect", coords=(10.0, 10.0, right, 40.0))  # fmt: skip
        store.sync_image(key, who, [record])
    store.sync_image(batch[3], "gold", [box(batch[3], "gold", "cat")])

    agreed = overlays(render("?view=gallery&show=consensus")[0])
    assert set(agreed) == {0, 1, 2}  # alone on img01 and img02, their box is the consensus
    assert agreed[2].count("<rect") == 1 and 'width="50"' in agreed[2]  # the median box
    assert set(overlays(render("?view=gallery&show=gold")[0])) == {3}
    only_bob = overlays(render("?view=gallery&show=bob")[0])
    assert set(only_bob) == {1, 2} and 'width="52"' in only_bob[2]
    everyone = overlays(render("?view=gallery")[0])
    assert everyone[2].count("<rect") == 3 and 3 not in everyone  # gold is not a person
