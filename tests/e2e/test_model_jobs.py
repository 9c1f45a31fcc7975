"""An admin pre-annotates the sample batch with the built-in NanoDet from the Admin tab (a
background job with a progress bar); on the annotate page Suggest then shows the stored
person suggestion at once. An annotator's crafted request for the job is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from storage.annotation_store import AnnotationStore
from tests.dash_requests import DashClient
from tests.e2e.helpers import ConsoleLog, wait_for_image, wait_until
from tests.e2e.test_exchange_panel import choose
from tests.e2e.test_suggestions import suggestion_rows
from tests.servers import AppServer

PASSWORD = "long enough password"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("model-jobs")
    users = root / "users.toml"
    for name, role in (("adam", Role.ADMIN), ("alice", Role.ANNOTATOR)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    env = {"USERS_FILE": str(users), "SECRET_KEY": "m" * 32}
    server = AppServer(root / "data", env=env).start()
    yield server
    server.stop()


def pre_annotate(page, batch: str) -> str:
    """Open the Admin tab, pick the batch, press Pre-annotate; the job's summary."""
    page.locator(".nav-link", has_text="Admin").click()
    wait_until(
        lambda: page.inner_text("#admin-model-version").startswith("Model: nanodet g-416-"),
        timeout=30,
        what="the model's version",
    )
    choose(page, "admin-model-batch", batch)
    page.click("#admin-model-predict")
    return wait_until(
        lambda: (
            "Pre-annotated" in page.inner_text("#admin-model-predict-result")
            and page.inner_text("#admin-model-predict-result")
        ),
        timeout=90,
        what="the pre-annotation's summary",
    )


def test_an_admin_pre_annotates_and_suggest_is_instant(browser, admin_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    page.goto(admin_server.url)
    page.fill("#name", "adam")
    page.fill("#password", PASSWORD)
    page.click("#signin-button")
    wait_for_image(page)

    summary = pre_annotate(page, "(top level)")

    assert "Pre-annotated with nanodet g-416-" in summary
    assert "stored as model:nanodet" in summary and "failed" not in summary
    page.locator(".nav-link", has_text="Annotate").click()
    page.click("#suggest-button")
    wait_until(lambda: suggestion_rows(page) == ["person 0.74"], what="the stored suggestion")
    status = page.inner_text("#suggest-status")
    assert status.startswith("1 suggestion by nanodet@g-416-") and "found earlier" in status
    assert console.errors == []
    context.close()

    store = AnnotationStore.from_url(f"sqlite:///{admin_server.data_dir / 'annotations.db'}")
    try:
        shapes = store.annotations_for("01-astronaut.jpg", "model:nanodet")
        assert [s.label for s in shapes if (s.score or 0) >= 0.5] == ["person"]
        assert all(s.source.startswith("model:nanodet@g-416-") for s in shapes)
    finally:
        store.engine.dispose()


def test_an_annotator_may_not_start_the_jobs(admin_server):
    alice, adam = DashClient(admin_server.url), DashClient(admin_server.url)
    assert alice.sign_in("alice", PASSWORD).status_code == 302
    assert adam.sign_in("adam", PASSWORD).status_code == 302
    specs = alice.dependencies()
    train = alice.spec("admin-model-train.n_clicks", "admin-model-train-result", specs)
    card = alice.spec("page-tabs.active_tab", "admin-model-version", specs)

    refused = alice.call(train, {"admin-model-train.n_clicks": 1})
    assert refused.status_code == 403 and "Only admins may do this." in refused.text
    assert alice.call(card, {"page-tabs.active_tab": "tab-admin"}).status_code == 403
    assert adam.call(card, {"page-tabs.active_tab": "tab-admin"}).status_code == 200
