"""Servers shared by test layers: PostgreSQL is started once, on demand, and stopped by PID."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.servers import PostgresServer


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
