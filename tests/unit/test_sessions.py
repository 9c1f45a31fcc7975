"""Sign-in sessions on a Flask server: kept server-side, ended by logout, a new password or
role, idleness and age; the forms carry a token another site cannot know; every answer
carries the anti-framing headers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from auth import web
from auth.directory import save_account
from auth.passwords import hash_password
from config import load_settings
from domain.accounts import Account, Role
from storage.schema import SESSIONS
from storage.session_store import SessionStore, token_digest

PASSWORD = "correct horse battery"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TOKEN = re.compile(r'name="csrf" value="([^"]*)"')


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Site:
    """A Flask server with sign-in installed, a page and a callback route, and a clock."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.users = tmp_path / "users.toml"
        save_account(self.users, Account("ana", Role.ANNOTATOR, hash_password(PASSWORD)))
        settings = load_settings(
            {"USERS_FILE": str(self.users), "SECRET_KEY": "k" * 32, "DATA_DIR": str(tmp_path)} | env
        )
        self.clock = Clock()
        self.engine = create_engine("sqlite://", poolclass=StaticPool)
        SESSIONS.create(self.engine)
        store = SessionStore(
            self.engine, settings.session_hours, settings.session_idle_minutes, self.clock
        )
        self.server = Flask("site")
        self.server.add_url_rule("/page", "page", lambda: "the page")
        self.server.add_url_rule(
            "/_dash-update-component", "callback", lambda: "ran", methods=["POST"]
        )
        web.install(self.server, settings, sessions=store)

    def signed_in(self, name: str = "ana", password: str = PASSWORD):
        client = self.server.test_client()
        token = TOKEN.search(client.get("/login").text)
        assert token
        answer = client.post("/login", data={"name": name, "password": password, "csrf": token[1]})
        assert answer.status_code == 302, answer.text
        return client

    def rows(self) -> list:
        with self.engine.connect() as conn:
            return conn.execute(select(SESSIONS)).all()


CALLBACK = {
    "output": "grid.rowData",
    "outputs": {"id": "grid", "property": "rowData"},
    "inputs": [{"id": "image-store", "property": "data", "value": None}],
    "changedPropIds": [],
}


def page_ok(client) -> bool:
    answer = client.get("/page")
    if answer.status_code == 302:
        assert answer.headers["Location"].startswith("/login?next=")
        return False
    assert answer.status_code == 200
    return True


def callback_status(client) -> int:
    return client.post("/_dash-update-component", json=CALLBACK).status_code


def copy_cookie(source, target) -> None:
    cookie = source.get_cookie("concord_session")
    assert cookie is not None
    target.set_cookie("concord_session", cookie.value)


def sign_out(client, token: str | None) -> int:
    data = {} if token is None else {"csrf": token}
    return client.post("/logout", data=data).status_code


def page_token(client) -> str:
    """The token the page's Sign out form carries (the session's)."""
    with client.session_transaction() as session:
        return str(session["csrf"])


def test_a_cookie_copied_before_logout_is_refused_after_it(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    thief = site.server.test_client()
    copy_cookie(ana, thief)
    assert page_ok(thief) and callback_status(thief) == 200

    assert sign_out(ana, page_token(ana)) == 302
    assert not page_ok(ana)
    assert not page_ok(thief)  # the page sends the copy to the sign-in page
    assert callback_status(thief) == 401  # and a callback is refused
    assert site.rows() == []


def test_no_password_hash_material_is_in_the_cookie(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    cookie = ana.get_cookie("concord_session")
    assert cookie is not None
    content = site.server.session_interface.get_signing_serializer(site.server).loads(cookie.value)  # type: ignore[attr-defined]
    text = json.dumps(content)
    [account_hash] = re.findall(r'password_hash = "([^"]+)"', site.users.read_text())
    salt, digest = account_hash.split("$")[1:]
    for piece in (salt, digest[-16:], digest[:16]):
        assert piece not in text
    assert "ana" not in content["_user_id"]
    # The cookie's id is a random token whose sha256 is the table's key.
    [row] = site.rows()
    assert row.token_hash == token_digest(content["_user_id"]) and row.account == "ana"


def test_a_new_password_or_role_ends_the_sessions_opened_before(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    save_account(site.users, Account("ana", Role.ANNOTATOR, hash_password("a new password")))
    assert not page_ok(ana)
    ana = site.signed_in(password="a new password")
    assert page_ok(ana)
    same_password = re.findall(r'password_hash = "([^"]+)"', site.users.read_text())[0]
    save_account(site.users, Account("ana", Role.REVIEWER, same_password))
    assert not page_ok(ana)  # a new role: sign in again
    assert page_ok(site.signed_in(password="a new password"))


def test_a_session_ends_after_an_hour_without_a_request(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    for _ in range(4):  # active every 50 minutes: the session lives on
        site.clock.advance(minutes=50)
        assert page_ok(ana)
    site.clock.advance(minutes=61)
    assert not page_ok(ana)
    assert callback_status(ana) == 401


def test_last_seen_is_written_at_most_once_a_minute(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    site.clock.advance(seconds=30)
    assert page_ok(ana) and page_ok(ana)
    [row] = site.rows()
    assert row.last_seen_at.replace(tzinfo=UTC) == START  # no write within the minute
    site.clock.advance(seconds=31)
    assert page_ok(ana)
    [row] = site.rows()
    assert row.last_seen_at.replace(tzinfo=UTC) == START + timedelta(seconds=61)


def test_a_session_ends_after_twelve_hours_however_active(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    for _ in range(23):  # a request every 30 minutes for 11.5 hours
        site.clock.advance(minutes=30)
        assert page_ok(ana)
    site.clock.advance(minutes=30)
    assert not page_ok(ana)
    assert site.rows() == []  # the expired row is gone


def test_session_lifetimes_come_from_the_settings(tmp_path):
    site = Site(tmp_path, SESSION_HOURS="2", SESSION_IDLE_MINUTES="10")
    assert site.server.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    ana = site.signed_in()
    site.clock.advance(minutes=11)
    assert not page_ok(ana)
    cookie = site.signed_in().get_cookie("concord_session")
    assert cookie is not None and cookie.expires is not None  # the browser drops it too


def test_sign_in_without_the_forms_token_is_refused(tmp_path):
    site = Site(tmp_path)
    # A form another site posts: the browser has no Concord cookie, or one whose token
    # the other site cannot read.
    for data in ({}, {"csrf": ""}, {"csrf": "guessed"}):
        client = site.server.test_client()
        client.get("/login")
        answer = client.post("/login", data={"name": "ana", "password": PASSWORD} | data)
        assert answer.status_code == 400
        assert "This sign-in form has expired or was sent from another site." in answer.text
        assert TOKEN.search(answer.text)  # a fresh form to sign in with
        assert not page_ok(client)
    assert site.rows() == []


def test_logout_is_a_post_with_the_pages_token(tmp_path):
    site = Site(tmp_path)
    ana = site.signed_in()
    link = ana.get("/logout")  # a link or an <img> on another site
    assert link.status_code == 405 and "Sign out button" in link.text
    assert sign_out(ana, None) == 400
    assert sign_out(ana, "guessed") == 400
    assert page_ok(ana)  # none of these signed ana out
    assert sign_out(ana, page_token(ana)) == 302
    assert not page_ok(ana)


HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@pytest.mark.parametrize("signed", [True, False])
def test_every_answer_forbids_framing_and_sniffing(tmp_path, signed):
    if signed:
        site = Site(tmp_path)
        server, client = site.server, site.signed_in()
    else:
        server = Flask("local")
        server.add_url_rule("/page", "page", lambda: "the page")
        web.install(server, load_settings({"DATA_DIR": str(tmp_path)}))
        client = server.test_client()
    answers = [
        client.get("/page"),
        client.get("/nowhere"),
        client.put("/page"),
        client.post("/_dash-update-component", data="{bad"),
        server.test_client().get("/page"),  # no session
    ]
    if signed:
        answers.append(server.test_client().get("/login"))
    for answer in answers:
        for name, value in HEADERS.items():
            assert answer.headers.get(name) == value, (answer.status_code, name)
