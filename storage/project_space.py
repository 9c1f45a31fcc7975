"""Where a project's records live. The first project's are in the main database's tables,
as before projects. Every other project has a space of its own with the same tables: on
PostgreSQL a schema `project_<id>` of the same database (one pool; every statement is
pointed at the schema), on SQLite a file beside the main one (`annotations.project-<id>.db`).
So a query made for one project cannot read or write another's rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from domain.projects import FIRST_PROJECT_ID
from storage.annotation_store import make_engine
from storage.errors import StorageError
from storage.migrate import PROJECT_SPACE, upgrade


def schema_name(project_id: int) -> str:
    """The PostgreSQL schema of a project's records."""
    return f"project_{int(project_id)}"


def sqlite_space_file(main: Engine, project_id: int) -> Path:
    """The SQLite file of a project's records, beside the main database."""
    database = main.url.database
    if not database or database == ":memory:":
        raise StorageError("projects beyond the first need a database file or PostgreSQL")
    path = Path(database)
    return path.with_name(f"{path.stem}.project-{int(project_id)}{path.suffix or '.db'}")


def space_engine(main: Engine, project_id: int) -> Engine:
    """An engine whose statements read and write the project's own tables."""
    if project_id == FIRST_PROJECT_ID:
        return main
    if main.dialect.name == "postgresql":
        # Shares the main engine's pool; every Core statement names the project's schema.
        return main.execution_options(schema_translate_map={None: schema_name(project_id)})
    if main.dialect.name == "sqlite":
        return make_engine(f"sqlite:///{sqlite_space_file(main, project_id)}")
    raise StorageError(f"projects are not supported on {main.dialect.name}")


def prepare_space(main: Engine, project_id: int) -> Engine:
    """The project's space with its tables at the newest revision (made if need be)."""
    engine = space_engine(main, project_id)
    if project_id == FIRST_PROJECT_ID:
        upgrade(main)
    elif main.dialect.name == "postgresql":
        upgrade(main, PROJECT_SPACE, schema=schema_name(project_id))
    else:
        upgrade(engine, PROJECT_SPACE)
    return engine
