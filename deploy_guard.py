"""Checks made before the app listens, by `python app.py` and by gunicorn (gunicorn.conf.py):
an app reachable beyond this machine with no accounts is refused unless ALLOW_NO_SIGN_IN
says so, and a missing or unwritable SQLite database is refused before anything is made."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from config import Settings
from storage.database_file import check_before_opening, new_database_note, sqlite_file
from storage.errors import StorageError

log = logging.getLogger("concord.start")


def _host_of(bind: str) -> str | None:
    """The host part of a bind (gunicorn's HOST, HOST:PORT, [V6]:PORT, tcp://...); None for
    a unix socket or an inherited descriptor."""
    if bind.startswith(("unix:", "fd://")):
        return None
    bind = bind.removeprefix("tcp://")
    if bind.startswith("["):
        return bind[1 : bind.find("]")]
    if bind.count(":") == 1:
        return bind.split(":")[0]
    return bind  # a bare host, or a bare IPv6 address


def reaches_beyond_loopback(bind: str) -> bool:
    """True unless the bind is a loopback address (127.0.0.0/8, ::1, localhost). A socket
    file counts as open: whatever forwards to it decides who reaches it."""
    host = _host_of(bind)
    if host is None:
        return True
    if host.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # "" (every interface) or a name that may resolve anywhere


def _exposure(binds: Sequence[str], settings: Settings) -> str | None:
    """Where the app is reachable from elsewhere with no accounts; None when it is not."""
    if settings.sign_in_configured:
        return None
    open_binds = [bind for bind in binds if reaches_beyond_loopback(bind)]
    if open_binds:
        return ", ".join(open_binds)
    if settings.proxy_hops and binds:  # a proxy in front forwards other machines' requests
        return f"{', '.join(binds)} behind PROXY_HOPS={settings.proxy_hops} proxies"
    return None


def exposure_problem(binds: Sequence[str], settings: Settings) -> str | None:
    """Why the app must not start on these binds: reachable beyond this machine with no
    accounts, and ALLOW_NO_SIGN_IN not set. None when it may start."""
    where = _exposure(binds, settings)
    if where is None or settings.allow_no_sign_in:
        return None
    return (
        f"Concord refuses to start: it would listen on {where} with no accounts, so anyone "
        "who reaches it is an Admin and can export every annotation. Set USERS_FILE or "
        "USERS (and SECRET_KEY) so people must sign in, or set ALLOW_NO_SIGN_IN=1 to serve "
        "it open on purpose."
    )


def exposure_warning(binds: Sequence[str], settings: Settings) -> str | None:
    """The warning logged when ALLOW_NO_SIGN_IN lets an open app start; None otherwise."""
    where = _exposure(binds, settings)
    if where is None or not settings.allow_no_sign_in:
        return None
    return (
        f"ALLOW_NO_SIGN_IN=1: Concord listens on {where} with no accounts; anyone who "
        "reaches it is an Admin and can export every annotation."
    )


def app_binds(settings: Settings) -> list[str]:
    """Where `python app.py` listens (HOST and PORT), written as a gunicorn bind."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return [f"{host}:{settings.port}"]


def start_problem(binds: Sequence[str], settings: Settings) -> str | None:
    """Why the app must not start (exposure, or a deleted or unwritable SQLite database);
    None when it may."""
    problem = exposure_problem(binds, settings)
    if problem:
        return problem
    database = sqlite_file(settings.database_url)
    if database is None:
        return None
    try:
        check_before_opening(database)
    except StorageError as exc:
        return f"Concord refuses to start: {exc}"
    return None


def guard_start(settings: Settings, binds: Sequence[str] | None = None, logger: Any = None) -> None:
    """Log the warnings (open on purpose, a new empty database) or the refusal for these
    binds (default: HOST and PORT); exit with status 1 when the app must not start.
    `logger` may be gunicorn's."""
    logger = logger or log
    binds = app_binds(settings) if binds is None else list(binds)
    warning = exposure_warning(binds, settings)
    if warning:
        logger.warning(warning)
    problem = start_problem(binds, settings)
    if problem:
        logger.error(problem)
        raise SystemExit(1)
    database = sqlite_file(settings.database_url)
    note = new_database_note(database) if database is not None else None
    if note:
        logger.warning(note)
