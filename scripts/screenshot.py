"""Take the README's screenshots from the running app in headless Chromium: the annotate
view (three shapes drawn, and the model's suggestion), the Import / Export panel after an
export (exchange-panel.png beside it) and the Agreement tab with three annotators
(agreement-tab.png).

Usage: python scripts/screenshot.py [docs/screenshot.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.helpers import choose_tool, drag, sign_in, wait_rows  # noqa: E402
from tests.servers import AppServer  # noqa: E402


def main(target: Path) -> None:
    server = AppServer(Path(tempfile.mkdtemp(prefix="concord-shot-"))).start()
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
            browser.close()
    finally:
        server.stop()
    print(f"wrote {target}, exchange-panel.png and agreement-tab.png beside it")


def agreement_tab(browser: Any, url: str, page: Any, target: Path) -> None:
    """Two more annotators draw the astronaut's head a little differently; then the
    Agreement tab computes and the image's comparison view is opened."""
    for name, box in (("bob", [(175, 45), (345, 240)]), ("carol", [(160, 30), (320, 225)])):
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


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
