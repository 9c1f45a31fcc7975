"""The SQLite database file, watched over: never silently replaced by an empty one, a
deletion while the app runs fails writes loudly, and unwritable files are refused at start.

A marker file beside the database (`annotations.db.created`) records that a database was
kept at that path; while it exists, a missing database is an error, not a fresh start.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.errors import SaveFailed, StorageError, database_reason

log = logging.getLogger("concord.storage")

MARKER_SUFFIX = ".created"
Identity = tuple[int, int]  # (st_dev, st_ino): which file, not what it holds


class DatabaseGone(SaveFailed):
    """The database file was deleted or replaced under a running app."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (absolute); None for other backends, memory
    databases and `file:` URIs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query.get("uri"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).absolute()


def marker_of(database: Path) -> Path:
    """The file that says a database was kept at `database`."""
    return database.with_name(database.name + MARKER_SUFFIX)


def identity_of(path: Path) -> Identity | None:
    """(device, inode) of the file at path; None when nothing is there."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _not_writable(path: Path, what: str) -> str:
    return (
        f"cannot write {path}: {what} is read-only for this process (uid {os.geteuid()}). "
        "SQLite must write the database file, its folder and its -wal and -shm files "
        "(a read-only -shm file crashes the worker). Give this user write access (chown or "
        "chmod) or remove the stale -wal/-shm files while no Concord process runs."
    )


def writable_problem(database: Path) -> str | None:
    """Why SQLite could not write the database at start, naming the file; None when the
    folder, the database and any -wal/-shm files are all writable."""
    folder = database.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folders still to be made go in here
    if not os.access(folder, os.W_OK | os.X_OK):
        what = "the database folder" if folder == database.parent else "the folder it goes in"
        return _not_writable(folder, what)
    for path, what in (
        (database, "the database file"),
        (Path(f"{database}-wal"), "the database's write-ahead log"),
        (Path(f"{database}-shm"), "the database's shared-memory file"),
    ):
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return _not_writable(path, what)
    return None


def missing_problem(database: Path) -> str | None:
    """Why opening would silently start an empty database; None when it would not."""
    # The marker is read first: it is written only once the database exists, so a
    # database another worker is creating right now never looks deleted.
    marker = marker_of(database)
    if marker.exists() and not database.exists():
        return (
            f"the database file {database} is missing, but {marker} says Concord kept its "
            "database there: it was deleted or moved, and starting now would silently begin "
            "an empty one. Restore it from a backup and start again; or, to start afresh on "
            f"purpose, delete {marker}."
        )
    leftovers = [p for p in (Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]
    if leftovers and not database.exists():
        return (
            f"the database file {database} is missing but {leftovers[0]} is still there: "
            "it belongs to the deleted database, and SQLite would replay it into whatever "
            "database is opened next. Move the -wal and -shm files away, restore the "
            "database from a backup (or start afresh on purpose), and start again."
        )
    return None


def new_database_note(database: Path) -> str | None:
    """The warning for a start that will make a new, empty database; None when one is
    there (or a deleted one must be restored first: see missing_problem)."""
    if database.exists() or marker_of(database).exists():
        return None
    return (
        f"no database at {database} yet: starting with a new, empty database at {database}. "
        f"{marker_of(database).name} beside it will mark it: while that file exists, a "
        "missing database stops the app instead of being made afresh."
    )


def check_before_opening(database: Path) -> None:
    """Refuse (StorageError) a database that was deleted since it was made, or one this
    process cannot write; nothing is created."""
    problem = missing_problem(database) or writable_problem(database)
    if problem:
        raise StorageError(problem)


def gone_message(database: Path) -> str:
    """What a write says when the database file is no longer the one the app opened."""
    return (
        f"the database file {database} was deleted or replaced while the app ran; nothing "
        "was saved; restore it or restart"
    )


def _check_identity(database: Path, expected: Identity) -> None:
    try:
        found = identity_of(database)
    except OSError as exc:
        raise StorageError(f"cannot check the database file {database}: {exc}") from None
    if found != expected:
        raise DatabaseGone(gone_message(database))


@contextmanager
def one_process_at_a_time(database: Path) -> Iterator[None]:
    """Processes opening or migrating the database do it one after another (a lock file
    beside it): gunicorn's workers start together."""
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def watch(engine: Engine, database: Path) -> None:
    """Create the database file if need be (saying so), mark it, and check before every
    connection and transaction that the path still holds that same file."""
    # Workers starting together on a new data folder: one makes the file and switches it
    # to WAL while the others wait (else one of them, finding no file, could connect as
    # the first one locks it: "database is locked", and the worker failed to boot).
    with one_process_at_a_time(database):
        if not database.exists():
            try:
                with engine.connect():  # SQLite makes the file; WAL is set on connect
                    pass
            except SQLAlchemyError as exc:
                reason = database_reason(exc)
                raise StorageError(f"cannot create the database {database}: {reason}") from None
            log.info("created a new, empty database at %s", database)  # the app warns first
    expected = identity_of(database)
    if expected is None:
        raise StorageError(f"the database file {database} vanished as it was opened")
    marker = marker_of(database)
    if not marker.exists():
        marker.write_text(
            f"Concord keeps its database in {database.name} here (marked "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC). While this file exists, Concord "
            "refuses to start when that database is missing. Delete this file only to "
            "start afresh with an empty database on purpose.\n"
        )

    @event.listens_for(engine, "do_connect")
    def _before_connecting(*_args: Any) -> None:
        _check_identity(database, expected)  # else SQLite would make an empty file here

    @event.listens_for(engine, "begin")
    def _before_transaction(_connection: Any) -> None:
        _check_identity(database, expected)


@dataclass(frozen=True)
class DatabaseProblem:
    """Why the database cannot be used: `reason` names no file or host (an open health
    check shows it to anyone); `detail` does, for the log."""

    reason: str
    detail: str


def database_problem(engine: Engine) -> DatabaseProblem | None:
    """Why the database cannot be used right now (a cheap read, and on SQLite the file's
    identity); None when it answers."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DatabaseGone as exc:
        reason = "its file was deleted or replaced while the app ran; restore it or restart"
        return DatabaseProblem(f"database unavailable: {reason}", str(exc))
    except StorageError as exc:
        return DatabaseProblem("database unavailable: its file cannot be checked", str(exc))
    except SQLAlchemyError as exc:
        detail = f"the database does not answer: {database_reason(exc)}"
        return DatabaseProblem("database unavailable: it does not answer", detail)
    return None
