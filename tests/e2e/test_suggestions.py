"""Suggest in a real browser with the built-in NanoDet on the sample photos: the model's
dashed outline and its row, accepted into the labeler's own grid, relabelled there, another
one rejected, and the accepted shape still there after a reload."""

from __future__ import annotations

import uuid

from storage.annotation_store import AnnotationStore
from tests.e2e.helpers import (
    rows,
    shape_strokes,
    sign_in,
    wait_for_address,
    wait_for_image,
    wait_rows,
    wait_until,
)

PERSON = "rgb(230, 159, 0)"  # #E69F00, the first default label's colour
ANIMAL = "rgb(86, 180, 233)"  # #56B4E9, the second
# NanoDet's person on the astronaut (see the nanodet tests): x0, y0, x1, y1 in image pixels
ASTRONAUT_PERSON = (16.2, 15.0, 364.6, 508.0)


def dashed_outlines(page) -> list[str]:
    """The captions of the figure's dashed traces: the suggestions drawn over the image."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#graph .scatterlayer .trace'))"
        ".filter(t => { const l = t.querySelector('path.js-line');"
        " return l && getComputedStyle(l).strokeDasharray !== 'none'; })"
        ".map(t => Array.from(t.querySelectorAll('text')).map(x => x.textContent).join(''))"
    )


def suggestion_rows(page) -> list[str]:
    """The suggestions list's rows as 'label score'."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#suggest-list .suggestion-row'))"
        ".map(r => r.querySelector('.suggest-label').innerText + ' '"
        " + r.querySelector('.suggest-score').innerText)"
    )


def decide(page, label: str, button: str) -> None:
    """Press Accept or Reject in the row of the suggestion with that label."""
    row = page.locator("#suggest-list .suggestion-row", has_text=label)
    row.get_by_role("button", name=button).click()


def test_suggest_accept_relabel_reject_and_reload(page, app_server):
    name = f"suggest-{uuid.uuid4().hex[:6]}"
    sign_in(page, name)
    page.locator("body").press("s")  # the key, as the button's title says
    wait_until(lambda: suggestion_rows(page) == ["person 0.74"], what="the person suggestion")
    wait_until(lambda: dashed_outlines(page) == ["person 0.74"], what="its dashed outline")
    assert rows(page) == [] and shape_strokes(page) == []  # not the labeler's shape yet
    status = page.inner_text("#suggest-status")
    assert status.startswith("1 suggestion by nanodet@") and "found now" in status

    decide(page, "person", "Accept")
    row = wait_rows(page, 1)[0]
    assert (row["label"], row["kind"]) == ("person", "rect")
    box = [float(row[c]) for c in ("x0", "y0", "x1", "y1")]
    assert all(abs(a - e) <= 0.1 for a, e in zip(box, ASTRONAUT_PERSON, strict=True)), box
    wait_until(lambda: suggestion_rows(page) == [], what="the row gone from the list")
    wait_until(lambda: dashed_outlines(page) == [], what="the outline gone")
    wait_until(lambda: shape_strokes(page) == [PERSON], what="the labeler's own shape")

    page.locator("#grid .ag-center-cols-container .ag-row .ag-cell[col-id='label']").dblclick()
    page.locator("#grid .ag-cell-inline-editing .ag-picker-field-wrapper").click()
    page.locator(".ag-select-list .ag-list-item").get_by_text("animal", exact=True).click()
    wait_until(lambda: rows(page)[0]["label"] == "animal", what="label animal in the grid")
    wait_until(lambda: shape_strokes(page) == [ANIMAL], what="the shape recoloured")

    page.click("#next")  # chelsea: person 0.57 above the default min score 0.5
    wait_until(lambda: page.inner_text("#position-text").startswith("2 of"))
    wait_rows(page, 0)
    wait_until(lambda: page.inner_text("#suggest-status") == "", what="the old list cleared")
    page.click("#suggest-button")
    wait_until(lambda: suggestion_rows(page) == ["person 0.57"], what="chelsea's suggestion")
    decide(page, "person", "Reject")
    wait_until(lambda: suggestion_rows(page) == [], what="the rejected row gone")
    wait_until(lambda: dashed_outlines(page) == [], what="the rejected outline gone")
    assert rows(page) == []

    page.click("#prev")
    wait_until(lambda: page.inner_text("#position-text").startswith("1 of"))
    wait_for_address(page)
    page.reload()
    wait_for_image(page)
    kept = wait_rows(page, 1)[0]
    assert kept["label"] == "animal"
    wait_until(lambda: shape_strokes(page) == [ANIMAL], what="the accepted shape after reload")
    page.click("#suggest-button")  # decided already: not offered again
    wait_until(
        lambda: page.inner_text("#suggest-status").startswith("No suggestions (left)"),
        what="nothing left to suggest",
    )
    assert dashed_outlines(page) == []

    store = AnnotationStore.from_url(f"sqlite:///{app_server.data_dir / 'annotations.db'}")
    try:
        [shape] = store.annotations_for("01-astronaut.jpg", name)
        assert shape.source.startswith("model:nanodet@") and shape.source.endswith("+edited")
        assert shape.score is not None and abs(shape.score - 0.74) < 0.01
        accepted = [e for e in store.events("01-astronaut.jpg", name) if e.action == "accept"]
        rejected = [e for e in store.events("02-chelsea.jpg", name) if e.action == "reject"]
        assert [e.after for e in accepted] == [{"id": shape.id}]
        assert [e.before["label"] for e in rejected] == ["person"]
    finally:
        store.engine.dispose()
