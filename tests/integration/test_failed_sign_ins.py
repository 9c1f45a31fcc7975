"""Failed sign-ins counted in the database (no REDIS_URL), on SQLite and PostgreSQL: every
worker sees the same attempts, so two workers do not make the limit twice as high."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, func, select, text

from auth import web
from auth.directory import save_account
from auth.passwords import hash_password
from auth.throttle import SignInThrottle
from config import load_settings
from domain.accounts import Account, Role
from storage.account_store import AccountStore
from storage.annotation_store import AnnotationStore, make_engine
from storage.failed_sign_ins import FailedSignIns
from storage.schema import FAILED_SIGN_INS
from tests.dash_requests import TOKEN, form_token
from tests.servers import AppServer, RedisServer

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def worker_engine(database_url: str) -> Engine:
    """What one gunicorn worker (or dyno) has: its own engine on the shared database."""
    return make_engine(database_url)


@pytest.fixture
def engines(store: AnnotationStore, database_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two workers' engines on one migrated database."""
    first, second = worker_engine(database_url), worker_engine(database_url)
    yield first, second
    first.dispose()
    second.dispose()


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(FAILED_SIGN_INS)).scalar_one())


def test_failures_count_in_a_moving_window_per_name_and_per_address(engines):
    clock = Clock()
    throttle = SignInThrottle(FailedSignIns(engines[0], clock), "3/minute", "5/minute")
    for _ in range(3):
        assert throttle.wait_seconds("Ana", "10.0.0.1") == 0
        throttle.failed("Ana", "10.0.0.1")
        clock.advance(10)
    # The third failure was 10 s ago; the first leaves the window 60 s after it was made.
    assert throttle.wait_seconds("ANA", "10.0.0.9") == 30  # names compare caselessly
    clock.advance(29)
    assert throttle.wait_seconds("ana", "10.0.0.9") == 1
    clock.advance(1)
    assert throttle.wait_seconds("ana", "10.0.0.9") == 0  # two left in the window
    throttle.failed("ana", "10.0.0.9")
    assert throttle.wait_seconds("ana", "10.0.0.9") == 10  # the second one leaves next

    assert throttle.wait_seconds("bo", "10.0.0.1") == 0  # ana's first has left the window
    for name in ("bo", "cy", "dee"):
        throttle.failed(name, "10.0.0.1")
    # 10.0.0.1 has 5 failures in the last minute: every name from there waits.
    assert throttle.wait_seconds("eve", "10.0.0.1") == 10
    assert throttle.wait_seconds("eve", "10.0.0.2") == 0


def test_two_workers_count_the_same_failures(engines):
    worker_a, worker_b = (SignInThrottle(FailedSignIns(e), "5/2seconds") for e in engines)
    for _ in range(3):
        assert worker_a.wait_seconds("ana", "10.0.0.1") == 0
        worker_a.failed("ana", "10.0.0.1")
    for _ in range(2):
        assert worker_b.wait_seconds("ana", "10.0.0.2") == 0
        worker_b.failed("ana", "10.0.0.2")
    # The sixth attempt waits, whichever worker answers it (per worker: 3 and 2 of 5).
    assert 0 < worker_a.wait_seconds("ana", "10.0.0.1") <= 2
    assert 0 < worker_b.wait_seconds("ANA", "10.0.0.3") <= 2
    assert worker_a.wait_seconds("bo", "10.0.0.1") == 0  # other names are not affected
    assert worker_b.wait_seconds("bo", "10.0.0.2") == 0
    time.sleep(2.1)  # the window moves on, on the real clock
    assert worker_a.wait_seconds("ana", "10.0.0.1") == 0
    assert worker_b.wait_seconds("ana", "10.0.0.1") == 0


def test_two_workers_share_the_address_limit(engines):
    worker_a, worker_b = (SignInThrottle(FailedSignIns(e), "5/minute", "4/minute") for e in engines)
    worker_a.failed("ana", "10.0.0.1")
    worker_b.failed("bo", "10.0.0.1")
    worker_a.failed("cy", "10.0.0.1")
    assert worker_b.wait_seconds("dee", "10.0.0.1") == 0
    worker_b.failed("dee", "10.0.0.1")
    assert worker_a.wait_seconds("eve", "10.0.0.1") > 0
    assert worker_b.wait_seconds("eve", "10.0.0.1") > 0
    assert worker_a.wait_seconds("eve", "10.0.0.2") == 0


def test_rows_that_left_every_window_are_deleted(engines):
    clock = Clock()
    counter = FailedSignIns(engines[0], clock, prune_every=0)
    throttle = SignInThrottle(counter, "5/minute", "20/2minutes")
    for name in ("ana", "bo", "cy"):
        throttle.failed(name, "10.0.0.1")
    assert rows(engines[0]) == 6  # one per name, one per address
    clock.advance(90)  # past the name window, inside the address window: all are kept
    throttle.failed("dee", "10.0.0.2")
    assert rows(engines[0]) == 8
    clock.advance(31)
    throttle.failed("dee", "10.0.0.2")
    assert rows(engines[0]) == 4  # the first three failures are gone, dee's are kept
    assert throttle.wait_seconds("ana", "10.0.0.1") == 0


def test_a_typed_name_longer_than_the_column_is_counted_by_its_start(engines):
    throttle = SignInThrottle(FailedSignIns(engines[0]), "2/minute")
    long_name = "x" * 1000
    throttle.failed(long_name, "10.0.0.1")
    throttle.failed(long_name, "10.0.0.1")
    assert throttle.wait_seconds(long_name, "10.0.0.1") > 0


def test_without_the_database_sign_in_still_works_and_a_warning_is_logged(engines, caplog):
    throttle = SignInThrottle(FailedSignIns(engines[0]), "1/minute")
    with engines[0].begin() as conn:
        conn.execute(text("DROP TABLE failed_sign_ins"))
    with caplog.at_level(logging.WARNING, logger="concord.auth"):
        throttle.failed("ana", "10.0.0.1")
        assert throttle.wait_seconds("ana", "10.0.0.1") == 0
    assert "failed sign-in not counted: cannot record a failed sign-in" in caplog.text
    assert "sign-in rate limit not checked: cannot count failed sign-ins" in caplog.text


# Through the Flask app: two apps stand for two workers, each with its own engine.

PASSWORD = "secret-of-ana"


@pytest.fixture
def settings(tmp_path: Path):
    users = tmp_path / "users.toml"
    for name in ("ana", "bo"):
        save_account(users, Account(name, Role.ANNOTATOR, hash_password(PASSWORD)))
    env = {"USERS_FILE": str(users), "SECRET_KEY": "k" * 32, "DATA_DIR": str(tmp_path / "d")}
    return load_settings(env)


def worker_app(settings, engine: Engine) -> Flask:
    """One worker's Flask app, signing in against the shared database through `engine`."""
    server = Flask("worker")
    web.install(server, settings, AccountStore(engine))
    return server


def sign_in(server: Flask, name: str, password: str, address: str = "10.0.0.1"):
    client = server.test_client()
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = TOKEN.search(page.text)
    assert token, "the sign-in page has no form token"
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf": token[1]},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_apps_of_two_workers_refuse_the_sixth_wrong_password(engines, settings):
    worker_a, worker_b = (worker_app(settings, engine) for engine in engines)
    for server in (worker_a, worker_a, worker_a, worker_b, worker_b):
        wrong = sign_in(server, "ana", "guess")
        assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
    for server in (worker_a, worker_b):
        refused = sign_in(server, "Ana", PASSWORD)  # even the right password waits now
        assert refused.status_code == 429
        found = re.search(r"Too many failed sign-ins. Try again in (\d+) seconds.", refused.text)
        assert found and 290 < int(found[1]) <= 300
    assert sign_in(worker_b, "bo", PASSWORD).status_code == 302  # others sign in


def test_with_redis_the_workers_count_in_redis(tmp_path, settings):
    redis = RedisServer().start()
    try:
        shared = replace(settings, redis_url=redis.url)
        database = f"sqlite:///{tmp_path / 'unused.db'}"
        engine = make_engine(database)  # no table: a throttle that used it would not count
        worker_a, worker_b = (web.sign_in_throttle(shared, AccountStore(engine)) for _ in "ab")
        for throttle in (worker_a, worker_a, worker_a, worker_b, worker_b):
            throttle.failed("ana", "10.0.0.1")
        assert worker_a.wait_seconds("ana", "10.0.0.1") > 0
        assert worker_b.wait_seconds("ana", "10.0.0.1") > 0
        engine.dispose()
    finally:
        redis.stop()


# Through gunicorn with two workers. Sync workers (no --threads) let the test choose who
# answers: a worker that accepted half a request waits for the rest, so the next requests
# go to the other one.

GUNICORN = [
    "-m",
    "gunicorn",
    "app:server",
    "--workers",
    "2",
    "--bind",
    "127.0.0.1:{port}",
    "--access-logfile",
    "-",
    "--access-logformat",
    "answered-by %(p)s %(m)s %(U)s %(s)s",
]


class HeldWorker:
    """Half a request on its own connection: whichever worker accepts it is busy until
    `release` sends the rest."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)  # accepted by a free worker by now

    def release(self) -> None:
        self.sock.sendall(b"Connection: close\r\n\r\n")
        while self.sock.recv(4096):
            pass
        self.sock.close()


def post_alone(url: str, name: str, password: str) -> requests.Response:
    """A sign-in post on a new connection (after opening the form for its token)."""
    with requests.Session() as browser:
        browser.headers["Connection"] = "close"
        token = form_token(browser, url)
        return browser.post(
            url + "login",
            data={"name": name, "password": password, "next": "/", "csrf": token},
            allow_redirects=False,
            timeout=30,
        )


def sign_in_answers(log: str) -> list[tuple[str, str]]:
    """(worker pid, status) of each sign-in post, from gunicorn's access log."""
    return [
        (line.split()[1], line.split()[-1])
        for line in log.splitlines()
        if line.startswith("answered-by") and " POST /login " in line
    ]


def test_gunicorn_workers_refuse_the_sixth_wrong_password_together(tmp_path, settings):
    env = {"USERS_FILE": str(settings.users_file), "SECRET_KEY": settings.secret_key}
    server = AppServer(tmp_path / "data", env=env, command=GUNICORN).start()
    try:
        first = HeldWorker(server.port)  # worker P is busy: Q answers
        for _ in range(3):
            wrong = post_alone(server.url, "ana", "guess")
            assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
        second = HeldWorker(server.port)  # now Q is busy
        first.release()  # and P answers
        for _ in range(2):
            assert post_alone(server.url, "ana", "guess").status_code == 401
        refused = post_alone(server.url, "ana", PASSWORD)  # P has seen 2 of the 5 failures
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        third = HeldWorker(server.port)  # P is busy again
        second.release()  # and Q answers
        refused = post_alone(server.url, "ANA", PASSWORD)  # Q has seen 3 of the 5 failures
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        assert post_alone(server.url, "bo", PASSWORD).status_code == 302  # others sign in
        third.release()
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    answers = sign_in_answers(log)
    q, p = answers[0][0], answers[3][0]
    assert p != q, log[-3000:]  # both workers took part, as the test meant them to
    assert answers == [(q, "401")] * 3 + [(p, "401")] * 2 + [(p, "429"), (q, "429"), (q, "302")]
