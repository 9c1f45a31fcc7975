"""Database backends for integration tests: each test using `database_url` or `store` runs
once per backend. A backend is a name in STORE_BACKENDS plus a fixture
`<name>_database_url` returning the URL of an empty database that belongs to one test
(tests may drop tables in it); PostgreSQL's is in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.annotation_store import AnnotationStore

STORE_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'annotations.db'}"


@pytest.fixture(params=STORE_BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database on each backend in turn."""
    return str(request.getfixturevalue(f"{request.param}_database_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[AnnotationStore]:
    store = AnnotationStore.from_url(database_url)
    yield store
    store.engine.dispose()
