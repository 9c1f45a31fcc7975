"""Sign-in and roles against the real app over HTTP: no session, no data; an annotator
cannot reach another's work or a reviewer's callback; wrong passwords are rate-limited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import requests

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from domain.annotation import Annotation
from storage.account_store import AccountStore
from storage.annotation_store import AnnotationStore
from tests.dash_requests import DashClient, form_token
from tests.servers import AppServer

IMAGE = "01-astronaut.jpg"
PEOPLE = {
    "alice": Role.ANNOTATOR,
    "bob": Role.ANNOTATOR,
    "rita": Role.REVIEWER,
    "adam": Role.ADMIN,
    "locked": Role.ANNOTATOR,
}


def password(name: str) -> str:
    return f"secret-of-{name}"


@dataclass
class Deployment:
    server: AppServer
    users_file: Path
    store: AnnotationStore
    bob_shape: Annotation

    def store_accounts(self) -> list[Account]:
        """The accounts made in the app, as stored."""
        return AccountStore(self.store.engine).all()

    def client(self, name: str | None = None) -> DashClient:
        client = DashClient(self.server.url)
        if name:
            assert client.sign_in(name, password(name)).status_code == 302
        return client


def bob_box() -> Annotation:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Annotation("bob-box-1", IMAGE, "bob", "person", "rect", (10, 20, 110, 220), (), now, now)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("signin")
    users_file = root / "users.toml"
    for name, role in PEOPLE.items():
        save_account(users_file, Account(name, role, hash_password(password(name))))
    data = root / "data"
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    [shape] = store.sync_image(IMAGE, "bob", [bob_box()])
    env = {"USERS_FILE": str(users_file), "SECRET_KEY": "k" * 32}
    server = AppServer(data, env=env).start()
    yield Deployment(server, users_file, store, shape)
    server.stop()
    store.engine.dispose()


def test_without_a_session_pages_redirect_and_data_routes_answer_401(deployment):
    anonymous = requests.Session()
    base = deployment.server.url.rstrip("/")
    for path in ("/", "/some/page"):
        response = anonymous.get(base + path, allow_redirects=False)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/login?next={path}")
    data_routes = ("/_dash-layout", "/_dash-dependencies", f"/images/{IMAGE}", f"/thumbs/{IMAGE}")
    for path in (*data_routes, f"/crops/{IMAGE}?box=0,0,5,5"):
        response = anonymous.get(base + path, allow_redirects=False)
        assert response.status_code == 401, path
        assert "Sign in first" in response.text
    callback = anonymous.post(base + "/_dash-update-component", json={"output": "grid.rowData"})
    assert callback.status_code == 401
    # The sign-in page itself and the stylesheet it uses are open; the health check says ok.
    page = anonymous.get(base + "/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    assert anonymous.get(base + "/assets/00-bootstrap-5.3.8.min.css").status_code == 200
    assert anonymous.get(base + "/healthz").text == "ok"


def test_signing_in_opens_the_app_and_signing_out_closes_it(deployment):
    client = DashClient(deployment.server.url)
    wrong = client.sign_in("alice", "not her password")
    assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
    assert client.session.get(client.base_url + "/_dash-layout").status_code == 401

    right = client.sign_in("alice", password("alice"))
    assert right.status_code == 302 and right.headers["Location"] == "/"
    layout = client.session.get(client.base_url + "/_dash-layout")
    assert layout.status_code == 200 and "Signed in as alice" in layout.text
    assert client.session.get(client.base_url + f"/images/{IMAGE}").status_code == 200

    assert client.sign_out().status_code == 302
    assert client.session.get(client.base_url + "/_dash-layout").status_code == 401


def test_each_role_gets_a_page_with_only_what_it_may_use(deployment):
    def layout(name: str) -> str:
        return deployment.client(name).session.get(deployment.server.url + "_dash-layout").text

    annotator, reviewer, admin = layout("alice"), layout("rita"), layout("adam")
    assert "agreement-compute" not in annotator and "export-button" not in annotator
    assert "change-name" not in annotator and "name-input" not in annotator  # no typed names
    assert "agreement-compute" in reviewer and "export-button" in reviewer
    assert "import-upload" not in reviewer
    assert "import-upload" in admin and "agreement-compute" in admin


def test_an_annotator_cannot_read_anothers_shapes_with_a_crafted_callback(deployment):
    alice = deployment.client("alice")
    load = alice.spec("prev.n_clicks", "records-store.data")  # a move opens the image
    position = {"batch": "", "key": IMAGE, "index": 0}
    values = {"position-store.data": position, "annotator-store.data": "bob"}
    response = alice.call(load, values, initial=True)
    assert response.status_code == 200
    records = response.json()["response"]["records-store"]["data"]
    assert records["annotator"] == "alice" and records["items"] == []
    assert "bob-box-1" not in response.text


def test_an_annotator_cannot_change_anothers_shapes_with_crafted_callbacks(deployment):
    alice = deployment.client("alice")
    specs = alice.dependencies()
    image = {"key": IMAGE, "width": 512, "height": 512}
    moved = deployment.bob_shape.to_dict() | {"coords": [0, 0, 5, 5], "label": "car"}
    forged = {"image_key": IMAGE, "annotator": "bob", "items": [moved], "unsaved": True}

    retry = alice.spec("retry-save.n_clicks", "records-store.data", specs)
    assert (
        alice.call(retry, {"retry-save.n_clicks": 1, "records-store.data": forged}).status_code
        == 204
    )

    erase = alice.spec("graph-edit-store.data", "records-store.data", specs)
    values = {
        "graph-edit-store.data": {"shapes": []},
        "records-store.data": forged | {"unsaved": False},
        "image-store.data": image,
        "annotator-store.data": "bob",
        "label-store.data": "person",
    }
    assert alice.call(erase, values).status_code == 204

    move_on = alice.spec("prev.n_clicks", "position-store.data", specs)
    position = {"batch": "", "key": IMAGE, "index": 0}
    values = {
        "next.n_clicks": 1,
        "position-store.data": position,
        "annotator-store.data": "bob",
        "records-store.data": forged,
    }
    alice.call(move_on, values | {"prev.n_clicks": None}, changed="next.n_clicks")

    timing = alice.spec("time-spent-store.data", "time-spent-store.clear_data", specs)
    report = {"key": IMAGE, "annotator": "bob", "seconds": 30}
    alice.call(timing, {"time-spent-store.data": report})

    assert deployment.store.annotations_for(IMAGE, "bob") == [deployment.bob_shape]
    assert (IMAGE, "bob") not in deployment.store.active_times()


def test_reviewer_callbacks_refuse_an_annotator_and_import_refuses_a_reviewer(deployment):
    alice, rita, adam = (deployment.client(n) for n in ("alice", "rita", "adam"))
    specs = alice.dependencies()
    compare = alice.spec("agreement-images.selectedRows", "agreement-compare", specs)
    values = {
        "agreement-images.selectedRows": [{"image": IMAGE, "annotators": "bob"}],
        "agreement-report.data": {"annotators": ["bob"]},
    }
    refused = alice.call(compare, values)
    assert refused.status_code == 403 and "Only reviewers may do this." in refused.text
    assert "bob-box-1" not in refused.text

    shown = rita.call(compare, values)
    assert shown.status_code == 200 and IMAGE in shown.text

    export = alice.spec("export-button.n_clicks", "export-download", specs)
    assert alice.call(export, {"export-button.n_clicks": 1}).status_code == 403

    upload = alice.spec("import-upload.contents", "import-result", specs)
    assert rita.call(upload, {"import-upload.contents": None}).status_code == 403
    assert adam.call(upload, {"import-upload.contents": None}).status_code != 403


def test_wrong_passwords_are_rate_limited_per_account(deployment):
    client = DashClient(deployment.server.url)
    for _ in range(5):
        assert client.sign_in("locked", "guess").status_code == 401
    blocked = client.sign_in("locked", "guess")
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    # Even the right password waits now; other accounts are not affected.
    assert client.sign_in("locked", password("locked")).status_code == 429
    assert DashClient(deployment.server.url).sign_in("rita", password("rita")).status_code == 302


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(deployment):
    bob = deployment.client("bob")
    layout = deployment.server.url + "_dash-layout"
    assert bob.session.get(layout).status_code == 200
    save_account(deployment.users_file, Account("bob", Role.ANNOTATOR, hash_password("new-secret")))
    assert bob.session.get(layout).status_code == 401
    again = DashClient(deployment.server.url)
    assert again.sign_in("bob", "new-secret").status_code == 302
    save_account(
        deployment.users_file, Account("bob", Role.ANNOTATOR, hash_password(password("bob")))
    )


def test_names_typed_into_the_sign_in_form_come_back_as_text(deployment):
    client = DashClient(deployment.server.url)
    response = client.sign_in("<script>alert(1)</script>", "x")
    assert response.status_code == 401
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# Known open-redirect bypasses: browsers drop tabs and newlines in URLs, read "\\" as "/",
# and some hop may decode %-escapes once more.
ELSEWHERE = [
    "//evil.example/",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "///evil.example",
    "////evil.example",
    "https://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/%09/evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%0D%0A/evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
]


def lands_here(location: str, base: str) -> bool:
    """True when a browser following this Location stays on base's host."""
    read = "".join(c for c in location if c not in "\t\n\r").replace("\\", "/")
    return (
        location.startswith("/")
        and urlsplit(urljoin(base, read)).netloc == urlsplit(base).netloc
        and urlsplit(urljoin(base, unquote(unquote(read)))).netloc == urlsplit(base).netloc
    )


def test_a_link_to_another_site_is_not_followed_after_signing_in(deployment):
    base = deployment.server.url
    for target in ELSEWHERE:
        client = DashClient(base)
        token = form_token(client.session, base)
        answer = client.session.post(
            base + "login",
            data={"name": "rita", "password": password("rita"), "next": target, "csrf": token},
            allow_redirects=False,
        )
        assert answer.status_code == 302, target
        assert answer.headers["Location"] == "/", (target, answer.headers["Location"])
    # The query string form of the probe (decoded by the server) lands home too.
    client = DashClient(base)
    token = form_token(client.session, base)
    answer = client.session.post(
        base + "login?next=/%09/evil.example",
        data={"name": "rita", "password": password("rita"), "csrf": token},
        allow_redirects=False,
    )
    assert answer.headers["Location"] == "/"
    # Paths on this site are kept, with their query.
    for target in ("/", "/?from=link", "/some/page?x=1&y=%2F"):
        client = DashClient(base)
        token = form_token(client.session, base)
        answer = client.session.post(
            base + "login",
            data={"name": "rita", "password": password("rita"), "next": target, "csrf": token},
            allow_redirects=False,
        )
        assert answer.headers["Location"] == target and lands_here(target, base)


def admin_values(name: str, role: str, secret: str) -> dict[str, object]:
    return {
        "admin-user-save.n_clicks": 1,
        "admin-user-name.value": name,
        "admin-user-role.value": role,
        "admin-user-password.value": secret,
    }


def test_an_admin_adds_an_account_in_the_app_and_it_can_sign_in(deployment):
    adam, rita = deployment.client("adam"), deployment.client("rita")
    save = adam.spec("admin-user-save.n_clicks", "admin-user-result")
    refused = rita.call(save, admin_values("mallory", "admin", "a long password"))
    assert refused.status_code == 403 and "Only admins may do this." in refused.text

    made = adam.call(save, admin_values("newbie", "annotator", "newbie password"))
    assert made.status_code == 200 and "Added newbie (annotator)." in made.text
    newbie = DashClient(deployment.server.url)
    assert newbie.sign_in("newbie", "newbie password").status_code == 302
    layout = newbie.session.get(deployment.server.url + "_dash-layout").text
    assert "Signed in as newbie" in layout and "admin-user-save" not in layout

    # A role change keeps the password; a USERS_FILE account is changed only there.
    promoted = adam.call(save, admin_values("newbie", "reviewer", ""))
    assert "Updated newbie (reviewer)." in promoted.text
    # A role change ends the sessions opened with the old role: newbie signs in again.
    assert newbie.session.get(deployment.server.url + "_dash-layout").status_code == 401
    assert newbie.sign_in("newbie", "newbie password").status_code == 302
    assert "agreement-compute" in newbie.session.get(deployment.server.url + "_dash-layout").text
    file_account = adam.call(save, admin_values("alice", "admin", "a long password"))
    assert "alice is kept in USERS_FILE" in file_account.text

    remove = adam.spec("admin-user-save.n_clicks", "admin-user-result")
    gone = adam.call(
        remove,
        {"admin-user-remove.n_clicks": 1, "admin-user-name.value": "newbie"},
        changed="admin-user-remove.n_clicks",
    )
    assert "Removed newbie." in gone.text
    assert newbie.session.get(deployment.server.url + "_dash-layout").status_code == 401


def test_the_admin_tab_refuses_reserved_account_names(deployment):
    adam = deployment.client("adam")
    save = adam.spec("admin-user-save.n_clicks", "admin-user-result")
    for name, why in (
        ("alice#repeat", "contains '#', which is kept for second passes"),
        ("model:nanodet", "starts with 'model:', which is kept for detectors"),
        ("gold", "is reserved"),
        ("tab\there", "control or invisible character U+0009"),
    ):
        answer = adam.call(save, admin_values(name, "annotator", "a long password"))
        assert answer.status_code == 200 and "Not saved: the name" in answer.text, name
        assert why in answer.text
    names = [a.name for a in deployment.store_accounts()]
    assert not any("#" in n or n == "gold" or n.startswith("model:") for n in names)


def test_only_admins_change_the_assignment(deployment):
    adam, alice = deployment.client("adam"), deployment.client("alice")
    save = adam.spec("admin-settings-save.n_clicks", "admin-settings-result")
    values = {
        "admin-settings-save.n_clicks": 1,
        "admin-per-image.value": 1,
        "admin-claim-minutes.value": 20,
        "admin-repeat-percent.value": 10,
    }
    assert alice.call(save, values).status_code == 403
    done = adam.call(save, values)
    assert "each image goes to 1 annotator(s); claims last 20 minutes" in done.text
    assert "10% of Next presses bring back a finished image" in done.text
    too_many = adam.call(save, values | {"admin-repeat-percent.value": 80})
    assert "repeats are a whole percentage from 0 to 50" in too_many.text
    reset = adam.call(save, values | {"admin-per-image.value": None})
    assert "everyone sees every image" in reset.text
