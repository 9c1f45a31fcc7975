"""Sign-in in a real browser: the login page, what each role sees, names as plain text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from storage.annotation_store import AnnotationStore
from tests.e2e.helpers import ConsoleLog, drag, wait_for_image, wait_rows, wait_until
from tests.servers import AppServer

SNEAKY = '<img src=x onerror="window.__pwned=1">'  # a user name and a label with HTML in it
PASSWORD = "long enough password"


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("signin-e2e")
    users = root / "users.toml"
    for name, role in ((SNEAKY, Role.ANNOTATOR), ("rita", Role.REVIEWER), ("adam", Role.ADMIN)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    env = {"USERS_FILE": str(users), "SECRET_KEY": "s" * 32, "LABELS": f"person,{SNEAKY}"}
    server = AppServer(root / "data", env=env).start()
    yield server
    server.stop()


def open_page(browser, server: AppServer):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, ConsoleLog(page)


def sign_in_with_form(page, name: str, password: str) -> None:
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#signin-button")


def test_an_annotator_signs_in_draws_and_sees_names_as_text(browser, signed_server):
    context, page, console = open_page(browser, signed_server)
    page.goto(signed_server.url)
    page.wait_for_selector("#signin")  # sent to the sign-in page
    sign_in_with_form(page, SNEAKY, "wrong password")
    assert page.inner_text("#signin-problem") == "Wrong name or password."
    assert page.input_value("#name") == SNEAKY  # kept, as text
    sign_in_with_form(page, SNEAKY, PASSWORD)
    wait_for_image(page)

    assert page.inner_text("#signed-in-as") == f"Signed in as {SNEAKY} · annotator"
    label_button = page.locator(".label-button, button", has_text=SNEAKY).first
    assert label_button.inner_text().strip().endswith(SNEAKY)
    # An annotator has no Agreement or Review tab, no export and no name to type.
    tabs = page.locator("a.nav-link").all_inner_texts()
    assert tabs == ["Annotate", "Gallery", "Label QA"], tabs
    assert page.locator("#exchange-open").count() == 0
    assert page.locator("#name-input").count() == 0

    label_button.click()
    drag(page, [(60, 70), (200, 180)])
    row = wait_rows(page, 1)[0]
    assert row["label"] == SNEAKY
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))
    assert page.evaluate("() => window.__pwned") is None

    page.click("#sign-out")
    page.wait_for_selector("#signin")
    # Chromium logs the 401 of the wrong password's answer; nothing else went wrong.
    assert console.errors == [
        "Failed to load resource: the server responded with a status of 401 (UNAUTHORIZED)"
    ]
    context.close()

    store = AnnotationStore.from_url(f"sqlite:///{signed_server.data_dir / 'annotations.db'}")
    [saved] = store.annotations_for(store_key(store), SNEAKY)
    assert saved.label == SNEAKY
    store.engine.dispose()


def store_key(store: AnnotationStore) -> str:
    rows = store.export_rows(SNEAKY).shapes
    assert len(rows) == 1
    return rows[0].image_key


def test_a_reviewer_sees_the_agreement_tab_and_export_but_not_import(browser, signed_server):
    context, page, console = open_page(browser, signed_server)
    page.goto(signed_server.url + "?from=link")
    sign_in_with_form(page, "rita", PASSWORD)
    wait_for_image(page)
    assert "?from=link" in page.url  # back where the link pointed
    assert page.inner_text("#signed-in-as") == "Signed in as rita · reviewer"
    page.click("text=Agreement")
    page.click("#agreement-compute")
    wait_until(lambda: "image" in page.inner_text("#agreement-status"), what="a computed report")
    page.click("#exchange-open")
    page.wait_for_selector("#export-button", state="visible")
    assert page.locator("#import-upload").count() == 0
    assert console.errors == []
    context.close()


def test_an_admin_adds_an_account_that_then_signs_in(browser, signed_server):
    context, page, console = open_page(browser, signed_server)
    page.goto(signed_server.url)
    sign_in_with_form(page, "adam", PASSWORD)
    wait_for_image(page)
    page.get_by_role("tab", name="Admin").click()
    wait_until(lambda: "USERS_FILE" in page.inner_text("#admin-users"), what="the accounts")
    assert "rita" in page.inner_text("#admin-users")
    page.fill("#admin-user-name", "newcomer")
    page.fill("#admin-user-password", "newcomer password")
    page.click("#admin-user-save")
    wait_until(lambda: "Added newcomer (annotator)." in page.inner_text("#admin-user-result"))
    wait_until(lambda: "newcomer" in page.inner_text("#admin-users"), what="the new row")
    assert page.input_value("#admin-user-password") == ""  # not left in the page
    page.click("#sign-out")
    sign_in_with_form(page, "newcomer", "newcomer password")
    wait_for_image(page)
    assert page.inner_text("#signed-in-as") == "Signed in as newcomer · annotator"
    assert page.get_by_role("tab", name="Admin").count() == 0
    assert console.errors == []
    context.close()
