"""What the page asks of the server: at load, nothing for the hidden tabs and panels; per
Next, at most three callback requests; and the progress bar still follows the shapes."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.e2e.helpers import ConsoleLog, drag, sign_in, wait_rows, wait_until

HIDDEN = (
    "agreement-",
    "admin-",
    "export-",
    "import-",
    "history-list",
    "gallery-",
    "qa-",
    "review-",
)


class Posts:
    """The outputs of every Dash callback request the page sends."""

    def __init__(self, page: Any) -> None:
        self.outputs: list[str] = []
        page.on("request", self._sent)

    def _sent(self, request: Any) -> None:
        if "_dash-update-component" in request.url:
            self.outputs.append(json.loads(request.post_data or "{}").get("output", "?"))

    def quiet(self, page: Any, seconds: float = 1.0) -> None:
        """Wait until no request was sent for `seconds`."""
        seen = -1
        while seen != len(self.outputs):
            seen = len(self.outputs)
            page.wait_for_timeout(seconds * 1000)


def test_load_and_next_round_trips(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    posts = Posts(page)
    page.goto(app_server.url)
    sign_in(page, f"trips-{uuid.uuid4().hex[:6]}")
    posts.quiet(page)
    fired = [o for o in posts.outputs if any(part in o for part in HIDDEN)]
    assert fired == [], f"hidden tabs' callbacks fired at load: {fired}"

    page.click("a.nav-link:has-text('Admin')")  # opening a tab lists what it shows
    wait_until(lambda: page.inner_text("#admin-users").strip(), what="the Admin tab's list")
    page.click("a.nav-link:has-text('Annotate')")
    posts.quiet(page)
    for _ in range(3):
        text = page.inner_text("#position-text")
        start = len(posts.outputs)
        page.click("#next")
        wait_until(lambda t=text: page.inner_text("#position-text") != t, what="the next image")
        posts.quiet(page)
        moved = posts.outputs[start:]
        assert len(moved) <= 3, f"one Next sent {len(moved)} callback requests: {moved}"

    # the progress bar follows a first shape on an image, and its removal, without a move
    start_text = page.inner_text("#progress-text")
    drag(page, [(100, 120), (300, 260)])
    wait_rows(page, 1)
    wait_until(
        lambda: page.inner_text("#progress-text") != start_text, what="progress after a shape"
    )
    assert "1 with shapes" in page.inner_text("#progress-text")
    page.click("#history-undo")
    wait_until(lambda: page.inner_text("#progress-text") == start_text, what="progress after undo")
    context.close()
    assert console.errors == [], f"browser console errors: {console.errors}"
