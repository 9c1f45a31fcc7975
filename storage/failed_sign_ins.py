"""Failed sign-ins counted in the application database (table `failed_sign_ins`), so every
gunicorn worker and every dyno sees the same attempts when there is no Redis."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from domain.annotation import utc_now
from storage.errors import StorageError, database_reason
from storage.schema import FAILED_SIGN_INS, as_utc

log = logging.getLogger("concord.auth")

KEY_LENGTH = 255  # the column's width; a longer typed name is counted by its start
PRUNE_EVERY = 60.0  # seconds between one worker's deletions of rows no window counts

# (kind, key, amount, seconds): at most `amount` failures of kind=key within `seconds`.
Window = tuple[str, str, int, int]


class FailedSignIns:
    """A moving-window count of failed sign-ins per (kind, key), one short transaction per
    call; database errors are raised as StorageError."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utc_now,
        prune_every: float = PRUNE_EVERY,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._prune_every = prune_every
        self._lock = threading.Lock()
        self._pruned_at: float | None = None  # time.monotonic() of this worker's last prune

    def wait_seconds(self, windows: Sequence[Window]) -> float:
        """0 when every window holds fewer failures than its amount, else the seconds until
        the one that must leave first has left."""
        now = self._clock()
        wait = 0.0
        try:
            with self.engine.connect() as conn:
                for kind, key, amount, seconds in windows:
                    since = now - timedelta(seconds=seconds)
                    newest = (
                        select(FAILED_SIGN_INS.c.at)
                        .where(
                            FAILED_SIGN_INS.c.kind == kind,
                            FAILED_SIGN_INS.c.key == key[:KEY_LENGTH],
                            FAILED_SIGN_INS.c.at > since,
                        )
                        .order_by(FAILED_SIGN_INS.c.at.desc())
                        .limit(amount)
                    )
                    times = conn.execute(newest).scalars().all()
                    if times and len(times) >= amount:
                        # Below the limit again once the amount-th newest failure is out.
                        leaves = as_utc(times[-1]) + timedelta(seconds=seconds)
                        wait = max(wait, (leaves - now).total_seconds())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count failed sign-ins: {database_reason(exc)}") from None
        return wait

    def add(self, windows: Sequence[Window]) -> None:
        """Count one failure under each window's (kind, key); now and then delete the rows
        that have left the longest of these windows."""
        now = self._clock()
        rows = [{"kind": kind, "key": key[:KEY_LENGTH], "at": now} for kind, key, *_ in windows]
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(FAILED_SIGN_INS), rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot record a failed sign-in: {database_reason(exc)}") from None
        if self._prune_due():
            self._prune(now - timedelta(seconds=max(seconds for *_, seconds in windows)))

    def _prune_due(self) -> bool:
        moment = time.monotonic()
        with self._lock:
            if self._pruned_at is not None and moment - self._pruned_at < self._prune_every:
                return False
            self._pruned_at = moment
            return True

    def _prune(self, before: datetime) -> None:
        # Its own transaction after the insert: a failed clean-up never loses a count.
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(FAILED_SIGN_INS).where(FAILED_SIGN_INS.c.at <= before))
        except SQLAlchemyError as exc:
            log.warning("old failed sign-ins not deleted: %s", database_reason(exc))
