"""Take the README's screenshots from the running app in headless Chromium: the annotate
view (three shapes drawn, and the model's suggestion), the Import / Export panel after an
export (exchange-panel.png beside it), the Agreement tab with three annotators
(agreement-tab.png), and, from a second app with sign-in where three annotators' work is
stored before it starts, the Review tab with gold partly accepted (review.png) and the
Gallery of the batch as a reviewer sees it (gallery.png).

Usage: python scripts/screenshot.py [docs/screenshot.png]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from auth.passwords import hash_password  # noqa: E402
from domain.annotation import Annotation  # noqa: E402
from storage.annotation_store import AnnotationStore  # noqa: E402
from storage.samples import ensure_sample_batch  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.helpers import (  # noqa: E402
    choose_tool,
    drag,
    open_signed_in,
    sign_in,
    wait_for_image,
    wait_rows,
    wait_until,
)
from tests.servers import AppServer  # noqa: E402

PASSWORD = "long enough password"
REVIEWED = "07-motorcycle.jpg"  # the image the Review tab shows
Box = tuple[str, tuple[float, float, float, float]]
# Stored before the second app starts: each annotator's boxes (label, x0, y0, x1, y1) on the
# sample images. On the motorcycle they agree on the bike and the bench, carol missed the
# crate on the right, they disagree on the can's label, and only dave boxed the bicycle.
STORED: dict[str, dict[str, list[Box]]] = {
    "bob": {
        "02-chelsea.jpg": [("animal", (10, 0, 440, 295))],
        "03-coffee.jpg": [("food", (175, 15, 420, 255)), ("object", (320, 60, 425, 330))],
        "07-motorcycle.jpg": [
            ("vehicle", (95, 110, 690, 445)),
            ("object", (50, 105, 285, 300)),
            ("object", (600, 180, 690, 275)),
            ("food", (398, 52, 422, 92)),
        ],
    },
    "carol": {
        "02-chelsea.jpg": [("animal", (20, 5, 450, 300))],
        "04-rocket.jpg": [("vehicle", (300, 125, 345, 400))],
        "07-motorcycle.jpg": [
            ("vehicle", (100, 118, 685, 440)),
            ("object", (55, 110, 280, 305)),
            ("object", (395, 50, 425, 95)),
        ],
    },
    "dave": {
        "04-rocket.jpg": [("vehicle", (295, 120, 350, 405))],
        "05-camera.jpg": [("person", (150, 30, 390, 470))],
        "07-motorcycle.jpg": [
            ("vehicle", (90, 105, 695, 450)),
            ("object", (45, 100, 290, 300)),
            ("object", (598, 178, 692, 278)),
            ("food", (400, 50, 420, 90)),
            ("vehicle", (0, 120, 48, 232)),
        ],
    },
}


def main(target: Path) -> None:
    data = Path(tempfile.mkdtemp(prefix="concord-shot-"))
    server = AppServer(data).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(server.url)
            sign_in(page, "alice")
            drag(page, [(165, 40), (330, 230)])  # the astronaut's head
            wait_rows(page, 1)
            page.locator("body").press("5")
            drag(page, [(350, 330), (505, 505)])  # the helmet
            wait_rows(page, 2)
            page.locator("body").press("3")
            choose_tool(page, "Draw closed freeform")
            drag(page, [(405, 60), (430, 40), (440, 200), (400, 210)])  # the shuttle
            wait_rows(page, 3)
            page.locator("body").press("s")  # Suggest: the built-in model's person, dashed
            page.wait_for_selector("#suggest-list .suggestion-row", timeout=30_000)
            page.mouse.move(5, 5)
            page.wait_for_timeout(500)
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target))
            page.click("#exchange-open")
            page.wait_for_selector("#export-annotator")
            page.click("#export-annotator")
            page.get_by_role("option", name="alice", exact=True).click()
            with page.expect_download():
                page.click("#export-button")
            page.wait_for_selector("#export-result .alert")
            page.wait_for_timeout(300)
            page.screenshot(path=str(target.with_name("exchange-panel.png")))
            agreement_tab(browser, server.url, page, target.with_name("agreement-tab.png"))
            projects_and_labels(page, target.with_name("projects.png"))
            with review_server() as reviewing:
                review_tabs(browser, reviewing.url, target.parent)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"wrote {target}, and exchange-panel.png, agreement-tab.png, projects.png, review.png "
        "and gallery.png beside it"
    )


def agreement_tab(browser: Any, url: str, page: Any, target: Path) -> None:
    """Two more annotators draw the astronaut's head a little differently; then the
    Agreement tab computes and the image's comparison view is opened."""
    heads: list[tuple[str, list[tuple[float, float]]]] = [
        ("bob", [(175, 45), (345, 240)]),
        ("carol", [(160, 30), (320, 225)]),
    ]
    for name, box in heads:
        other = browser.new_page(viewport={"width": 1400, "height": 860})
        other.goto(url)
        sign_in(other, name)
        drag(other, box)
        wait_rows(other, 1)
        other.wait_for_function(
            "() => document.querySelector('#save-status').innerText.includes('saved')"
        )
        other.close()
    page.keyboard.press("Escape")  # close the side panel
    page.wait_for_selector("#exchange-panel", state="hidden")
    page.locator(".nav-tabs .nav-link", has_text="Agreement").click()
    page.click("#agreement-compute")
    page.wait_for_selector("#card-alpha .agreement-value", timeout=60_000)
    page.locator("#agreement-images .ag-row[row-index='0'] .ag-cell[col-id='image']").click()
    page.wait_for_selector("#agreement-compare-graph .imagelayer image")
    page.wait_for_timeout(800)
    page.screenshot(path=str(target), full_page=True)


# What alice draws with the mouse on the first three images: (label key, drag points).
ALICE: list[list[tuple[str, list[tuple[float, float]]]]] = [
    [("1", [(160, 35), (335, 235)]), ("5", [(345, 335), (510, 510)])],  # head, helmet
    [("2", [(15, 10), (445, 298)])],  # the cat
    [("4", [(170, 10), (425, 250)])],  # the cup
]


@contextmanager
def review_server() -> Iterator[AppServer]:
    """An app with sign-in (alice annotates, rita reviews) over the sample batch, with
    bob's, carol's and dave's boxes stored before it starts; stopped by its PID."""
    data = Path(tempfile.mkdtemp(prefix="concord-shot-review-"))
    ensure_sample_batch(data / "samples")  # the app's own default batch, written early
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    for who, images in STORED.items():
        for key, boxes in images.items():
            records = [
                Annotation(f"{who}-{key}-{n}", key, who, label, "rect", coords)
                for n, (label, coords) in enumerate(boxes)
            ]
            store.sync_image(key, who, records)
    store.engine.dispose()
    secret = hash_password(PASSWORD)
    users = ",".join(f"{n}:{r}:{secret}" for n, r in (("alice", "annotator"), ("rita", "reviewer")))
    server = AppServer(data, env={"USERS": users, "SECRET_KEY": "s" * 32}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def review_tabs(browser: Any, url: str, folder: Path) -> None:
    """alice draws with the mouse on the first three images; rita ranks the review queue,
    opens the motorcycle, accepts the consensus of two of its units into gold (review.png), then
    accepts that image, sends the cat back to carol, and opens the Gallery (gallery.png)."""
    context, page, console = open_signed_in(browser, url, "alice", PASSWORD)
    wait_for_image(page)
    for number, boxes in enumerate(ALICE, start=1):
        wait_text(page, "#position-text", f"{number} of 8")
        wait_for_image(page)
        for count, (key, points) in enumerate(boxes, start=1):
            page.locator("body").press(key)
            drag(page, points)
            wait_rows(page, count)
        wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")
        page.click("#next")
    report(console, "alice")
    context.close()

    context, page, console = open_signed_in(browser, url, "rita", PASSWORD)
    page.get_by_role("tab", name="Review").click()
    page.wait_for_selector("#review-queue .ag-row [col-id=name]")
    page.click("#review-rank")
    wait_until(lambda: "Ranked" in page.inner_text("#review-rank-status"), 60, "the ranking")
    page.locator("#review-queue .ag-row [col-id=name]", has_text=REVIEWED).click()
    wait_until(lambda: page.inner_text("#review-title") == REVIEWED, what="the motorcycle")
    wait_until(
        lambda: page.evaluate(
            "() => document.querySelectorAll('#review-units .ag-center-cols-container .ag-row')"
            ".length >= 5 && !!document.querySelector('#review-graph .imagelayer image')"
        ),
        what="the units and the image",
    )
    # the bench (all three agree) and the crate carol missed: gold in object's colour
    for unit, accepted in (("2", 1), ("3", 2)):
        page.locator("#review-units .ag-row [col-id=unit]", has_text=unit).first.click()
        page.click("#review-accept-unit")
        wait_text(page, "#review-save-status", f"Gold saved ({accepted} shape(s))")
    page.mouse.move(5, 5)
    page.wait_for_timeout(800)
    page.screenshot(path=str(folder / "review.png"), full_page=True)

    page.click("#review-accept")
    wait_until(lambda: f"Accepted {REVIEWED}" in page.inner_text("#review-message"))
    page.locator("#review-queue .ag-row [col-id=name]", has_text="02-chelsea.jpg").click()
    wait_until(lambda: page.inner_text("#review-title") == "02-chelsea.jpg", what="the cat")
    page.fill("#review-comment", "The box cuts off the left ear.")
    page.locator("#review-rework-who label", has_text="carol").click()
    page.click("#review-rework")
    wait_until(lambda: "Sent 02-chelsea.jpg back to carol" in page.inner_text("#review-message"))

    page.get_by_role("tab", name="Gallery").click()
    wait_thumbnails(page)
    page.click("#gallery-show")
    page.get_by_role("option", name="Everyone", exact=True).click()
    page.click("#gallery-apply")
    wait_until(
        lambda: "show=everyone" in page.evaluate("() => window.location.search"),
        what="everyone's shapes asked for",
    )
    wait_thumbnails(page)
    page.mouse.move(5, 5)
    page.wait_for_timeout(800)
    bottom = page.evaluate(
        "() => document.querySelector('#gallery-grid').getBoundingClientRect().bottom"
    )
    width = page.viewport_size["width"]
    page.screenshot(
        path=str(folder / "gallery.png"),
        clip={"x": 0, "y": 0, "width": width, "height": bottom + 16},
    )
    report(console, "rita")
    context.close()


def projects_and_labels(page: Any, target: Path) -> None:
    """The Admin tab: a second project made in the Projects card, and the first project's
    label set with a description, a key of its own and a retired label (projects.png)."""
    page.get_by_role("tab", name="Admin").click()
    wait_until(lambda: "default" in page.inner_text("#admin-projects"), what="the projects")
    for field, value in (
        ("#admin-project-name", "Street scenes"),
        ("#admin-project-slug", "street"),
        ("#admin-project-source", "street"),
        ("#admin-project-labels", "car, bicycle, pedestrian, sign"),
        ("#admin-project-per-image", "2"),
    ):
        page.fill(field, value)
    page.click("#admin-project-save")
    wait_text(page, "#admin-project-result", "Made project Street scenes")
    grid = "#admin-labels-grid .ag-center-cols-container"
    wait_until(lambda: page.locator(f"{grid} .ag-row").count() == 5, what="the label set")
    for name, column, text in (
        ("vehicle", "hotkey", "v"),
        ("food", "description", "Anything edible, packaged or not."),
    ):
        page.locator(f"{grid} .ag-row[row-id='{name}'] .ag-cell[col-id='{column}']").click()
        page.keyboard.press("Control+A")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        wait_text(page, "#admin-labels-result", f"Saved {name}")
    page.locator(f"{grid} .ag-row[row-id='object'] .ag-cell[col-id='name']").click()
    page.click("#admin-labels-retire")
    wait_text(page, "#admin-labels-result", "Retired object")
    page.mouse.move(5, 5)
    page.wait_for_timeout(500)
    top = page.evaluate(
        "() => document.querySelector('#admin-projects').closest('.card')"
        ".getBoundingClientRect().top + window.scrollY"
    )
    bottom = page.evaluate(
        "() => document.querySelector('#admin-labels-grid').closest('.card')"
        ".getBoundingClientRect().bottom + window.scrollY"
    )
    width = page.viewport_size["width"]
    page.screenshot(
        path=str(target),
        full_page=True,
        clip={"x": 0, "y": top - 8, "width": width, "height": bottom - top + 16},
    )


def wait_thumbnails(page: Any) -> None:
    """Wait until the gallery shows the batch's eight thumbnails, each loaded, with shapes
    drawn over those that have any."""
    wait_until(
        lambda: page.evaluate(
            "() => { const t = Array.from(document.querySelectorAll("
            "'#gallery-grid .gallery-tile img.gallery-thumb'));"
            " const o = Array.from(document.querySelectorAll("
            "'#gallery-grid .gallery-tile img.gallery-overlay'));"
            " return t.length === 8 && o.length >= 6"
            " && t.concat(o).every(i => i.complete && i.naturalWidth > 0); }"
        ),
        30,
        "eight loaded thumbnails",
    )


def wait_text(page: Any, selector: str, text: str) -> None:
    """Wait until an element's text contains `text`."""
    wait_until(lambda: text in page.inner_text(selector), what=f"{text!r} in {selector}")


def report(console: Any, name: str) -> None:
    """Print the browser console errors a page collected (the pictures may still be fine)."""
    for error in console.errors:
        print(f"console error in {name}'s page: {error}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
