"""The gallery in a real browser: an annotator draws a box with the mouse, opens the Gallery
and sees thumbnails with their shapes and statuses (their own only), filters on the server,
pages, reloads the URL into the same view, and clicks a thumbnail to land on that image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from domain.annotation import Annotation
from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore
from tests.e2e.helpers import ConsoleLog, drag, wait_for_image, wait_rows, wait_until
from tests.e2e.test_exchange_panel import choose
from tests.servers import AppServer

PASSWORD = "long enough password"
IMAGES = 70


def make_images(folder: Path) -> None:
    folder.mkdir(parents=True)
    for n in range(1, IMAGES + 1):
        Image.new("RGB", (200, 150), (n * 3, 120, 200 - n)).save(folder / f"img{n:02d}.jpg")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("gallery")
    make_images(root / "images" / "b")
    users = root / "users.toml"
    for name, role in (("ann", Role.ANNOTATOR), ("rita", Role.REVIEWER)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    data = root / "data"
    data.mkdir()
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    # Stored before the server starts: ann's box on img03 and "no objects" on img05;
    # bob's box on img04, which ann must never see.
    for key, who in (("b/img03.jpg", "ann"), ("b/img04.jpg", "bob")):
        box = Annotation(id=f"{who}-1", image_key=key, annotator=who, label="dog",
                         kind="rect", coords=(100.0, 40.0, 180.0, 140.0))  # fmt: skip
        store.sync_image(key, who, [box])
    store.set_status("b/img05.jpg", "ann", ImageStatus.EMPTY)
    store.engine.dispose()
    env = {
        "USERS_FILE": str(users),
        "SECRET_KEY": "g" * 32,
        "IMAGE_SOURCE": str(root / "images"),
        "LABELS": "cat,dog",
    }
    app = AppServer(data, env=env).start()
    yield app
    app.stop()


@pytest.fixture()
def page(browser, server: AppServer):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(server.url)
    page.fill("#name", "ann")
    page.fill("#password", PASSWORD)
    page.click("#signin-button")
    wait_for_image(page)
    yield page
    context.close()
    assert console.errors == [], f"browser console errors: {console.errors}"


def tiles(page) -> list[dict[str, object]]:
    """The thumbnails on screen: name, badges, whether shapes are drawn, image loaded."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#gallery-grid .gallery-tile')).map(t => ({"
        " name: t.querySelector('.gallery-name').innerText,"
        " badges: Array.from(t.querySelectorAll('.gallery-badge')).map(b => b.innerText),"
        " shapes: t.querySelector('img.gallery-overlay') ?"
        "   decodeURIComponent(t.querySelector('img.gallery-overlay').src) : '',"
        " loaded: !!t.querySelector('img.gallery-thumb') &&"
        "   t.querySelector('img.gallery-thumb').complete &&"
        "   t.querySelector('img.gallery-thumb').naturalWidth > 0 }))"
    )


def wait_tiles(page, names: list[str]) -> list[dict[str, object]]:
    found: list[list[dict[str, object]]] = []

    def check() -> bool:
        found[:] = [tiles(page)]
        return [t["name"] for t in found[0]] == names and all(t["loaded"] for t in found[0])

    wait_until(check, what=f"thumbnails {names[:3]}...")
    return found[0]


def names(numbers: range | list[int]) -> list[str]:
    return [f"img{n:02d}.jpg" for n in numbers]


def test_an_annotator_explores_filters_pages_and_opens_an_image(page, server):
    drag(page, [(20, 20), (120, 100)])  # a cat box on img01
    wait_rows(page, 1)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")

    page.get_by_role("tab", name="Gallery").click()
    shown = wait_tiles(page, names(range(1, 61)))
    assert "view=gallery" in page.url
    assert "70 images in this batch" in page.inner_text("#gallery-summary")
    by_name = {t["name"]: t for t in shown}
    assert by_name["img01.jpg"]["badges"] == ["done"]
    assert 'viewBox="0 0 200 150"' in by_name["img01.jpg"]["shapes"]
    assert 'stroke="#E69F00"' in by_name["img01.jpg"]["shapes"]  # cat's colour
    assert by_name["img03.jpg"]["badges"] == ["done"]
    assert 'stroke="#56B4E9"' in by_name["img03.jpg"]["shapes"]  # dog's colour
    assert by_name["img04.jpg"]["shapes"] == "" and by_name["img04.jpg"]["badges"] == ["to do"]
    assert by_name["img05.jpg"]["badges"] == ["no objects"]
    assert page.locator("#gallery-annotator").is_hidden()  # other people's work: reviewers

    choose(page, "gallery-status", "Done")
    page.click("#gallery-apply")
    wait_tiles(page, ["img01.jpg", "img03.jpg"])
    assert "status=done" in page.url
    assert "2 images match" in page.inner_text("#gallery-summary")

    choose(page, "gallery-status", "Any status")
    page.fill("#gallery-name", "IMG1")
    page.press("#gallery-name", "Enter")
    wait_tiles(page, names(range(10, 20)))
    assert "name=IMG1" in page.url

    page.fill("#gallery-name", "")
    page.click("#gallery-apply")
    wait_tiles(page, names(range(1, 61)))
    page.locator("#gallery-pages").get_by_text("2", exact=True).click()
    wait_tiles(page, names(range(61, 71)))
    assert "page=2" in page.url

    page.reload()
    wait_tiles(page, names(range(61, 71)))
    assert page.locator("#gallery-grid").is_visible()  # the gallery tab, opened by the URL

    page.locator("#gallery-grid .gallery-tile", has_text="img65.jpg").click()
    wait_until(lambda: "img65.jpg" in page.inner_text("#position-text"), what="img65 opened")
    wait_for_image(page)
    assert page.locator("#graph").is_visible()
    assert "view=gallery" not in page.url


def test_a_link_reproduces_a_view_and_bad_parts_are_explained(page, server):
    page.goto(server.url + "?view=gallery&status=done&label=dog&annotator=bob&page=-3&score=abc")
    wait_tiles(page, ["img03.jpg"])  # ann's own work only, whatever the link asks
    notes = page.inner_text("#gallery-notes")
    assert "'-3'" in notes and "'abc'" in notes and "Only your own work" in notes
    assert "img04" not in page.inner_text("#gallery-grid")
