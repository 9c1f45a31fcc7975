"""Accounts and roles: who may sign in and what each role may see. Pure: text in, records out.

Accounts come from USERS_FILE (TOML, written by `python cli.py add-user`) or the USERS
environment variable (one `name:role:password-hash` entry per line or comma, for PaaS
where files do not persist). Passwords are stored only as hashes, made in `auth/`.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import AccountError, AnnotatorNameError
from domain.identity import clean_annotator_name
from domain.repeats import REPEAT_SUFFIX
from domain.sources import MODEL_PREFIX


class Role(StrEnum):
    """What a signed-in person may do; each role can do everything the ones before it can."""

    ANNOTATOR = "annotator"  # annotates; sees only their own work
    REVIEWER = "reviewer"  # also the Agreement tab, comparison views and exports
    ADMIN = "admin"  # also imports, users and assignment settings


RANK = {Role.ANNOTATOR: 0, Role.REVIEWER: 1, Role.ADMIN: 2}
ROLE_NAMES = ", ".join(r.value for r in Role)


def allows(role: Role, needed: Role) -> bool:
    """True when someone with role may do what needs `needed`."""
    return RANK[role] >= RANK[needed]


@dataclass(frozen=True)
class Viewer:
    """The person a page is built for: in local mode (no accounts) nobody in particular."""

    name: str | None
    role: Role
    signed_in: bool
    csrf_token: str = ""  # the session's token for the page's own forms (sign out)
    # an admin of the whole deployment (accounts, projects), whatever the project's role
    manages_deployment: bool = True

    def may(self, needed: Role) -> bool:
        """True when this person may use what needs `needed`."""
        return allows(self.role, needed)


LOCAL = Viewer(None, Role.ADMIN, False)  # local mode: one trusted person, as before sign-in


def parse_role(raw: object) -> Role:
    """A role from its name, or AccountError listing the known ones."""
    try:
        return Role(str(raw).strip().lower())
    except ValueError:
        raise AccountError(f"unknown role {raw!r}: use one of {ROLE_NAMES}") from None


@dataclass(frozen=True)
class Account:
    """Someone who may sign in."""

    name: str
    role: Role
    password_hash: str


RESERVED_NAMES = ("gold",)  # names Concord gives to records that are nobody's own work


def _invisible(char: str) -> bool:
    """Control characters (tab, newline, NUL...) and invisible format ones (zero width)."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def account_name(raw: object) -> str:
    """A name for a new account, or AccountError saying which character or form is
    reserved: control characters, leading/trailing spaces, '#' (second passes are kept as
    name#repeat), ':' (it separates a USERS entry), model:... (detectors) and 'gold'."""
    if not isinstance(raw, str):
        raise AccountError("an account name is text")
    for char in raw:
        if _invisible(char):
            raise AccountError(
                f"the name {raw!r} contains the control or invisible character U+{ord(char):04X}: "
                "names are plain visible text"
            )
    if raw != raw.strip():
        raise AccountError(f"the name {raw!r} starts or ends with a space")
    try:
        name = clean_annotator_name(raw)
    except AnnotatorNameError as exc:
        raise AccountError(str(exc).rstrip(".")) from None
    if name != raw:
        raise AccountError(f"the name {raw!r} has extra spaces")
    if name.casefold().startswith(MODEL_PREFIX):
        raise AccountError(
            f"the name {name!r} starts with {MODEL_PREFIX!r}, which is kept for detectors"
        )
    if "#" in name:
        raise AccountError(
            f"the name {name!r} contains '#', which is kept for second passes "
            f"(an annotator's repeats are stored as name{REPEAT_SUFFIX})"
        )
    if ":" in name:
        raise AccountError(
            f"the name {name!r} contains ':', which separates the parts of a USERS entry"
        )
    if name.casefold() in RESERVED_NAMES:
        raise AccountError(f"the name {name!r} is reserved by Concord")
    return name


# werkzeug's hashes look like "scrypt:32768:8:1$salt$hex" or "pbkdf2:sha256:600000$salt$hex".
_HASH = re.compile(r"^[a-z0-9]+(:[a-z0-9]+)*\$[^\s$,]+\$[0-9a-f]+$")


def _account(name: object, role: object, password_hash: object, where: str) -> Account:
    try:
        clean = account_name(name)
    except AccountError as exc:
        raise AccountError(f"{where}: {exc}") from None
    try:
        checked_role = parse_role(role)
    except AccountError as exc:
        raise AccountError(f"{where}: {exc}") from None
    if not isinstance(password_hash, str) or not _HASH.match(password_hash):
        raise AccountError(
            f"{where}: the password of {clean!r} is not a hash made by "
            "`python cli.py add-user` (plain passwords are refused)"
        )
    return Account(clean, checked_role, password_hash)


def _unique(accounts: Iterable[Account], where: str) -> tuple[Account, ...]:
    seen: dict[str, Account] = {}
    for account in accounts:
        if account.name in seen:
            raise AccountError(f"{where}: {account.name!r} is listed twice")
        seen[account.name] = account
    return tuple(seen.values())


def parse_users_toml(text: str, where: str = "USERS_FILE") -> tuple[Account, ...]:
    """Accounts from a users file: `[[user]]` tables with name, role and password_hash."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccountError(f"{where} is not valid TOML: {exc}") from None
    entries = data.get("user", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AccountError(f"{where}: write each account as a [[user]] table")
    return _unique(
        (
            _account(
                e.get("name"),
                e.get("role"),
                e.get("password_hash"),
                f"{where}, account {n}",
            )
            for n, e in enumerate(entries, start=1)
        ),
        where,
    )


def parse_users_env(text: str, where: str = "USERS") -> tuple[Account, ...]:
    """Accounts from `name:role:hash` entries separated by newlines or commas."""
    accounts = []
    for n, entry in enumerate(re.split(r"[\n,]+", text.strip()), start=1):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3:
            raise AccountError(f"{where}, entry {n}: write it as name:role:password-hash")
        accounts.append(
            _account(parts[0].strip(), parts[1], parts[2].strip(), f"{where}, entry {n}")
        )
    return _unique(accounts, where)


def users_toml(accounts: Iterable[Account]) -> str:
    """A users file holding these accounts (JSON string escapes are valid TOML ones)."""
    blocks = [
        "# Concord accounts: add or change them with `python cli.py add-user NAME --role ROLE`.\n"
    ]
    for account in accounts:
        blocks.append(
            "\n[[user]]\n"
            f"name = {json.dumps(account.name)}\n"
            f"role = {json.dumps(account.role.value)}\n"
            f"password_hash = {json.dumps(account.password_hash)}\n"
        )
    return "".join(blocks)


def users_env_entry(account: Account) -> str:
    """One account as a USERS entry; names with ':' or ',' cannot be written this way."""
    if ":" in account.name or "," in account.name:
        raise AccountError(f"{account.name!r} contains ':' or ',': use USERS_FILE for it")
    return f"{account.name}:{account.role.value}:{account.password_hash}"


def with_account(accounts: Iterable[Account], account: Account) -> tuple[Account, ...]:
    """The accounts with this one added, or replacing the one of the same name."""
    kept = [a for a in accounts if a.name != account.name]
    return (*kept, account)
