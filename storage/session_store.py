"""Signed-in sessions kept in the application database (table `sessions`), so logout, a new
password or an expired session end a session on every gunicorn worker and every dyno.

The browser's cookie carries only a random token; the table keeps its sha256, the account
and a stamp of the account's credentials (see auth/web.py). A session ends after `hours`
from sign-in, or after `idle_minutes` without a request; `last_seen_at` is written at most
once per TOUCH_EVERY seconds, so a busy page costs one read per request, not a write.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import utc_now
from storage.errors import StorageError, database_reason
from storage.schema import SESSIONS, as_utc

log = logging.getLogger("concord.auth")

TOUCH_EVERY = 60.0  # seconds between two writes of one session's last_seen_at
PRUNE_EVERY = 300.0  # seconds between one worker's deletions of expired rows


def token_digest(token: str) -> str:
    """What the table stores for a token: its sha256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    """A live session: whose it is, and the credential stamp it was opened with."""

    account: str
    stamp: str


class SessionStore:
    """Open, find, close and end sessions, one short transaction per call; database
    errors are raised as StorageError."""

    def __init__(
        self,
        engine: Engine,
        hours: float = 12,
        idle_minutes: float = 60,
        clock: Callable[[], datetime] = utc_now,
        touch_every: float = TOUCH_EVERY,
    ) -> None:
        self.engine = engine
        self.lifetime = timedelta(hours=hours)
        self.idle = timedelta(minutes=idle_minutes)
        self._clock = clock
        self._touch_every = timedelta(seconds=touch_every)
        self._lock = threading.Lock()
        self._pruned_at: float | None = None

    def open(self, account: str, stamp: str) -> str:
        """A new session for the account: the token for the cookie (stored only hashed)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        row = {
            "token_hash": token_digest(token),
            "account": account,
            "stamp": stamp,
            "created_at": now,
            "last_seen_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(SESSIONS).values(**row))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot open a session: {database_reason(exc)}") from None
        self._prune_now_and_then(now)
        return token

    def find(self, token: str) -> OpenSession | None:
        """The live session of this token, or None (unknown, closed or expired: an expired
        one is deleted). Notes the request as activity, at most once a minute."""
        if not token:
            return None
        digest = token_digest(token)
        now = self._clock()
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(SESSIONS).where(SESSIONS.c.token_hash == digest)).first()
            if row is None:
                return None
            if self._expired(as_utc(row.created_at), as_utc(row.last_seen_at), now):
                self._delete(SESSIONS.c.token_hash == digest)
                return None
            if now - as_utc(row.last_seen_at) >= self._touch_every:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(SESSIONS)
                        .where(SESSIONS.c.token_hash == digest)
                        .values(last_seen_at=now)
                    )
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the session: {database_reason(exc)}") from None
        return OpenSession(row.account, row.stamp)

    def close(self, token: str) -> None:
        """End this session (logout)."""
        self._delete(SESSIONS.c.token_hash == token_digest(token))

    def _expired(self, created: datetime, seen: datetime, now: datetime) -> bool:
        return now - created >= self.lifetime or now - seen >= self.idle

    def _delete(self, condition: object) -> int:
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(delete(SESSIONS).where(condition)).rowcount or 0)  # type: ignore[arg-type]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot end the session: {database_reason(exc)}") from None

    def _prune_now_and_then(self, now: datetime) -> None:
        moment = time.monotonic()
        with self._lock:
            if self._pruned_at is not None and moment - self._pruned_at < PRUNE_EVERY:
                return
            self._pruned_at = moment
        try:
            self._delete(
                or_(
                    SESSIONS.c.created_at <= now - self.lifetime,
                    SESSIONS.c.last_seen_at <= now - self.idle,
                )
            )
        except StorageError as exc:  # a failed clean-up never refuses a sign-in
            log.warning("expired sessions not deleted: %s", exc)
