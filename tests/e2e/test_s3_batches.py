"""Paging and annotating an S3 batch in the browser, with the app on moto's S3 server."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.e2e.helpers import (
    ConsoleLog,
    drag,
    image_size,
    sign_in,
    wait_for_address,
    wait_rows,
    wait_until,
)
from tests.servers import AppServer, MotoServer

BUCKET = "e2e-batches"
OBJECTS = {
    "survey/site-a/a1.jpg": ((640, 480), "JPEG"),
    "survey/site-a/a2.tif": ((500, 400), "TIFF"),  # no browser shows TIFF: the app converts
    "survey/site-a/a3.jpg": ((400, 600), "JPEG"),
    "survey/site-b/b1.png": ((300, 200), "PNG"),
    "survey/site-b/b2.jpg": ((320, 240), "JPEG"),
}


def encoded(size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "darkgreen").save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def s3_app(s3_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    for key, (size, fmt) in OBJECTS.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=encoded(size, fmt))
    env = {**s3_server.env(), "IMAGE_SOURCE": f"s3://{BUCKET}/survey"}
    server = AppServer(tmp_path_factory.mktemp("concord-s3"), env=env).start()
    yield server
    server.stop()


def position_text(page) -> str:
    return page.inner_text("#position-text")


def shows_size(page, size: tuple[int, int]) -> None:
    """Wait until the figure spans an image of this size in original pixels."""
    wait_until(lambda: image_size(page) == size, what=f"an image of {size}")


def test_page_through_an_s3_batch_switch_batches_and_annotate(browser, s3_app, s3_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    fetched: list[str] = []
    page.on("requestfinished", lambda request: fetched.append(request.url))
    page.goto(s3_app.url)
    sign_in(page, "sam")
    wait_until(lambda: position_text(page) == "1 of 3 · site-a/a1.jpg", what="first image")
    shows_size(page, (640, 480))
    # While a1 is shown, the browser fetches the next two: a2 through the app (converted
    # from TIFF), a3 straight from S3 by a presigned URL.
    wait_until(lambda: any("/images/site-a/a2.tif?v=" in url for url in fetched), what="a2")
    wait_until(
        lambda: any(url.startswith(s3_server.endpoint) and "a3.jpg" in url for url in fetched),
        what="a3 prefetched from S3",
    )

    page.click("#next")
    wait_until(lambda: position_text(page) == "2 of 3 · site-a/a2.tif", what="second image")
    shows_size(page, (500, 400))  # original pixels, whatever was sent
    drag(page, [(50, 60), (250, 200)])
    row = wait_rows(page, 1)[0]
    drawn = [float(row[name]) for name in ("x0", "y0", "x1", "y1")]
    assert drawn == pytest.approx([50, 60, 250, 200], abs=2)  # within a screen pixel or so

    page.click("#next")
    wait_until(lambda: position_text(page) == "3 of 3 · site-a/a3.jpg", what="third image")
    page.click("#prev")
    wait_until(lambda: position_text(page) == "2 of 3 · site-a/a2.tif", what="back")
    assert len(wait_rows(page, 1)) == 1  # the saved shape is back

    page.click("#batch")
    page.get_by_role("option", name="site-b").click()
    wait_until(lambda: position_text(page) == "1 of 2 · site-b/b1.png", what="other batch")
    shows_size(page, (300, 200))
    wait_rows(page, 0)
    page.keyboard.press("ArrowRight")
    wait_until(lambda: position_text(page) == "2 of 2 · site-b/b2.jpg", what="keyboard next")

    wait_for_address(page)
    page.reload()  # the place is remembered, batch included
    wait_until(lambda: position_text(page) == "2 of 2 · site-b/b2.jpg", what="after reload")
    wait_until(lambda: "b2.jpg" in page.inner_text("#jump"), what="the jump box names it")
    page.click("#jump")
    page.locator("input.dash-dropdown-search").fill("b1")  # the open dropdown's search box
    # The server answers each keystroke with new options: wait for the last answer, then
    # take the first (and only) match with the keyboard.
    wait_until(lambda: page.get_by_role("option").all_inner_texts() == ["b1.png"], what="match")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Enter")
    wait_until(lambda: position_text(page) == "1 of 2 · site-b/b1.png", what="jumped by name")
    wait_until(lambda: "b1.png" in page.inner_text("#jump"), what="the jump box follows")
    context.close()
    assert console.errors == [], console.errors
