"""An admin edits the project's label set in the Admin tab: a rename carries the stored
shapes along, a retired label is offered no more but stays on its shapes, a label's own
key picks it, and its description is its button's tooltip."""

from __future__ import annotations

from tests.e2e.helpers import drag, rows, sign_in, wait_for_image, wait_rows, wait_until

GRID = "#admin-labels-grid .ag-center-cols-container"


def label_rows(page) -> dict[str, dict[str, str]]:
    found = page.evaluate(
        f"() => Array.from(document.querySelectorAll('{GRID} .ag-row')).map(r =>"
        " Object.fromEntries(Array.from(r.querySelectorAll('.ag-cell')).map(c =>"
        " [c.getAttribute('col-id'), c.innerText.trim()])))"
    )
    return {row["name"]: row for row in found}


def select(page, name: str) -> None:
    page.locator(f"{GRID} .ag-row[row-id='{name}'] .ag-cell[col-id='name']").click()


def edit_cell(page, name: str, column: str, text: str) -> None:
    page.locator(f"{GRID} .ag-row[row-id='{name}'] .ag-cell[col-id='{column}']").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def result(page) -> str:
    return page.inner_text("#admin-labels-result")


def label_buttons(page) -> list[str]:
    return [t.split(" ", 1)[-1].strip() for t in page.locator(".label-button").all_inner_texts()]


def test_rename_retire_key_and_description_reach_the_annotate_page(page):
    sign_in(page, "labeller")
    drag(page, [(60, 70), (200, 180)])  # a person (the first label)
    assert wait_rows(page, 1)[0]["label"] == "person"
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))

    page.locator(".nav-link", has_text="Admin").click()
    wait_until(lambda: label_rows(page).get("person", {}).get("shapes") == "1", what="counts")
    select(page, "person")
    page.fill("#admin-labels-rename-to", "animal")  # another label's name: refused
    page.click("#admin-labels-rename")
    wait_until(lambda: "would become one" in result(page), what="the merge refused")
    page.fill("#admin-labels-rename-to", "human")
    page.click("#admin-labels-rename")
    wait_until(lambda: "1 stored shape(s) followed" in result(page), what="the rename")
    assert label_rows(page)["human"]["shapes"] == "1"

    select(page, "animal")
    page.click("#admin-labels-retire")
    wait_until(lambda: label_rows(page)["animal"]["state"] == "retired", what="retired")
    edit_cell(page, "vehicle", "hotkey", "v")
    wait_until(lambda: label_rows(page)["vehicle"]["key"] == "v", what="the new key")
    edit_cell(page, "food", "description", "Anything edible, packaged or not.")
    wait_until(lambda: "Saved food" in result(page), what="the description saved")

    page.reload()
    wait_for_image(page)
    assert label_buttons(page) == ["human", "vehicle", "food", "object"]
    assert wait_rows(page, 1)[0]["label"] == "human"  # the old shape followed the rename
    food = page.locator(".label-button", has_text="food")
    assert food.get_attribute("title") == "Anything edible, packaged or not. · Key 3"
    page.locator("#graph").hover()
    page.keyboard.press("v")
    vehicle = page.locator(".label-button", has_text="vehicle")
    wait_until(
        lambda: "rgb(255, 255, 255)" in vehicle.evaluate("b => getComputedStyle(b).color"),
        what="the v key picks vehicle",
    )
    assert rows(page)[0]["label"] == "human"
