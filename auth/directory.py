"""The configured accounts: USERS_FILE (re-read when it changes) plus the USERS variable."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from domain.accounts import (
    Account,
    account_name,
    parse_users_env,
    parse_users_toml,
    users_toml,
    with_account,
)
from domain.errors import AccountError
from storage.account_store import AccountStore
from storage.errors import StorageError

log = logging.getLogger("concord.auth")


class AccountDirectory:
    """Finds accounts by name. A users file edited while the app runs is picked up on the
    next request; a broken edit is logged and the previous accounts are kept."""

    def __init__(
        self, users_file: Path | None, users_env: str = "", made_in_app: AccountStore | None = None
    ) -> None:
        self.users_file = users_file
        self.made_in_app = made_in_app
        self._env = parse_users_env(users_env) if users_env.strip() else ()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._from_file: tuple[Account, ...] = ()
        self._by_name: dict[str, Account] = {}
        self._load(strict=True)

    @property
    def enabled(self) -> bool:
        """True when sign-in is required (a users file or USERS is configured)."""
        return self.users_file is not None or bool(self._env)

    def _read_file(self) -> tuple[Account, ...]:
        assert self.users_file is not None
        try:
            text = self.users_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AccountError(
                f"USERS_FILE {self.users_file} does not exist: create it with "
                "`python cli.py add-user NAME --role admin`"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise AccountError(f"cannot read USERS_FILE {self.users_file}: {exc}") from None
        return parse_users_toml(text, f"USERS_FILE {self.users_file}")

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.users_file.stat() if self.users_file else None
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size) if stat else None

    def _load(self, strict: bool) -> None:
        stamp = self._file_stamp()
        if self.users_file is not None and (strict or stamp != self._stamp):
            try:
                self._from_file = self._read_file()
            except AccountError as exc:
                if strict:
                    raise
                log.warning("%s; keeping the accounts read before", exc)
            self._stamp = stamp
        names = {a.name for a in self._from_file}
        clash = sorted(names & {a.name for a in self._env})
        if clash and strict:
            raise AccountError(f"{', '.join(clash)} is in both USERS_FILE and USERS")
        self._by_name = {a.name: a for a in (*self._env, *self._from_file)}

    def configured(self, name: str) -> Account | None:
        """The USERS_FILE or USERS account with this name (the file is read again if it
        changed)."""
        if self.users_file is not None and self._file_stamp() != self._stamp:
            with self._lock:
                self._load(strict=False)
        return self._by_name.get(name)

    def find(self, name: str) -> Account | None:
        """The account with this name: configured, or else made by an admin in the app."""
        found = self.configured(name)
        if found is not None or self.made_in_app is None or not name:
            return found
        try:
            found = self.made_in_app.find(name)
        except StorageError as exc:
            log.warning("accounts made in the app cannot be read: %s", exc)
            return None
        if found is not None:
            try:
                account_name(found.name)
            except AccountError as exc:  # made before names were checked: an admin removes it
                log.warning("account %r may not sign in: %s", found.name, exc)
                return None
        return found

    def origin(self, name: str) -> str:
        """Where an account comes from: USERS_FILE, USERS or the app."""
        if self.configured(name) is None:
            return "app"
        return "USERS" if any(a.name == name for a in self._env) else "USERS_FILE"

    def configured_accounts(self) -> list[Account]:
        """Every USERS_FILE and USERS account, by name."""
        self.configured("")
        return sorted(self._by_name.values(), key=lambda a: a.name)


def save_account(users_file: Path, account: Account) -> bool:
    """Add the account to the users file, or replace the one of that name (True: added).
    The file is replaced atomically and readable by its owner only."""
    existing: tuple[Account, ...] = ()
    if users_file.exists():
        existing = parse_users_toml(users_file.read_text(encoding="utf-8"), str(users_file))
    added = all(a.name != account.name for a in existing)
    users_file.parent.mkdir(parents=True, exist_ok=True)
    part = users_file.with_name(users_file.name + ".part")
    part.write_text(users_toml(with_account(existing, account)), encoding="utf-8")
    part.chmod(0o600)
    part.replace(users_file)
    return added
