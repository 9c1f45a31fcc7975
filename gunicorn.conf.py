"""gunicorn's settings file, read from the working directory by `gunicorn app:server` (the
Procfile's web process). Before it listens, the master refuses to start when it would serve
beyond loopback with no accounts (unless ALLOW_NO_SIGN_IN=1) or over a deleted or
unwritable SQLite database, with the reason in gunicorn's log and exit status 1."""

from __future__ import annotations

from typing import Any


def on_starting(server: Any) -> None:
    """gunicorn's hook, in the master before the sockets open: check the binds and the
    database against the environment's settings."""
    from config import ConfigError, load_settings
    from deploy_guard import guard_start

    try:
        settings = load_settings()
    except ConfigError as exc:
        server.log.error("Concord refuses to start: %s", exc)
        raise SystemExit(1) from None
    guard_start(settings, list(server.cfg.bind), server.log)
