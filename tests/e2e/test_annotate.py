"""A labeler in a real browser: draw with the mouse, edit in the grid, page, reload."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import (
    choose_tool,
    drag,
    message,
    rows,
    shape_strokes,
    sign_in,
    to_screen,
    wait_for_address,
    wait_for_image,
    wait_rows,
    wait_until,
)

PERSON = "rgb(230, 159, 0)"  # #E69F00, the first default label's colour
ANIMAL = "rgb(86, 180, 233)"  # #56B4E9, the second


def new_name() -> str:
    return f"tester-{uuid.uuid4().hex[:6]}"


def coords(row: dict[str, str]) -> list[float]:
    return [float(row[c]) for c in ("x0", "y0", "x1", "y1")]


def close_to(actual: list[float], expected: list[float], tolerance: float = 2.5) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def draw_rect(page, box=(100, 120, 300, 260)) -> dict[str, str]:
    before = len(rows(page))
    drag(page, [(box[0], box[1]), (box[2], box[3])])
    return wait_rows(page, before + 1)[-1]


def test_draw_a_rectangle_and_see_its_row(page):
    sign_in(page, new_name())
    row = draw_rect(page)
    assert row["label"] == "person" and row["kind"] == "rect"
    assert close_to(coords(row), [100, 120, 300, 260]), row
    assert shape_strokes(page) == [PERSON]
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))
    # Each column but the points shows its whole text (no "22…" for a corner).
    assert cut_cells(page) == [], row


def cut_cells(page) -> list[str]:
    """The grid cells (but points, cut on purpose: its tooltip shows all) whose text does
    not fit."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#grid .ag-center-cols-container .ag-cell'))"
        ".filter(c => c.getAttribute('col-id') !== 'points')"
        ".filter(c => { const v = c.querySelector('.ag-cell-value') || c;"
        " return v.scrollWidth > v.clientWidth + 1; })"
        ".map(c => c.getAttribute('col-id') + ': ' + c.innerText)"
    )


def test_draw_a_polygon(page):
    sign_in(page, new_name())
    choose_tool(page, "Draw closed freeform")
    drag(page, [(150, 150), (350, 160), (300, 350), (160, 300)])
    row = wait_rows(page, 1)[0]
    assert row["kind"] == "polygon"
    assert cut_cells(page) == [], row
    points = [tuple(map(float, p.split(","))) for p in row["points"].split("; ")]
    assert len(points) >= 3
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert abs(min(xs) - 150) < 4 and abs(max(xs) - 350) < 4
    assert abs(min(ys) - 150) < 4 and abs(max(ys) - 350) < 4


def test_label_key_then_draw_uses_that_label(page):
    sign_in(page, new_name())
    page.locator("body").press("2")
    wait_until(lambda: shape_strokes(page) == [] and "animal" in selected_label(page))
    row = draw_rect(page)
    assert row["label"] == "animal"
    assert shape_strokes(page) == [ANIMAL]


def selected_label(page) -> str:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.label-button'))"
        ".filter(b => !b.className.includes('outline')).map(b => b.innerText).join(',')"
    )


def test_change_label_in_grid_recolours_shape(page):
    sign_in(page, new_name())
    draw_rect(page)
    page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='label']").dblclick()
    page.locator("#grid .ag-cell-inline-editing .ag-picker-field-wrapper").click()
    page.locator(".ag-select-list .ag-list-item").get_by_text("animal", exact=True).click()
    wait_until(lambda: rows(page)[0]["label"] == "animal", what="label animal in grid")
    wait_until(lambda: shape_strokes(page) == [ANIMAL], what="shape recoloured")


def test_move_shape_updates_its_row(page):
    sign_in(page, new_name())
    original = coords(draw_rect(page))
    # Click the left border once to activate the shape, then drag that border's middle.
    left_middle = (original[0], (original[1] + original[3]) / 2)
    page.mouse.click(*to_screen(page, *left_middle))
    drag(page, [left_middle, (left_middle[0] + 60, left_middle[1] + 40)])
    expected = [original[0] + 60, original[1] + 40, original[2] + 60, original[3] + 40]
    wait_until(
        lambda: close_to(coords(rows(page)[0]), expected),
        what=f"the row to follow the shape to {expected}",
    )
    assert len(rows(page)) == 1


def test_edit_coordinate_in_grid_moves_shape_and_bad_value_is_explained(page):
    sign_in(page, new_name())
    draw_rect(page)
    cell = page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='x1']")
    cell.dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type("400")
    page.keyboard.press("Enter")
    wait_until(lambda: rows(page)[0]["x1"] == "400", what="x1 = 400")
    wait_until(
        lambda: (
            page.evaluate(
                "() => document.querySelector('#graph .js-plotly-plot').layout.shapes[0].x1"
            )
            == 400
        ),
        what="the shape's right edge at x = 400",
    )
    cell.dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    wait_until(lambda: "not a number" in message(page), what="a message about 'abc'")
    wait_until(lambda: rows(page)[0]["x1"] == "400", what="the old value back")


def test_delete_row_removes_shape(page):
    sign_in(page, new_name())
    draw_rect(page)
    page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='kind']").click()
    page.click("#delete-rows")
    wait_rows(page, 0)
    wait_until(lambda: shape_strokes(page) == [], what="shape gone")


def test_next_and_back_restores_shapes_and_reload_keeps_them(page):
    sign_in(page, new_name())
    first = coords(draw_rect(page))
    page.click("#next")
    wait_until(lambda: page.inner_text("#position-text").startswith("2 of"))
    wait_rows(page, 0)
    page.click("#prev")
    wait_until(lambda: page.inner_text("#position-text").startswith("1 of"))
    assert close_to(coords(wait_rows(page, 1)[0]), first, 0.01)
    assert shape_strokes(page) == [PERSON]
    wait_for_address(page)
    page.reload()
    wait_for_image(page)
    assert close_to(coords(wait_rows(page, 1)[0]), first, 0.01)
    wait_until(lambda: shape_strokes(page) == [PERSON], what="shape after reload")


def test_keys_page_through_and_no_objects_skip_count_in_progress(page):
    sign_in(page, new_name())
    page.locator("body").press("n")
    wait_until(lambda: page.inner_text("#position-text").startswith("2 of"))
    page.locator("body").press("ArrowLeft")
    wait_until(lambda: page.inner_text("#position-text").startswith("1 of"))
    page.click("#no-objects")
    wait_until(lambda: page.inner_text("#position-text").startswith("2 of"))
    page.click("#skip")
    wait_until(lambda: page.inner_text("#position-text").startswith("3 of"))
    wait_until(
        lambda: (
            "1 of 8 images done" in page.inner_text("#progress-text")
            and "1 skipped" in page.inner_text("#progress-text")
        ),
        what="progress text",
    )


def test_annotate_view_is_blind(page, browser, app_server):
    first = new_name()
    sign_in(page, first)
    draw_rect(page)
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(app_server.url)
    sign_in(other, new_name())
    assert rows(other) == [] and shape_strokes(other) == []
    other.context.close()
    # Changing name in the same browser shows that name's shapes only, and back again.
    page.click("#change-name")
    sign_in(page, new_name())
    wait_rows(page, 0)
    assert shape_strokes(page) == []
    page.click("#change-name")
    sign_in(page, first)
    wait_rows(page, 1)
    wait_until(lambda: shape_strokes(page) == [PERSON], what="first annotator's shape back")


def test_resize_by_a_corner_updates_the_row(page):
    sign_in(page, new_name())
    x0, y0, x1, y1 = coords(draw_rect(page))
    page.mouse.click(*to_screen(page, x0, (y0 + y1) / 2))  # select it by its border
    drag(page, [(x1, y1), (x1 + 50, y1 + 30)])  # pull the bottom-right corner
    wait_until(
        lambda: close_to(coords(rows(page)[0]), [x0, y0, x1 + 50, y1 + 30]),
        what="the row to follow the resized corner",
    )
