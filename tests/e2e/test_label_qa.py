"""The label QA grid in a real browser: an annotator draws boxes with the mouse, finds them
as crops under their label, relabels two in one action and sees them leave the page; a
reviewer's relabel of an annotator's shape lands on gold and leaves the annotator's shape
as it was."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from storage.annotation_store import AnnotationStore
from tests.e2e.helpers import (
    drag,
    open_signed_in,
    rows,
    shape_strokes,
    wait_for_image,
    wait_rows,
    wait_until,
)
from tests.e2e.test_exchange_panel import choose
from tests.servers import AppServer

PASSWORD = "long enough password"
ANIMAL = "rgb(86, 180, 233)"  # #56B4E9, the second default label's colour
BOXES = [(60, 60, 160, 140), (220, 80, 320, 200), (100, 250, 240, 330)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("label-qa")
    users = root / "users.toml"
    for name, role in (("ann", Role.ANNOTATOR), ("bea", Role.ANNOTATOR), ("rita", Role.REVIEWER)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    env = {"USERS_FILE": str(users), "SECRET_KEY": "q" * 32}
    app = AppServer(root / "data", env=env).start()
    yield app
    app.stop()


@pytest.fixture()
def signed_in(browser, server: AppServer):
    """Open a fresh browser profile signed in as a name; the console must stay clean."""
    opened = []

    def open_as(name: str):
        context, page, console = open_signed_in(browser, server.url, name, PASSWORD)
        wait_for_image(page)
        opened.append((context, console))
        return page

    yield open_as
    for context, console in opened:
        context.close()
        assert console.errors == [], f"browser console errors: {console.errors}"


def store_of(server: AppServer) -> AnnotationStore:
    return AnnotationStore.from_url(f"sqlite:///{server.data_dir / 'annotations.db'}")


def cards(page) -> list[dict[str, object]]:
    """The cards on the page: annotator, image name, selected, crop loaded."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#qa-grid .qa-card')).map(c => ({"
        " who: c.querySelector('.qa-who').innerText, image: c.querySelector('.qa-image').innerText,"
        " selected: c.className.includes('border-primary'),"
        " loaded: !!c.querySelector('img.qa-crop') && c.querySelector('img.qa-crop').complete"
        "   && c.querySelector('img.qa-crop').naturalWidth > 0 }))"
    )


def wait_cards(page, count: int) -> list[dict[str, object]]:
    found: list[list[dict[str, object]]] = []

    def check() -> bool:
        found[:] = [cards(page)]
        return len(found[0]) == count and all(c["loaded"] for c in found[0])

    wait_until(check, what=f"{count} crops shown")
    return found[0]


def open_qa(page, label: str) -> None:
    page.get_by_role("tab", name="Label QA").click()
    wait_until(lambda: page.locator("#qa-label").inner_text().strip() != "", what="labels")
    choose(page, "qa-label", label)


def test_an_annotator_relabels_two_of_their_boxes_in_one_action(signed_in, server):
    page = signed_in("ann")
    for number, box in enumerate(BOXES, start=1):
        drag(page, [(box[0], box[1]), (box[2], box[3])])
        wait_rows(page, number)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")

    open_qa(page, "person")
    shown = wait_cards(page, 3)
    assert {c["who"] for c in shown} == {"ann"}
    assert "1-3 of 3 shapes labelled person" in page.inner_text("#qa-page-text")
    assert page.locator("#qa-relabel").is_disabled()

    page.locator("#qa-grid .qa-card").nth(0).click()
    page.locator("#qa-grid .qa-card").nth(2).click()
    wait_until(lambda: page.inner_text("#qa-selected-count") == "2 selected", what="2 selected")
    assert [c["selected"] for c in cards(page)] == [True, False, True]
    choose(page, "qa-new-label", "animal")
    page.click("#qa-relabel")

    wait_until(
        lambda: "Relabelled 2 shapes to animal." in page.inner_text("#qa-message"),
        what="the message",
    )
    wait_cards(page, 1)  # the two left the person page
    assert page.inner_text("#qa-selected-count") == "None selected"
    choose(page, "qa-label", "animal")
    wait_cards(page, 2)

    store = store_of(server)
    saved = store.export_rows("ann").shapes
    assert sorted(s.label for s in saved) == ["animal", "animal", "person"]
    key = saved[0].image_key
    edits = [e for e in store.events(key) if e.action == "edit"]
    assert len(edits) == 2 and {(e.actor, e.annotator) for e in edits} == {("ann", "ann")}
    assert len({e.change for e in edits}) == 1  # one action, one change on the image
    store.engine.dispose()
    crop_src = page.locator("#qa-grid img.qa-crop").first.get_attribute("src")
    assert crop_src.startswith(f"/crops/{key}?box=")
    # signed-in only: without the session's cookie the crop route answers 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.url.rstrip("/") + crop_src)
    assert refused.value.code == 401

    # back on the annotate view, with no reload: the new labels and colours
    page.click("a.nav-link:has-text('Annotate')")
    wait_until(lambda: sorted(r["label"] for r in rows(page)) == ["animal", "animal", "person"])
    wait_until(lambda: sorted(shape_strokes(page)).count(ANIMAL) == 2, what="recoloured")
    page.reload()  # and after a reload too
    wait_for_image(page)
    wait_until(lambda: sorted(r["label"] for r in rows(page)) == ["animal", "animal", "person"])
    assert sorted(shape_strokes(page)).count(ANIMAL) == 2


def test_a_reviewer_relabel_lands_on_gold_and_the_annotators_shape_stays(signed_in, server):
    bea = signed_in("bea")
    drag(bea, [(400, 100), (480, 200)])
    wait_rows(bea, 1)
    wait_until(lambda: "All changes saved" in bea.inner_text("#save-status"), what="saved")

    rita = signed_in("rita")
    open_qa(rita, "person")
    choose(rita, "qa-who", "bea")
    [card] = wait_cards(rita, 1)
    assert card["who"] == "bea"
    rita.locator("#qa-grid .qa-card").first.click()
    choose(rita, "qa-new-label", "vehicle")
    rita.click("#qa-relabel")
    wait_until(
        lambda: (
            "Relabelled 1 shape to vehicle. 1 of them relabelled on gold"
            in rita.inner_text("#qa-message")
        ),
        what="the message",
    )
    wait_cards(rita, 1)  # bea's own shape is still a person
    choose(rita, "qa-who", "gold (reviewed)")
    choose(rita, "qa-label", "vehicle")
    [copy] = wait_cards(rita, 1)
    assert copy["who"] == "gold"

    store = store_of(server)
    [beas] = store.export_rows("bea").shapes
    assert beas.label == "person"
    [gold] = store.annotations_for(beas.image_key, "gold")
    assert gold.label == "vehicle" and gold.coords == beas.coords
    events = [e for e in store.events(beas.image_key) if e.annotator == "gold"]
    assert [(e.actor, e.action) for e in events] == [("rita", "create")]
    store.engine.dispose()
