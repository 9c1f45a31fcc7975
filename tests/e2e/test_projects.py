"""Projects in Chromium: ada (an admin) makes project "cats" in the Admin tab, with its own
folder below IMAGE_ROOT, labels cat and dog, and alice as its annotator; alice switches to
it from the header, draws a box on a cat picture, and back in the default project sees its
own picture, labels and none of her cats shapes. bob, not a member, never sees Cats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine

from auth.passwords import hash_password
from domain.projects import Project
from storage.annotation_store import AnnotationStore
from storage.project_store import ProjectStore
from tests.e2e.helpers import (
    ConsoleLog,
    drag,
    open_signed_in,
    rows,
    wait_for_image,
    wait_rows,
    wait_until,
)
from tests.servers import AppServer

PASSWORD = "long enough password"
CATS = ("kitten-1.jpg", "kitten-2.jpg")
STREET = "street.jpg"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("projects-e2e")
    (root / "street").mkdir()
    Image.new("RGB", (400, 300), (90, 120, 150)).save(root / "street" / STREET)
    cats = root / "library" / "cats"
    cats.mkdir(parents=True)
    for number, name in enumerate(CATS):
        Image.new("RGB", (400, 300), (200, 60 + 80 * number, 40)).save(cats / name)
    secret = hash_password(PASSWORD)
    people = (("ada", "admin"), ("alice", "annotator"), ("bob", "annotator"))
    env = {
        "USERS": ",".join(f"{name}:{role}:{secret}" for name, role in people),
        "SECRET_KEY": "s" * 32,
        "LABELS": "person,car",
        "IMAGE_SOURCE": str(root / "street"),
        "IMAGE_ROOT": str(root / "library"),
    }
    server = AppServer(root / "data", env=env).start()
    yield server
    server.stop()


def signed_in(browser: Any, server: AppServer, name: str) -> tuple[Any, Any, ConsoleLog]:
    context, page, console = open_signed_in(browser, server.url, name, PASSWORD)
    wait_for_image(page)
    return context, page, console


def shown_key(page: Any) -> str:
    """The key of the image the annotate figure shows (its uirevision)."""
    return page.evaluate(
        "() => { const gd = document.querySelector('#graph .js-plotly-plot');"
        " return gd && gd.layout && document.querySelector('#graph .imagelayer image')"
        " ? gd.layout.uirevision : ''; }"
    )


def label_names(page: Any) -> list[str]:
    """The label buttons' names, in order (a button shows its shortcut key first)."""
    return [text.split()[-1] for text in page.locator(".label-button").all_inner_texts()]


def switcher_entries(page: Any) -> list[str]:
    """Open the header's project menu and list its entries."""
    page.click("#project-menu .dropdown-toggle")
    page.wait_for_selector("#project-menu .dropdown-item", state="visible")
    return [text.strip() for text in page.locator("#project-menu .dropdown-item").all_inner_texts()]


def stored_cats(server: AppServer) -> Project:
    """Project cats as the main database holds it now."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'annotations.db'}")
    try:
        found = ProjectStore(engine).find("cats")
    finally:
        engine.dispose()
    assert found is not None
    return found


def type_into(page: Any, selector: str, text: str) -> None:
    page.click(selector)
    page.keyboard.type(text)


def test_an_admin_makes_a_project_that_its_member_works_in_and_others_do_not_see(
    browser: Any, server: AppServer
) -> None:
    # ada makes project cats in the Admin tab.
    context, page, console = signed_in(browser, server, "ada")
    page.get_by_role("tab", name="Admin").click()
    wait_until(lambda: "default" in page.inner_text("#admin-projects"), what="the projects")
    assert page.input_value("#admin-project-pick") == ""  # a new project
    type_into(page, "#admin-project-name", "Cats")
    type_into(page, "#admin-project-slug", "cats")
    type_into(page, "#admin-project-source", "cats")
    type_into(page, "#admin-project-labels", "cat, dog")
    member_rows = page.locator("[id*='admin-project-member-account']")
    assert member_rows.count() == 3
    page.click("#admin-project-add-member")
    wait_until(lambda: member_rows.count() == 4, what="a fourth member row")
    type_into(page, "[id*='admin-project-member-account'] >> nth=0", "alice")
    assert not page.is_checked("#admin-project-open")
    page.click("#admin-project-save")
    wait_until(
        lambda: "Made project Cats (cats)" in page.inner_text("#admin-project-result"),
        what="the project made",
    )
    wait_until(lambda: "cats" in page.inner_text("#admin-projects"), what="cats in the list")
    listed = page.inner_text("#admin-projects")
    assert "cat, dog" in listed and "alice (annotator)" in listed
    wait_until(lambda: page.input_value("#admin-project-pick") == "cats", what="cats picked")
    wait_until(lambda: page.is_disabled("#admin-project-slug"), what="the slug fixed")
    # Two changes in a row: the form is filled again from each save (the name shows
    # cleaned), with the version the save made, so the second is not taken as stale.
    for field, value in (("#admin-project-claim", "20"), ("#admin-project-repeats", "5")):
        page.fill("#admin-project-name", "  Cats ")
        page.fill(field, value)
        page.click("#admin-project-save")
        wait_until(
            lambda: page.input_value("#admin-project-name") == "Cats", what="the form refilled"
        )
        assert "Changed project Cats (cats)" in page.inner_text("#admin-project-result")
    cats = stored_cats(server)
    assert (cats.claim_minutes, cats.repeat_percent, cats.version) == (20, 5, 3)
    assert console.errors == []
    context.close()

    # alice switches to Cats from the header and draws a box on a cat picture.
    context, page, console = signed_in(browser, server, "alice")
    assert shown_key(page) == STREET
    assert switcher_entries(page) == ["Default project", "Cats"]
    page.locator("#project-menu .dropdown-item", has_text="Cats").click()
    wait_until(lambda: "project=cats" in page.url, what="the cats address")
    wait_for_image(page)
    wait_until(lambda: shown_key(page) in CATS, what="a cat picture")
    assert page.inner_text("#project-menu .dropdown-toggle").strip() == "Cats"
    assert label_names(page) == ["cat", "dog"]
    cat_picture = shown_key(page)
    drag(page, [(60, 70), (220, 200)])
    [row] = wait_rows(page, 1)
    assert row["label"] == "cat" and row["kind"] == "rect"
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")

    # Back in the default project: its picture and labels, none of her cats shapes.
    switcher_entries(page)
    page.locator("#project-menu .dropdown-item", has_text="Default project").click()
    wait_until(lambda: "project=default" in page.url, what="the default address")
    wait_for_image(page)
    wait_until(lambda: shown_key(page) == STREET, what="the street picture")
    assert label_names(page) == ["person", "car"]
    page.wait_for_timeout(500)  # the grid is filled from the store after the image
    assert rows(page) == []
    assert page.locator("#graph .shapelayer path[data-index]").count() == 0
    assert console.errors == []
    context.close()

    # The box is in the cats project's records, not the default project's.
    data = server.data_dir
    cats_store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.project-2.db'}")
    main_store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    try:
        [box] = cats_store.annotations_for(cat_picture, "alice")
        assert box.label == "cat"
        assert main_store.export_rows("alice").shapes == []
    finally:
        cats_store.engine.dispose()
        main_store.engine.dispose()

    # bob is no member of Cats: no switcher entry, and its address opens the default project.
    context, page, console = signed_in(browser, server, "bob")
    assert page.locator("#project-menu").count() == 0
    assert page.inner_text("#project-name") == "Default project"
    page.goto(server.url + "?project=cats")
    wait_for_image(page)
    note = page.inner_text("#project-note")
    assert note.startswith("Project 'cats' cannot be opened: you are not a member of it.")
    assert page.inner_text("#project-name") == "Default project"
    assert shown_key(page) == STREET
    assert label_names(page) == ["person", "car"]
    assert console.errors == []
    context.close()
