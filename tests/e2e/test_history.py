"""One annotator in two windows never silently loses an edit; undo and the history panel."""

from __future__ import annotations

from tests.e2e.helpers import ConsoleLog, drag, message, rows, sign_in, wait_rows, wait_until
from tests.e2e.test_annotate import close_to, coords, draw_rect, new_name


def type_in_cell(page, column: str, value: str) -> None:
    cell = page.locator(f"#grid .ag-center-cols-container .ag-row .ag-cell[col-id='{column}']")
    cell.first.dblclick()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def saved(page) -> None:
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")


def test_an_edit_from_a_second_window_is_refused_with_a_notice(page, browser, app_server):
    name = new_name()
    sign_in(page, name)
    draw_rect(page)
    saved(page)
    # The same annotator opens a second window (another browser profile) on the same image.
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.set_default_timeout(15_000)
    other_console = ConsoleLog(other)
    other.goto(app_server.url)
    sign_in(other, name)
    wait_rows(other, 1)

    type_in_cell(page, "x1", "420")  # the first window moves the right edge...
    wait_until(lambda: close_to([coords(rows(page)[0])[2]], [420]), what="first edit")
    saved(page)
    type_in_cell(other, "x1", "380")  # ...then the second, which still shows the old shape

    wait_until(
        lambda: "changed in another tab or window" in message(other),
        what="the conflict notice in the banner",
    )
    assert "changed in another tab or window" in other.inner_text("#save-status")
    wait_until(
        lambda: close_to([coords(rows(other)[0])[2]], [420]),
        what="the second window to show the first window's edit",
    )
    page.reload()
    wait_rows(page, 1)
    assert close_to([coords(rows(page)[0])[2]], [420])  # the stored shape: nothing lost
    assert other_console.errors == []
    other.context.close()


def test_undo_puts_back_the_last_change_and_the_history_lists_it(page):
    sign_in(page, new_name())
    original = coords(draw_rect(page))
    saved(page)
    type_in_cell(page, "x1", "400")
    wait_until(lambda: close_to([coords(rows(page)[0])[2]], [400]), what="edit applied")
    saved(page)

    page.click("#history-open")
    wait_until(
        lambda: "moved or reshaped the person rect" in page.inner_text("#history-list"),
        what="the edit in the history",
    )
    assert "drew a person rect" in page.inner_text("#history-list")

    page.click("#history-undo")
    wait_until(lambda: close_to(coords(rows(page)[0]), original), what="the edit undone")
    saved(page)
    page.click("#history-undo")
    wait_rows(page, 0)
    wait_until(
        lambda: page.inner_text("#history-list").count("undo:") >= 2, what="undos in history"
    )
    page.click("#history-undo")
    wait_until(lambda: "no change of yours on this image to undo" in message(page))
    # Drawing again after undoing works as usual.
    drag(page, [(150, 150), (250, 250)])
    wait_rows(page, 1)
    saved(page)


def test_the_history_downloads_as_csv_from_the_export_panel(page, tmp_path):
    name = new_name()
    sign_in(page, name)
    draw_rect(page)
    saved(page)
    page.click("#exchange-open")
    page.wait_for_selector("#export-history", state="visible")
    with page.expect_download(timeout=30_000) as download:
        page.click("#export-history")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    mine = [line for line in target.read_text().splitlines() if f",{name}," in line]
    assert target.name == "concord-history.csv"
    assert [line.split(",")[5] for line in mine] == ["create", "status"]
