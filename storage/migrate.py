"""Schema migrations with Alembic: `python cli.py migrate` (the PaaS release step) and every
store opening bring the database to the newest revision, one process at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage.database_file import one_process_at_a_time
from storage.errors import StorageError, database_reason

SCRIPTS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 7_406_2026  # pg_advisory_lock's key for Concord's migrations


@dataclass(frozen=True)
class Migrated:
    """The revision a database was at and is at now."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


MAIN_SPACE = "main"  # the main database: accounts, projects, and the first project's records
PROJECT_SPACE = "project"  # another project's own schema or file: its records only


def _config(connection: Connection | None = None, space: str = MAIN_SPACE) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    config.attributes["space"] = space
    return config


def head_revision() -> str:
    """The newest revision in storage/migrations/versions/."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """Workers starting together migrate one after another: a PostgreSQL advisory lock, or
    a lock file beside a SQLite database."""
    backend = engine.dialect.name
    if backend == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if backend != "sqlite" or not database or database == ":memory:":
        yield
        return
    with one_process_at_a_time(Path(database)):
        yield


def upgrade(engine: Engine, space: str = MAIN_SPACE, schema: str | None = None) -> Migrated:
    """Bring the database to the newest revision (a database made before migrations keeps
    its data: the baseline only adds what it lacks). `schema`: a PostgreSQL schema of its
    own (created if need be) that the migrations run in, for a project's space."""
    try:
        with _one_at_a_time(engine):
            head = head_revision()
            with engine.begin() as conn:
                if schema is not None:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                    # for this transaction only: the pooled connection keeps its own path
                    conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
                before = MigrationContext.configure(conn).get_current_revision()
                if before != head:
                    command.upgrade(_config(conn, space), "head")
    except SQLAlchemyError as exc:
        reason = database_reason(exc)
        raise StorageError(f"cannot bring the database schema up to date: {reason}") from None
    return Migrated(before, head)
