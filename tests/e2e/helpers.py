"""What a labeler does in the browser, as small functions over a Playwright page."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SURFACE = "#graph .draglayer .xy .nsewdrag"


class ConsoleLog:
    """Collects console errors and uncaught exceptions of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


def wait_until(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    """Poll check() until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # the page may be mid-render
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.15)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


def sign_in(page: Any, name: str, press_enter: bool = False, image: bool = True) -> None:
    """Type a name into the 'who is annotating' dialog; by default wait for the image."""
    page.wait_for_selector("#name-input", state="visible")
    page.fill("#name-input", name)
    if press_enter:
        page.press("#name-input", "Enter")
    else:
        page.click("#name-save")
    page.wait_for_selector("#name-modal", state="hidden")
    wait_until(lambda: name in page.inner_text("#annotator-badge"), what="name in header")
    if image:
        wait_for_image(page)


def wait_for_image(page: Any) -> None:
    """Wait until the figure shows an image (a layout image with a source)."""
    wait_until(
        lambda: page.evaluate(
            "() => { const gd = document.querySelector('#graph .js-plotly-plot');"
            " return !!(gd && gd.layout && gd.layout.images && gd.layout.images.length"
            " && document.querySelector('#graph .imagelayer image')); }"
        ),
        what="the image in the figure",
    )


def axis_ranges(page: Any) -> list[list[float]]:
    """The figure's current x and y axis ranges (they change with zoom and pan)."""
    return page.evaluate(
        "() => { const l = document.querySelector('#graph .js-plotly-plot')._fullLayout;"
        " return [l.xaxis.range, l.yaxis.range]; }"
    )


def image_size(page: Any) -> tuple[float, float]:
    """The image's size in original pixels, as the unzoomed figure's axes span it."""
    x_range, y_range = axis_ranges(page)
    return abs(x_range[1] - x_range[0]), abs(y_range[0] - y_range[1])


def to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Screen position of an image pixel, from the plot surface's measured box."""
    page.locator(SURFACE).scroll_into_view_if_needed()
    box = page.locator(SURFACE).bounding_box()
    width, height = image_size(page)
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def drag(page: Any, points: list[tuple[float, float]], steps: int = 10) -> None:
    """Press at the first image point, move through the others, release."""
    page.mouse.move(*to_screen(page, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*to_screen(page, *point), steps=steps)
    page.mouse.up()


def choose_tool(page: Any, title: str) -> None:
    """Click a modebar button by its title (e.g. 'Draw closed freeform') until plotly
    marks it active: a click landing while the figure re-renders after a save can be lost."""
    button = f'#graph .modebar-btn[data-title="{title}"]'
    for _ in range(5):
        page.locator(button).click()
        try:
            page.wait_for_selector(f"{button}.active", timeout=2000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: click again
            continue
    raise AssertionError(f"the {title!r} tool never became active")


def rows(page: Any) -> list[dict[str, str]]:
    """The grid's rows as {column: text}."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#grid .ag-center-cols-container .ag-row'))"
        ".sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))"
        ".map(r => Object.fromEntries(Array.from(r.querySelectorAll('.ag-cell'))"
        ".map(c => [c.getAttribute('col-id'), c.innerText.trim()])))"
    )


def wait_rows(page: Any, count: int) -> list[dict[str, str]]:
    """Wait until the grid shows exactly count rows, drawn (every row's kind is written:
    the grid fills a new row's cells a moment after the row), and return them."""
    found: list[list[dict[str, str]]] = []

    def check() -> bool:
        found[:] = [rows(page)]
        return len(found[0]) == count and all(row.get("kind") for row in found[0])

    wait_until(check, what=f"{count} rows in the grid")
    return found[0]


def shape_styles(page: Any, prop: str) -> list[str]:
    """One computed style property (e.g. 'stroke') of each shape the figure draws."""
    return page.evaluate(
        "prop => Array.from(document.querySelectorAll('#graph .shapelayer path[data-index]'))"
        ".map(p => getComputedStyle(p)[prop])",
        prop,
    )


def shape_strokes(page: Any) -> list[str]:
    """The stroke colours of the shapes the figure draws."""
    return shape_styles(page, "stroke")


def message(page: Any) -> str:
    """The text of the message banner ('' when hidden)."""
    banner = page.locator("#message")
    return banner.inner_text() if banner.count() and banner.is_visible() else ""


def open_signed_in(browser: Any, url: str, name: str, password: str) -> tuple[Any, Any, Any]:
    """A fresh browser profile signed in through the sign-in form: (context, page, console
    log); the page is on the app once the header names the account."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(url)
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#signin-button")
    page.wait_for_selector("#signed-in-as")
    return context, page, console


def wait_for_address(page: Any) -> None:
    """Wait until the address names the image shown (?image=): the page writes it just
    after a move, and a reload opens the image the address names."""
    wait_until(
        lambda: page.evaluate(
            "() => { const text = document.getElementById('position-text').innerText;"
            " const name = text.split(' · ').pop().trim();"
            " const key = new URLSearchParams(window.location.search).get('image') || '';"
            " return !!name && (key === name || key.endsWith('/' + name)); }"
        ),
        what="the address to name the image shown",
    )
