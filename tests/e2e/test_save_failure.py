"""A database that goes away: the change is shown as unsaved, kept, and saved on its return."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import drag, message, rows, sign_in, wait_rows, wait_until
from tests.servers import AppServer


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, postgres_server):
    url = postgres_server.create_database("e2e_save_failure")
    server = AppServer(tmp_path_factory.mktemp("pg-app"), env={"DATABASE_URL": url}).start()
    yield server
    server.stop()


def stored_rows(postgres_server) -> list[tuple]:
    with postgres_server.connect("e2e_save_failure") as conn:
        return conn.execute("SELECT annotator, label, kind FROM annotations").fetchall()


def test_unsaved_change_is_shown_kept_and_saved_when_the_database_returns(
    page, app_server, postgres_server
):
    sign_in(page, "pat")
    drag(page, [(50, 50), (150, 150)])
    wait_rows(page, 1)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))
    assert stored_rows(postgres_server) == [("pat", "person", "rect")]

    postgres_server.halt()
    try:
        drag(page, [(200, 200), (300, 280)])
        wait_rows(page, 2)  # the new shape stays on the page
        wait_until(lambda: "Not saved" in page.inner_text("#save-status"), what="'Not saved'")
        assert page.locator("#retry-save").is_visible()
        page.click("#next")
        wait_until(lambda: "not saved yet" in message(page), what="refusal to move on")
        assert page.inner_text("#position-text").startswith("1 of")
    finally:
        postgres_server.start()
    # The automatic retry (every 5 s) saves it once the database is back.
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), timeout=30)
    assert len(rows(page)) == 2
    assert sorted(stored_rows(postgres_server)) == [("pat", "person", "rect")] * 2
