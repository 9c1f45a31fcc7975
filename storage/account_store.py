"""Accounts an admin makes in the app, and settings an admin changes there: small tables
read through a short cache, so every worker sees a change within seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from domain.accounts import Account, parse_role
from domain.annotation import utc_now
from domain.errors import AccountError
from storage.errors import StorageError, database_reason
from storage.schema import ACCOUNTS, APP_SETTINGS

T = TypeVar("T")
FRESH_SECONDS = 2.0  # how stale a worker's view of accounts and settings may be


class _Cached:
    """A value read again once it is older than FRESH_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, read: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            found = self._values.get(key)
        if found is not None and now - found[0] < FRESH_SECONDS:
            return found[1]
        value = read()
        with self._lock:
            self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class AccountStore:
    """Accounts in the database: find, list, save, remove."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = _Cached()

    def _read(self, name: str) -> Account | None:
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.name == name)).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read accounts: {database_reason(exc)}") from None
        if row is None:
            return None
        try:
            return Account(row.name, parse_role(row.role), row.password_hash)
        except AccountError:
            return None  # a role this version does not know: no sign-in

    def find(self, name: str) -> Account | None:
        """The account of that name (as of a moment ago), or None."""
        return self._cache.get(name, lambda: self._read(name))

    def all(self) -> list[Account]:
        """Every account made in the app, by name."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(ACCOUNTS).order_by(ACCOUNTS.c.name)).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read accounts: {database_reason(exc)}") from None
        return [Account(r.name, parse_role(r.role), r.password_hash) for r in rows]

    def save(self, account: Account) -> bool:
        """Add the account or replace the one of that name (True: added)."""
        values = {
            "role": account.role.value,
            "password_hash": account.password_hash,
            "updated_at": utc_now(),
        }
        try:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(ACCOUNTS).where(ACCOUNTS.c.name == account.name).values(**values)
                )
                if done.rowcount == 0:
                    conn.execute(insert(ACCOUNTS).values(name=account.name, **values))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save the account: {database_reason(exc)}") from None
        self._cache.clear()
        return done.rowcount == 0

    def remove(self, name: str) -> bool:
        """Remove an account (True: there was one)."""
        try:
            with self.engine.begin() as conn:
                done = conn.execute(delete(ACCOUNTS).where(ACCOUNTS.c.name == name))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot remove the account: {database_reason(exc)}") from None
        self._cache.clear()
        return done.rowcount > 0


class AppSettings:
    """Named settings an admin set in the app (strings; None: the environment's default)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = _Cached()

    def _read_all(self) -> dict[str, str]:
        try:
            with self.engine.connect() as conn:
                return {r.name: r.value for r in conn.execute(select(APP_SETTINGS))}
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read settings: {database_reason(exc)}") from None

    def get(self, name: str) -> str | None:
        """The value an admin set, or None."""
        return self._cache.get("*", self._read_all).get(name)

    def claim(self, name: str, value: str) -> bool:
        """Set a value that is not set yet: True for the one caller, among all workers, whose
        insert made it (the name is the table's primary key); False when it was set."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(APP_SETTINGS).values(name=name, value=value))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save the setting: {database_reason(exc)}") from None
        self._cache.clear()
        return True

    def put(self, name: str, value: str | None) -> None:
        """Set a value, or with None go back to the environment's default."""
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(APP_SETTINGS).where(APP_SETTINGS.c.name == name))
                if value is not None:
                    conn.execute(insert(APP_SETTINGS).values(name=name, value=value))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save the setting: {database_reason(exc)}") from None
        self._cache.clear()
