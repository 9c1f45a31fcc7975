"""Servers shared by test layers: PostgreSQL and S3 start once, on demand; stopped by PID."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.servers import MotoServer, PostgresServer


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
