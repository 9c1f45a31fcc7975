"""The other drawing tools, zoom that survives updates, selection, the jump selector."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import (
    axis_ranges,
    choose_tool,
    drag,
    rows,
    shape_styles,
    sign_in,
    to_screen,
    wait_for_image,
    wait_rows,
    wait_until,
)


def test_circle_line_and_open_path(page):
    sign_in(page, f"tools-{uuid.uuid4().hex[:6]}")
    choose_tool(page, "Draw circle")
    drag(page, [(50, 50), (150, 130)])
    choose_tool(page, "Draw line")
    drag(page, [(200, 300), (400, 380)])
    choose_tool(page, "Draw open freeform")
    drag(page, [(300, 60), (360, 90), (420, 60)])
    drawn = wait_rows(page, 3)
    assert [r["kind"] for r in drawn] == ["circle", "line", "path"]
    line = [float(drawn[1][c]) for c in ("x0", "y0", "x1", "y1")]
    assert all(abs(a - e) <= 2.5 for a, e in zip(line, [200, 300, 400, 380], strict=True)), line
    assert len(drawn[2]["points"].split("; ")) >= 2


def test_zoom_survives_drawing_and_selection_highlights_the_shape(page):
    sign_in(page, f"zoom-{uuid.uuid4().hex[:6]}")
    full = axis_ranges(page)
    page.mouse.move(*to_screen(page, 256, 256))
    page.mouse.wheel(0, -300)
    zoomed = wait_until(lambda: (r := axis_ranges(page)) != full and r, what="zoom")
    drag(page, [(230, 230), (280, 270)])
    wait_rows(page, 1)
    page.wait_for_timeout(500)  # let the figure update arrive
    assert axis_ranges(page) == zoomed
    assert shape_styles(page, "strokeWidth") == ["2px"]
    page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='kind']").click()
    wait_until(
        lambda: shape_styles(page, "strokeWidth") == ["4px"],
        what="the selected shape drawn thicker",
    )
    assert axis_ranges(page) == zoomed


def test_jump_selector_and_no_shortcuts_while_typing(page):
    sign_in(page, f"jump-{uuid.uuid4().hex[:6]}")
    drag(page, [(40, 40), (140, 120)])
    wait_rows(page, 1)
    cell = page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='y1']")
    cell.dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type("150")  # '1' must not pick a label, nor 'n' go next
    page.keyboard.press("Enter")
    wait_until(lambda: rows(page)[0]["y1"] == "150", what="y1 = 150")
    assert page.inner_text("#position-text").startswith("1 of")
    page.click("#jump")
    page.get_by_role("option", name="6. 06-coins.jpg").click()
    wait_until(lambda: "06-coins.jpg" in page.inner_text("#position-text"), what="jump to coins")
    wait_for_image(page)
    wait_rows(page, 0)
