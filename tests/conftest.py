"""Servers shared by test layers: PostgreSQL and S3 start once, on demand; stopped by PID.
Also the browser dash[testing]'s fixtures (dash_duo) drive: Debian's headless Chromium."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.servers import MotoServer, PostgresServer


@pytest.hookimpl(optionalhook=True)
def pytest_setup_options() -> Any:
    """dash[testing]'s hook: selenium drives /usr/bin/chromium headless through the
    chromedriver on PATH (Debian's chromium-driver), so plain `pytest` needs no flags and
    nothing downloads a driver."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for argument in [*CHROMIUM_ARGS, "--window-size=1280,1000"]:
        options.add_argument(argument)
    return options


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_database_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database for one test."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """moto's S3 server on 127.0.0.1, shared by the session; tests use their own buckets."""
    server = MotoServer().start()
    yield server
    server.stop()
