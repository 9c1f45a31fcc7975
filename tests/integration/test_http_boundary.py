"""The real app over HTTP, as a careless client or a prober would use it: big bodies are
refused before they are read, malformed requests get a 4xx with a reason (never a 500),
no answer shows a server folder, and sessions hold across workers sharing the database."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from flask import Flask

from auth import session as auth_session
from auth import web
from auth.directory import save_account
from auth.passwords import hash_password
from config import load_settings
from domain.accounts import Account, Role
from storage.account_store import AccountStore
from storage.annotation_store import AnnotationStore, make_engine
from tests.dash_requests import TOKEN, DashClient
from tests.servers import ROOT, AppServer

PASSWORD = "a long enough password"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    root = tmp_path_factory.mktemp("boundary")
    users = root / "users.toml"
    for name, role in (("ana", Role.ANNOTATOR), ("adam", Role.ADMIN)):
        save_account(users, Account(name, role, hash_password(PASSWORD)))
    server = AppServer(root / "data", env={"USERS_FILE": str(users), "SECRET_KEY": "b" * 32})
    yield server.start()
    server.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    server = AppServer(tmp_path_factory.mktemp("boundary-local") / "data")
    yield server.start()
    server.stop()


def cookie_of(server: AppServer, name: str) -> str:
    client = DashClient(server.url)
    assert client.sign_in(name, PASSWORD).status_code == 302
    return str(client.session.cookies["concord_session"])


def post_head_only(server: AppServer, cookie: str, declared: int, sent: int) -> tuple[str, float]:
    """Declare a callback body of `declared` bytes, send only `sent` of them, and read the
    answer: a server that reads the body before answering waits for the rest (timeout)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(
            (
                "POST /_dash-update-component HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{server.port}\r\n"
                f"Cookie: concord_session={cookie}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + b"[" * sent
        )
        answer = b""
        try:
            while not complete(answer) and (chunk := sock.recv(65536)):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return answer.decode("latin-1"), time.monotonic() - started


def complete(answer: bytes) -> bool:
    """True once an HTTP answer's head and its Content-Length of body have arrived."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def test_a_big_body_from_an_annotator_is_refused_before_it_is_read(signed):
    cookie = cookie_of(signed, "ana")
    assert signed.process is not None
    process = psutil.Process(signed.process.pid)
    before = process.memory_info().rss
    answer, seconds = post_head_only(signed, cookie, declared=150 * MB, sent=1 * MB)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "Request too large: an annotator's requests are at most 4 MB." in answer
    assert seconds < 5
    assert process.memory_info().rss - before < 20 * MB


def test_an_admin_may_send_import_sized_bodies_but_not_unbounded_ones(signed):
    cookie = cookie_of(signed, "adam")
    body = json.dumps(
        {
            "output": "nothing.children",
            "outputs": {"id": "nothing", "property": "children"},
            "inputs": [{"id": "pad", "property": "value", "value": "x" * (6 * MB)}],
        }
    )
    bigger = requests.post(
        signed.url + "_dash-update-component",
        data=body,
        headers={"Content-Type": "application/json"},
        cookies={"concord_session": cookie},
        timeout=30,
    )
    # read and answered on its merits: too big for an annotator, fine for an admin
    assert bigger.status_code == 400 and "no callback of this app writes" in bigger.text
    answer, _ = post_head_only(signed, cookie, declared=400 * MB, sent=1 * MB)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


DEEP = "[" * 50_000 + "]" * 50_000
CALLBACK = "_dash-update-component"
GRID_SPEC = {"output": "grid.rowData", "outputs": {"id": "grid", "property": "rowData"}}


def probes() -> list[tuple[str, str, dict]]:
    """(method, path, requests keyword arguments) a prober sends."""
    json_headers = {"Content-Type": "application/json"}
    bodies: list[object] = [
        [1, 2],
        5,
        "text",
        None,
        {},
        {"output": 5},
        {"output": "grid.rowData"},
        GRID_SPEC,
        GRID_SPEC | {"inputs": "x"},
        GRID_SPEC | {"inputs": [5]},
        GRID_SPEC | {"inputs": [], "state": {"a": 1}},
        GRID_SPEC | {"inputs": [], "changedPropIds": [5]},
        GRID_SPEC | {"inputs": [{"id": "nowhere", "property": "x", "value": 1}]},
        {"output": "nowhere.children", "outputs": {"id": "nowhere", "property": "children"}},
        {"output": "..a.b...c.d..", "outputs": [[[[[]]]]], "inputs": []},
        {"output": "prefetched-store.data", "outputs": {"id": "x", "property": "y"}, "inputs": []},
    ]
    found: list[tuple[str, str, dict]] = [
        ("POST", CALLBACK, {"data": "{bad", "headers": json_headers}),
        ("POST", CALLBACK, {"data": DEEP, "headers": json_headers}),
        ("POST", CALLBACK, {"data": "x", "headers": {"Content-Type": "text/plain"}}),
        ("POST", CALLBACK, {"data": b"\xff\xfe{", "headers": json_headers}),
        *[("POST", CALLBACK, {"json": body}) for body in bodies],
        *[
            ("GET", "images/" + key, {})
            for key in ("..", "../app.py", "%2e%2e/app.py", "nothing.jpg", "a%00b.jpg", "/etc/x")
        ],
        ("GET", "images/" + "x" * 5000, {}),
        ("POST", "login", {"data": {"name": ["a", "b"], "password": "x"}}),
        ("POST", "login", {"data": "\xff\xfe", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "login", {"data": {"name": "x" * 100_000}}),
        ("POST", "login", {"files": {"name": ("a.txt", b"x")}}),
        ("GET", "login?next=%00%0a//evil", {}),
        ("POST", "logout", {"data": {"csrf": "x"}}),
        ("GET", "logout", {}),
        ("GET", "_dash-layout", {}),
        ("GET", "_dash-dependencies", {}),
        ("GET", "_dash-component-suites/dash/../../../app.py", {}),
        ("GET", "assets/../app.py", {}),
        ("GET", "healthz", {}),
    ]
    for method in ("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"):
        for path in ("", CALLBACK, "images/x.jpg", "login", "logout"):
            found.append((method, path, {}))
    return found


def sweep(base: str, session: requests.Session, folders: list[str]) -> list[str]:
    """Every probe's answer that is a 5xx or shows a folder of the server."""
    bad = []
    for method, path, kwargs in probes():
        answer = session.request(method, base + path, allow_redirects=False, timeout=30, **kwargs)
        where = f"{method} /{path[:60]} -> {answer.status_code}"
        if answer.status_code >= 500:
            bad.append(f"{where}: {answer.text[:120]}")
        if any(folder in answer.text for folder in folders):
            bad.append(f"{where} shows a folder: {answer.text[:120]}")
        if not answer.ok and 'id="signin"' not in answer.text:  # the sign-in page again
            if len(answer.text) > 300 or "Traceback" in answer.text:
                bad.append(f"{where}: a long answer: {answer.text[:120]}")
    return bad


def test_malformed_requests_get_a_short_4xx_and_no_server_paths(signed, local):
    folders = [str(ROOT), str(signed.data_dir), str(local.data_dir), str(Path.home())]
    anonymous = requests.Session()
    admin = DashClient(signed.url)
    assert admin.sign_in("adam", PASSWORD).status_code == 302
    annotator = DashClient(signed.url)
    assert annotator.sign_in("ana", PASSWORD).status_code == 302
    problems = [
        *sweep(signed.url, anonymous, folders),
        *sweep(signed.url, admin.session, folders),
        *sweep(signed.url, annotator.session, folders),
        *sweep(local.url, requests.Session(), folders),
    ]
    assert problems == [], "\n".join(problems)


def test_a_callback_request_with_values_of_the_wrong_type_is_a_400(local):
    client = DashClient(local.url)
    client.session.get(local.url)
    answers = []
    for dep in client.dependencies():
        if dep.get("clientside_function"):
            continue
        ids = [f"{e['id']}.{e['property']}" for e in dep["inputs"] + dep["state"]]
        for odd in (True, "zz", {"x": [1]}, -1e308):
            answers.append(client.call(dep, dict.fromkeys(ids, odd)))
    assert answers and all(a.status_code < 500 for a in answers), [
        a.text[:100] for a in answers if a.status_code >= 500
    ]
    refused = [a for a in answers if a.status_code == 400]
    assert all(a.text.startswith("Bad request: ") for a in refused)


def test_the_missing_image_answer_names_the_key_not_the_folder(local):
    answer = requests.get(local.url + "images/nothing-here.jpg", timeout=10)
    assert answer.status_code == 404
    assert answer.text == "'nothing-here.jpg': no such image in the image source."
    assert str(local.data_dir) in local.log_path.read_text()  # the log keeps the detail


# Two gunicorn workers are two apps sharing one database: a session opened by one is
# known to the other, and a logout on one ends it on both.


def worker(settings, url: str) -> Flask:
    server = Flask("worker")
    server.add_url_rule("/page", "page", lambda: "the page")
    web.install(server, settings, AccountStore(make_engine(url)))
    return server


def test_sessions_hold_across_workers_sharing_the_database(tmp_path, monkeypatch):
    monkeypatch.setattr(auth_session, "_directory", auth_session._directory)  # restored afterwards
    users = tmp_path / "users.toml"
    save_account(users, Account("ana", Role.ANNOTATOR, hash_password(PASSWORD)))
    url = f"sqlite:///{tmp_path / 'app.db'}"
    AnnotationStore.from_url(url).engine.dispose()  # the schema, by the migrations
    settings = load_settings(
        {"USERS_FILE": str(users), "SECRET_KEY": "w" * 32, "DATA_DIR": str(tmp_path)}
    )
    first, second = worker(settings, url), worker(settings, url)
    browser = first.test_client()
    token = TOKEN.search(browser.get("/login").text)
    assert token
    signed_in = browser.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token[1]})
    assert signed_in.status_code == 302
    cookie = browser.get_cookie("concord_session")
    assert cookie is not None

    on_second = second.test_client()
    on_second.set_cookie("concord_session", cookie.value)
    assert on_second.get("/page").status_code == 200  # the other worker knows the session
    with on_second.session_transaction() as session:
        page_token = session["csrf"]
    assert on_second.post("/logout", data={"csrf": page_token}).status_code == 302
    assert browser.get("/page").status_code == 302  # and the first one saw the logout
