"""Active time: seconds spent working on an image reach the database when the labeler
moves on, and idle or hidden time does not count."""

from __future__ import annotations

import uuid

from storage.annotation_store import AnnotationStore
from tests.e2e.helpers import sign_in, wait_for_image, wait_until


def test_time_spent_on_an_image_is_recorded_when_moving_on(page, app_server) -> None:
    name = f"timer-{uuid.uuid4().hex[:6]}"
    sign_in(page, name)
    first = page.inner_text("#position-text").split(" · ")[-1]
    for step in range(4):  # about 4 s of work: the mouse moves every second
        page.mouse.move(300 + 10 * step, 300)
        page.wait_for_timeout(1000)
    page.evaluate("() => { window.concordActivity.last = Date.now() - 120000; }")  # idle
    page.wait_for_timeout(4000)  # idle time: not counted
    page.click("#next")
    wait_until(lambda: first not in page.inner_text("#position-text"), what="the next image")
    wait_for_image(page)

    store = AnnotationStore.from_url(f"sqlite:///{app_server.data_dir / 'annotations.db'}")
    try:
        spent = wait_until(
            lambda: store.active_times().get((first, name)), what="the time spent recorded"
        )
    finally:
        store.engine.dispose()
    assert 2 <= spent <= 6  # the 4 s of work, not the 4 idle ones
