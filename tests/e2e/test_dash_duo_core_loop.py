"""The core loop through dash[testing]'s dash_duo (selenium, Debian's headless Chromium):
say who you are, draw a rectangle with the mouse, see its row, go to the next image and
back, then come back with a wiped browser and find the shape kept by the server.

The app runs as the README runs it (`python app.py` in a subprocess with its own DATA_DIR
and port, stopped by its PID), and dash_duo only drives the browser: app.py builds the app
from the environment at import time and installs process-wide services, so starting it
in this process with `dash_duo.start_server(app)` would tie it to whichever test imported
app.py first and leave its server thread behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from components import ids
from tests.e2e.helpers import wait_until
from tests.servers import AppServer

SURFACE = f"#{ids.GRAPH} .draglayer .xy .nsewdrag"
IMAGE = f"#{ids.GRAPH} .imagelayer image"
BOX = (100.0, 120.0, 300.0, 260.0)  # x0, y0, x1, y1 in the image's own pixels


@pytest.fixture
def concord(tmp_path: Path) -> Iterator[AppServer]:
    """`python app.py` with no configuration but its own data folder (8 sample photos)."""
    server = AppServer(tmp_path / "data").start()
    yield server
    server.stop()


def text(dash_duo: Any, selector: str) -> str:
    """What the page shows in an element ('' if it is not there)."""
    found = dash_duo.driver.find_elements("css selector", selector)
    return found[0].text if found else ""


def sign_in(dash_duo: Any, name: str) -> None:
    """Type a name into the 'who is annotating' dialog and wait for an image."""
    dash_duo.wait_for_element(f"#{ids.NAME_INPUT}").send_keys(name)
    dash_duo.find_element(f"#{ids.NAME_SAVE}").click()
    dash_duo.wait_for_contains_text(f"#{ids.ANNOTATOR_BADGE}", name)
    dash_duo.wait_for_element(IMAGE, timeout=20)


def image_href(dash_duo: Any) -> str:
    """The URL of the picture the figure shows."""
    return str(dash_duo.find_element(IMAGE).get_attribute("href"))


def grid_rows(dash_duo: Any) -> list[dict[str, str]]:
    """The annotation grid's rows as {column: text}, top to bottom."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll("
        f"'#{ids.GRID} .ag-center-cols-container .ag-row'))"
        ".sort((a, b) => Number(a.getAttribute('row-index')) -"
        " Number(b.getAttribute('row-index')))"
        ".map(r => Object.fromEntries(Array.from(r.querySelectorAll('.ag-cell'))"
        ".map(c => [c.getAttribute('col-id'), c.innerText.trim()])))"
    )


def wait_rows(dash_duo: Any, count: int) -> list[dict[str, str]]:
    """Wait until the grid shows exactly count rows, and return them."""
    seen: list[dict[str, str]] = []

    def shows_count() -> bool:
        seen[:] = grid_rows(dash_duo)
        return len(seen) == count

    wait_until(shows_count, what=f"{count} row(s) in the grid")
    return seen


def drawn_shapes(dash_duo: Any) -> int:
    """How many shapes the figure draws over the image."""
    return len(dash_duo.find_elements(f"#{ids.GRAPH} .shapelayer path[data-index]"))


def surface_box(dash_duo: Any) -> list[float]:
    """The plot surface's box on screen and the image size its axes span, in pixels."""
    return dash_duo.driver.execute_script(
        "const s = document.querySelector(arguments[0]); s.scrollIntoView({block: 'center'});"
        "const box = s.getBoundingClientRect();"
        f"const l = document.querySelector('#{ids.GRAPH} .js-plotly-plot')._fullLayout;"
        "return [box.left, box.top, box.width, box.height,"
        " Math.abs(l.xaxis.range[1] - l.xaxis.range[0]),"
        " Math.abs(l.yaxis.range[0] - l.yaxis.range[1])];",
        SURFACE,
    )


def settled_box(dash_duo: Any) -> list[float]:
    """surface_box() once it holds still: the page shifts a few pixels as it fills in
    (the grid, a scroll bar), and a shift in mid-drag would move the shape."""

    def unchanged() -> list[float] | None:
        before = surface_box(dash_duo)
        time.sleep(0.3)
        return before if surface_box(dash_duo) == before else None

    return wait_until(unchanged, what="the figure to stop moving")


def drag(dash_duo: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at one image pixel, move to another in small steps, release (the mouse draws).
    Offsets are taken from the surface's centre, which means the same in every selenium."""
    _, _, width, height, image_width, image_height = settled_box(dash_duo)

    def from_centre(x: float, y: float) -> tuple[int, int]:
        return (
            round(x * width / image_width - width / 2),
            round(y * height / image_height - height / 2),
        )

    steps = 10
    points = [
        from_centre(
            start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps
        )
        for i in range(steps + 1)
    ]
    chain = ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element(SURFACE))
    chain.move_by_offset(*points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


def box_of(row: dict[str, str]) -> tuple[float, ...]:
    """A rectangle's corners as the grid shows them."""
    return tuple(float(row[column]) for column in ("x0", "y0", "x1", "y1"))


def near(found: tuple[float, ...], wanted: tuple[float, ...], pixels: float = 2.5) -> bool:
    """Equal within plotly's drag threshold and screen rounding."""
    return all(abs(a - b) <= pixels for a, b in zip(found, wanted, strict=True))


def test_draw_next_back_and_a_fresh_browser_keep_the_shape(
    dash_duo: Any, concord: AppServer
) -> None:
    name = f"duo-{uuid.uuid4().hex[:6]}"
    dash_duo.server_url = concord.url  # opens the page, waits for Dash to render
    sign_in(dash_duo, name)
    wait_until(lambda: text(dash_duo, f"#{ids.POSITION_TEXT}").startswith("1 of 8"))
    first_image = image_href(dash_duo)

    drag(dash_duo, BOX[:2], BOX[2:])

    (row,) = wait_rows(dash_duo, 1)
    assert (row["label"], row["kind"]) == ("person", "rect")
    assert near(box_of(row), BOX), row
    assert drawn_shapes(dash_duo) == 1
    dash_duo.wait_for_contains_text(f"#{ids.SAVE_STATUS}", "All changes saved")

    dash_duo.find_element(f"#{ids.NEXT}").click()
    wait_until(lambda: text(dash_duo, f"#{ids.POSITION_TEXT}").startswith("2 of 8"))
    wait_until(lambda: image_href(dash_duo) != first_image, what="another image")
    assert wait_rows(dash_duo, 0) == []
    assert drawn_shapes(dash_duo) == 0

    dash_duo.find_element(f"#{ids.PREV}").click()
    wait_until(lambda: text(dash_duo, f"#{ids.POSITION_TEXT}").startswith("1 of 8"))
    assert wait_rows(dash_duo, 1) == [row]
    wait_until(lambda: image_href(dash_duo) == first_image, what="the first image again")

    # A browser with nothing stored (no name, no cached records): only the server has it.
    dash_duo.driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")
    dash_duo.driver.delete_all_cookies()
    dash_duo.wait_for_page()
    sign_in(dash_duo, name)
    wait_until(lambda: text(dash_duo, f"#{ids.POSITION_TEXT}").startswith("1 of 8"))
    (kept,) = wait_rows(dash_duo, 1)
    assert box_of(kept) == box_of(row) and kept["label"] == "person"
    wait_until(lambda: drawn_shapes(dash_duo) == 1, what="the shape over the image")

    assert dash_duo.get_logs() == []
