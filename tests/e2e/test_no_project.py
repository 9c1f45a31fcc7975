"""Someone who may open no project (the first one closed to them, and a member of none)
gets a page that says so, not an app whose every request is refused."""

from __future__ import annotations

from dataclasses import replace

from auth.passwords import hash_password
from storage.annotation_store import AnnotationStore
from storage.project_store import ProjectStore
from tests.e2e.helpers import open_signed_in, wait_until
from tests.servers import AppServer

PASSWORD = "long enough password"


def test_an_account_in_no_project_is_told_so(browser, tmp_path):
    data = tmp_path / "data"
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    projects = ProjectStore(store.engine)
    first = projects.first()
    projects.save(replace(first, open_to_all=False))
    store.engine.dispose()
    env = {"USERS": f"nora:annotator:{hash_password(PASSWORD)}", "SECRET_KEY": "n" * 32}
    server = AppServer(data, env=env).start()
    try:
        context, page, console = open_signed_in(browser, server.url, "nora", PASSWORD)
        wait_until(
            lambda: "not a member of any project" in page.inner_text("#project-note"),
            what="the note",
        )
        assert page.locator("#graph").count() == 0  # no annotate view to fail
        assert page.inner_text("#signed-in-as") == "Signed in as nora · annotator"
        page.wait_for_timeout(500)
        context.close()
        assert console.errors == [], console.errors
    finally:
        server.stop()
