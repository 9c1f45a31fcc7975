"""Uploading images in a real browser: an admin opens the Gallery, chooses two good images
and one that is not an image, watches a progress bar per file, and sees the new images in
the gallery without reloading the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from tests.e2e.helpers import ConsoleLog, wait_until
from tests.e2e.test_gallery import tiles, wait_tiles
from tests.servers import AppServer

PASSWORD = "long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("upload")
    batch = root / "images" / "b"
    batch.mkdir(parents=True)
    for n in (1, 2):
        Image.new("RGB", (200, 150), (n * 60, 120, 80)).save(batch / f"img{n:02d}.jpg")
    users = root / "users.toml"
    save_account(users, Account("ada", Role.ADMIN, hash_password(PASSWORD)))
    env = {
        "USERS_FILE": str(users),
        "SECRET_KEY": "e" * 32,
        "IMAGE_SOURCE": str(root / "images"),
        "LABELS": "cat,dog",
    }
    app = AppServer(root / "data", env=env).start()
    yield app
    app.stop()


def open_gallery(browser, server: AppServer):
    """ada signed in on the Gallery tab in a fresh browser: (context, page, console)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(server.url + "?view=gallery")
    page.fill("#name", "ada")
    page.fill("#password", PASSWORD)
    page.click("#signin-button")
    return context, page, console


@pytest.fixture()
def page(browser, server: AppServer):
    context, page, console = open_gallery(browser, server)
    yield page
    context.close()
    assert console.errors == [], f"browser console errors: {console.errors}"


def rows(page) -> list[dict[str, str]]:
    """The upload rows: name, state, bar value and outcome text."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#upload-list .upload-row')).map(r => ({"
        " name: r.querySelector('.upload-name').innerText, state: r.dataset.state,"
        " bar: r.querySelector('.progress').getAttribute('aria-valuenow'),"
        " outcome: r.querySelector('.upload-outcome').innerText }))"
    )


def test_an_admin_uploads_two_images_and_a_bad_file_is_refused(page, server, tmp_path: Path):
    wait_tiles(page, ["img01.jpg", "img02.jpg"])
    page.evaluate("() => { window.notReloaded = true; }")
    page.click("#upload-card summary")
    wait_until(lambda: page.input_value("#upload-batch") == "b", what="the gallery's batch")

    Image.new("RGB", (320, 240), "orange").save(tmp_path / "new-photo.jpg")
    Image.new("RGB", (120, 90), "purple").save(tmp_path / "new-scan.png")
    (tmp_path / "notes.txt").write_text("a shopping list, not a picture\n")
    page.set_input_files(
        "#upload-files",
        [str(tmp_path / name) for name in ("new-photo.jpg", "new-scan.png", "notes.txt")],
    )

    found = wait_until(
        lambda: (lambda r: len(r) == 3 and all(x["state"] in ("done", "refused") for x in r) and r)(
            rows(page)
        ),
        what="every file's outcome",
    )
    by_name = {row["name"]: row for row in found}
    for name in ("new-photo.jpg", "new-scan.png"):
        assert by_name[name]["state"] == "done" and by_name[name]["bar"] == "100", by_name[name]
        assert by_name[name]["outcome"] == "uploaded"
    assert by_name["notes.txt"]["state"] == "refused"
    assert "notes.txt is not an image" in by_name["notes.txt"]["outcome"]
    assert "2 images uploaded into batch b; 1 refused" in page.inner_text("#upload-status")

    wait_tiles(page, ["img01.jpg", "img02.jpg", "new-photo.jpg", "new-scan.png"])
    assert "3 images" not in page.inner_text("#gallery-summary")
    assert "4 images in this batch" in page.inner_text("#gallery-summary")
    assert page.evaluate("() => window.notReloaded === true")  # the same page, not reloaded


def test_a_new_batch_is_made_and_shown_and_a_fake_image_refused_on_arrival(
    browser, server, tmp_path: Path
):
    """A file with an image's name but not its content is refused when it arrives (the
    browser logs the 422 answer as a failed resource, and nothing else)."""
    context, page, console = open_gallery(browser, server)
    wait_until(lambda: "img01.jpg" in [t["name"] for t in tiles(page)], what="the gallery")
    page.click("#upload-card summary")
    page.fill("#upload-batch", "fresh")
    Image.new("RGB", (64, 64), "green").save(tmp_path / "leaf.jpg")
    (tmp_path / "fake.jpg").write_bytes(b"not a picture\n" * 50)

    page.set_input_files("#upload-files", [str(tmp_path / "leaf.jpg"), str(tmp_path / "fake.jpg")])

    wait_tiles(page, ["leaf.jpg"])  # the gallery moved to the new batch
    assert "batch=fresh" in page.url
    found = {row["name"]: row for row in rows(page)}
    assert found["leaf.jpg"]["state"] == "done"
    assert found["fake.jpg"]["state"] == "refused"
    assert "fake.jpg is not an image" in found["fake.jpg"]["outcome"]
    context.close()
    unexpected = [e for e in console.errors if "status of 422" not in e]
    assert unexpected == [], f"browser console errors: {unexpected}"
