"""A full review in Chromium: alice draws with the mouse on three images bob already
finished (his shapes stored before the server starts); rita, a reviewer, opens the queue,
accepts the consensus on one image, fixes a unit of another by taking bob's shape, and
sends the third back to alice with a comment; alice signs in, reaches it, sees the comment,
redoes it, and the image is back in rita's queue. A detector's box on the second image shows
as its own layer and row, and rita takes it into gold. Gold is checked in the store and in what
an export of annotator "gold" reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from auth.passwords import hash_password
from domain.annotation import Annotation
from domain.review import ReviewStatus
from domain.sources import GOLD
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore
from storage.review_store import ReviewStore
from tests.e2e.helpers import (
    ConsoleLog,
    drag,
    open_signed_in,
    wait_for_image,
    wait_rows,
    wait_until,
)
from tests.servers import AppServer

PASSWORD = "long enough password"
ONE, TWO, THREE = "b/img1.jpg", "b/img2.jpg", "b/img3.jpg"
BOB = {  # bob's stored boxes: a cat alice agrees with, a dog she calls a cat, a cat she missed
    ONE: ("cat", (62.0, 58.0, 198.0, 182.0)),
    TWO: ("dog", (70.0, 70.0, 210.0, 190.0)),
    THREE: ("cat", (300.0, 200.0, 380.0, 280.0)),
}
YOLO = "model:yolo"
YOLO_BOX = (250.0, 30.0, 330.0, 100.0)  # on image two, where nobody drew


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("review-e2e")
    for key in (ONE, TWO, THREE):
        path = root / "images" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (400, 300), (90, 120, 150)).save(path)
    store = AnnotationStore.from_url(f"sqlite:///{root / 'data' / 'annotations.db'}")
    assigned = AssignmentStore(store.engine, per_image=2)
    for key, (label, coords) in BOB.items():
        assert assigned.claim_first("bob", [key]) == key
        store.sync_image(key, "bob", [Annotation(f"bob-{key}", key, "bob", label, "rect", coords)])
    store.engine.dispose()
    secret = hash_password(PASSWORD)
    users = ",".join(f"{n}:{r}:{secret}" for n, r in (("alice", "annotator"), ("rita", "reviewer")))
    env = {
        "USERS": users,
        "SECRET_KEY": "s" * 32,
        "LABELS": "cat,dog",
        "IMAGE_SOURCE": str(root / "images"),
        "ANNOTATORS_PER_IMAGE": "2",
    }
    server = AppServer(root / "data", env=env).start()
    yield server
    server.stop()


def signed_in(browser: Any, server: AppServer, name: str) -> tuple[Any, Any, ConsoleLog]:
    return open_signed_in(browser, server.url, name, PASSWORD)


def position(page: Any) -> str:
    return page.inner_text("#position-text")


def shown_key(page: Any) -> str:
    """The key of the image the annotate figure shows (its uirevision)."""
    return page.evaluate(
        "() => { const gd = document.querySelector('#graph .js-plotly-plot');"
        " return gd && gd.layout && document.querySelector('#graph .imagelayer image')"
        " ? gd.layout.uirevision : ''; }"
    )


def draw_box(page: Any, corners: tuple[float, float, float, float], count: int) -> None:
    """Drag a box on the annotate figure and wait until it is saved."""
    x0, y0, x1, y1 = corners
    drag(page, [(x0, y0), (x1, y1)])
    wait_rows(page, count)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")


def units(page: Any) -> list[dict[str, str]]:
    """The review units table's rows as {column: text}."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll("
        "'#review-units .ag-center-cols-container .ag-row'))"
        ".sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))"
        ".map(r => Object.fromEntries(Array.from(r.querySelectorAll('.ag-cell'))"
        ".map(c => [c.getAttribute('col-id'), c.innerText.trim()])))"
    )


def queue_names(page: Any) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll("
        "'#review-queue .ag-center-cols-container .ag-row'))"
        ".sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))"
        ".map(r => r.querySelector('[col-id=name]').innerText.trim() + '|' +"
        " r.querySelector('[col-id=note]').innerText.trim())"
    )


def open_from_queue(page: Any, name: str) -> None:
    page.locator("#review-queue .ag-row [col-id=name]", has_text=name).click()
    wait_until(lambda: page.inner_text("#review-title") == f"b/{name}", what=f"{name} opened")
    wait_until(
        lambda: page.evaluate(
            "() => !!document.querySelector('#review-graph .imagelayer image')"
            " && document.querySelectorAll('#review-graph .shapelayer path').length > 0"
        ),
        what="the image and everyone's shapes in the review figure",
    )


def select_unit(page: Any, unit: str) -> None:
    page.locator("#review-units .ag-row [col-id=unit]", has_text=unit).first.click()


def review_drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag from one image point to another on the review figure."""
    surface = page.locator("#review-graph .draglayer .xy .nsewdrag")
    surface.scroll_into_view_if_needed()
    box = surface.bounding_box()
    (x_low, x_high), (y_high, y_low) = page.evaluate(
        "() => { const l = document.querySelector('#review-graph .js-plotly-plot')._fullLayout;"
        " return [l.xaxis.range, l.yaxis.range]; }"
    )

    def screen(x: float, y: float) -> tuple[float, float]:
        return (
            box["x"] + (x - x_low) * box["width"] / (x_high - x_low),
            box["y"] + (y - y_low) * box["height"] / (y_high - y_low),
        )

    page.mouse.move(*screen(*start))
    page.mouse.down()
    page.mouse.move(*screen(*end), steps=10)
    page.mouse.up()


def gold_column(page: Any) -> list[str]:
    return [row.get("gold", "") for row in units(page)]


def test_a_full_review_accept_fix_send_back_and_redo(browser, review_server) -> None:
    # alice draws her boxes with the mouse: cat on each image (label "cat" is the first)
    context, page, console = signed_in(browser, review_server, "alice")
    wait_for_image(page)
    for key, corners in (
        (ONE, (60, 60, 200, 180)),
        (TWO, (64, 62, 204, 184)),  # not the same drag twice: plotly would not re-fire
        (THREE, (100, 100, 200, 200)),
    ):
        wait_until(lambda key=key: shown_key(page) == key, what=f"{key} on screen")
        wait_rows(page, 0)
        draw_box(page, corners, 1)
        page.click("#next")
    wait_until(lambda: "No other image" in page.inner_text("#message"), what="the end")
    assert console.errors == []
    context.close()
    # a detector's boxes are imported after the people's work (image two only)
    store = AnnotationStore.from_url(f"sqlite:///{review_server.data_dir / 'annotations.db'}")
    store.sync_image(TWO, YOLO, [Annotation("yolo-1", TWO, YOLO, "cat", "rect", YOLO_BOX)])
    store.engine.dispose()

    # rita reviews
    context, page, console = signed_in(browser, review_server, "rita")
    page.get_by_role("tab", name="Review").click()
    wait_until(lambda: len(queue_names(page)) == 3, what="three images in the queue")
    assert queue_names(page) == ["img1.jpg|", "img2.jpg|", "img3.jpg|"]
    assert "3 waiting · 0 accepted · 0 needs rework" in page.inner_text("#review-counts")
    # ranked: a label disagreement (2) and a missed object (3) before full agreement (1)
    page.click("#review-rank")
    wait_until(lambda: "Ranked 3 image(s)" in page.inner_text("#review-rank-status"))
    wait_until(lambda: queue_names(page) == ["img2.jpg|", "img3.jpg|", "img1.jpg|"], what="rank")
    disagreement = page.locator("#review-queue .ag-row [col-id=disagreement]").all_inner_texts()
    assert sorted(disagreement) == ["0", "1", "1"]

    open_from_queue(page, "img1.jpg")
    wait_until(lambda: len(units(page)) == 1, what="one unit")
    [row] = units(page)
    assert (row["consensus"], row["support"], row["a0"], row["a1"], row["gold"]) == (
        "cat",
        "2 of 2",
        "cat",
        "cat",
        "—",
    )
    legend = page.evaluate(
        "() => Array.from(document.querySelectorAll('#review-graph .legendtext'))"
        ".map(t => t.textContent)"
    )
    assert legend == ["alice", "bob", "gold (solid, in its label's colour; editable)"]
    select_unit(page, "1")
    page.click("#review-accept-unit")
    wait_until(lambda: gold_column(page) == ["cat"], what="gold holds the consensus")
    assert "Gold saved (1 shape(s))" in page.inner_text("#review-save-status")
    # and draws, with the mouse, a dog everyone missed: gold gets it, as an added row
    page.click("#review-label")
    page.get_by_role("option", name="dog", exact=True).click()
    review_drag(page, (250, 200), (350, 280))
    wait_until(lambda: gold_column(page) == ["cat", "dog"], what="the drawn gold box")
    assert units(page)[1]["unit"] == "added"
    page.click("#review-accept")
    wait_until(lambda: "Accepted b/img1.jpg" in page.inner_text("#review-message"))
    wait_until(lambda: "Accepted by rita" in page.inner_text("#review-status"))
    wait_until(lambda: [n.split("|")[0] for n in queue_names(page)] == ["img2.jpg", "img3.jpg"])

    # the next image: alice says cat, bob says dog; the consensus tie goes to "cat", and
    # rita fixes the unit by taking bob's shape. The detector's box nobody drew is a row of
    # its own, in its column, with no consensus; rita takes it into gold too.
    page.click("#review-next")
    wait_until(lambda: page.inner_text("#review-title") == TWO, what="the next image")
    wait_until(
        lambda: len(units(page)) == 2 and units(page)[0]["a1"] == "dog" and "m0" in units(page)[1],
        what="units, with the detector's column",
    )
    detected = units(page)[1]
    assert (detected["consensus"], detected["support"], detected["a0"], detected["m0"]) == (
        "(none)",
        "0 of 2",
        "missed",
        "cat",
    )
    wait_until(
        lambda: (
            page.evaluate(
                "() => Array.from(document.querySelectorAll('#review-graph .legendtext'))"
                ".map(t => t.textContent)"
            )
            == ["alice", "bob", YOLO, "gold (solid, in its label's colour; editable)"]
        ),
        what="the detector named in the legend",
    )
    wait_until(
        lambda: page.locator("#review-graph .shapelayer path").count() == 3,
        what="alice's, bob's and the detector's boxes in the figure",
    )
    select_unit(page, "1")
    page.click("#review-take-who")
    page.get_by_role("option", name="bob", exact=True).click()
    page.click("#review-take")
    wait_until(lambda: gold_column(page) == ["dog", "—"], what="gold holds bob's dog")
    select_unit(page, "2")
    page.click("#review-take-who")
    page.get_by_role("option", name=YOLO, exact=True).click()
    page.click("#review-take")
    wait_until(lambda: gold_column(page) == ["dog", "cat"], what="gold holds the model's box")
    page.click("#review-accept")
    wait_until(lambda: "Accepted b/img2.jpg" in page.inner_text("#review-message"))

    # the third: alice missed bob's cat on the right; back to her, with a comment
    page.click("#review-next")
    wait_until(lambda: page.inner_text("#review-title") == THREE, what="the third image")
    wait_until(lambda: len(units(page)) == 2, what="two units")
    page.click("#review-rework")  # no comment, nobody chosen: refused, nothing recorded
    wait_until(lambda: "the comment is empty" in page.inner_text("#review-message"))
    page.fill("#review-comment", "You missed the cat on the right.")
    page.locator("#review-rework-who label", has_text="alice").click()
    page.click("#review-rework")
    wait_until(lambda: "Sent b/img3.jpg back to alice" in page.inner_text("#review-message"))
    wait_until(lambda: "You missed the cat on the right." in page.inner_text("#review-thread"))
    wait_until(lambda: "waiting for alice" in page.inner_text("#review-status"))
    wait_until(lambda: queue_names(page) == [], what="an empty queue")
    assert "0 waiting · 2 accepted · 1 needs rework" in page.inner_text("#review-counts")

    # alice comes back: Next reaches the image, with the comment shown
    context_a, page_a, console_a = signed_in(browser, review_server, "alice")
    wait_for_image(page_a)
    if shown_key(page_a) != THREE:
        page_a.click("#next")
    wait_until(lambda: shown_key(page_a) == THREE, what="the image sent back")
    notice = page_a.locator("#rework-notice")
    wait_until(lambda: notice.is_visible(), what="the rework notice")
    assert notice.inner_text() == "Sent back for rework by rita: You missed the cat on the right."
    wait_rows(page_a, 1)  # her first box is still there
    draw_box(page_a, (300, 200, 380, 280), 2)
    assert console_a.errors == []
    context_a.close()

    # the redone image is back in rita's queue
    page.click("#review-refresh")
    wait_until(lambda: queue_names(page) == ["img3.jpg|redone after rework"], what="img3 back")
    assert "1 waiting · 2 accepted · 0 needs rework" in page.inner_text("#review-counts")
    assert console.errors == []
    context.close()

    store = AnnotationStore.from_url(f"sqlite:///{review_server.data_dir / 'annotations.db'}")
    reviews = ReviewStore(store.engine)
    one, drawn = store.annotations_for(ONE, GOLD)
    assert (one.label, one.kind) == ("cat", "rect")
    assert one.coords == pytest.approx((61.0, 59.0, 199.0, 181.0), abs=3)  # the median box
    assert (drawn.label, drawn.kind) == ("dog", "rect")
    assert drawn.coords == pytest.approx((250.0, 200.0, 350.0, 280.0), abs=3)
    two, detected = store.annotations_for(TWO, GOLD)
    assert (two.label, two.coords) == ("dog", BOB[TWO][1])  # bob's shape, copied
    assert (detected.label, detected.coords) == ("cat", YOLO_BOX)  # the detector's, copied
    assert {e.actor for e in store.events(ONE, GOLD) + store.events(TWO, GOLD)} == {"rita"}
    exported = store.export_rows(GOLD)
    assert sorted((r.image_key, r.label) for r in exported.shapes) == [
        (ONE, "cat"),
        (ONE, "dog"),
        (TWO, "cat"),
        (TWO, "dog"),
    ]
    assert exported.statuses == {(ONE, GOLD): "done", (TWO, GOLD): "done"}
    statuses = {k: r.status for k, r in reviews.reviews_of([ONE, TWO, THREE]).items()}
    assert statuses == {
        ONE: ReviewStatus.ACCEPTED,
        TWO: ReviewStatus.ACCEPTED,
        THREE: ReviewStatus.REWORK,
    }
    [request] = reviews.rework_of(THREE)
    assert request.annotator == "alice" and not request.open  # her new pass closed it
    assert len(store.annotations_for(THREE, "alice")) == 2
    store.engine.dispose()


def test_an_annotator_has_no_review_tab(browser, review_server) -> None:
    context, page, console = signed_in(browser, review_server, "alice")
    wait_for_image(page)
    assert page.get_by_role("tab", name="Review").count() == 0
    assert page.locator("#review-queue").count() == 0
    # a gallery click aimed at the review view fires no review callback for her (their
    # outputs are not in her page): no refused request, no console error
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    page.evaluate(
        "() => window.dash_clientside.set_props('open-image-store', {data: "
        "{key: 'b/img1.jpg', batch: 'b', index: 0, view: 'review'}})"
    )
    page.wait_for_timeout(1500)
    assert refused == []
    assert console.errors == []
    context.close()
