"""Nothing is lost: shapes survive a server restart; a bad image folder is explained."""

from __future__ import annotations

from PIL import Image

from tests.e2e.helpers import ConsoleLog, drag, rows, sign_in, wait_for_image, wait_rows, wait_until
from tests.servers import AppServer


def test_shapes_survive_a_server_restart(page, app_server):
    sign_in(page, "restarter")
    drag(page, [(60, 70), (200, 180)])
    drawn = wait_rows(page, 1)[0]
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))
    app_server.stop()
    app_server.start()
    page.reload()
    wait_for_image(page)
    again = wait_rows(page, 1)[0]
    assert {k: again[k] for k in ("label", "kind", "x0", "y0", "x1", "y1")} == {
        k: drawn[k] for k in ("label", "kind", "x0", "y0", "x1", "y1")
    }


def test_empty_folder_and_unreadable_image_are_explained(browser, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    server = AppServer(tmp_path / "data", env={"IMAGE_SOURCE": str(folder)}).start()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        console = ConsoleLog(page)
        page.goto(server.url)
        sign_in(page, "nobody", press_enter=True, image=False)
        assert rows(page) == []
        wait_until(lambda: "No images in" in page.inner_text("#source-warning"))
        # Add a corrupt file and a good one: the corrupt one is named, the good one works.
        (folder / "a-broken.jpg").write_text("not a jpeg")
        Image.new("RGB", (300, 200), "navy").save(folder / "b-good.jpg")
        page.click("#refresh-listing")  # listings are cached until refreshed
        wait_until(lambda: "a-broken.jpg is not an image" in figure_text(page))
        wait_until(lambda: not page.is_visible("#source-warning"))
        page.click("#next")
        wait_for_image(page)
        drag(page, [(20, 20), (120, 90)])
        assert wait_rows(page, 1)[0]["kind"] == "rect"
        context.close()
        assert console.errors == [], console.errors
    finally:
        server.stop()


def figure_text(page) -> str:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#graph .annotation-text'))"
        ".map(t => t.textContent).join(' ')"
    )
