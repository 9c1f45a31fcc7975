"""Failed sign-ins are rate-limited per name and per address, counted where every worker
sees them: the application database (storage/failed_sign_ins.py) when REDIS_URL is unset,
Redis through the `limits` library when it is set (`memory://` serves unit tests)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("concord.auth")

PER_NAME = "5/5minutes"  # wrong passwords for one account
PER_ADDRESS = "20/5minutes"  # wrong passwords from one address, whatever the name


class Window(NamedTuple):
    """At most `amount` failed sign-ins of kind=key ("name" or "address") in `seconds`."""

    kind: str
    key: str
    amount: int
    seconds: int


class FailureCounter(Protocol):
    """Where failed sign-ins are counted, as moving windows; a call raises when the store
    is down (the database's: one short transaction per call)."""

    def wait_seconds(self, windows: Sequence[Window]) -> float:
        """0 when every window is below its amount, else the seconds until all are."""
        ...

    def add(self, windows: Sequence[Window]) -> None:
        """Count one failure in each window."""
        ...


class LimitsCounter:
    """Moving windows of the `limits` library: `redis://...` shares them between workers,
    `memory://` keeps them in this process (tests)."""

    def __init__(self, storage_uri: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @staticmethod
    def _item(window: Window) -> RateLimitItem:
        return RateLimitItemPerSecond(window.amount, window.seconds)

    def wait_seconds(self, windows: Sequence[Window]) -> float:
        """0 when every window is below its amount, else the seconds until all are."""
        wait = 0.0
        for window in windows:
            item = self._item(window)
            if not self._limiter.test(item, "signin", window.kind, window.key):
                stats = self._limiter.get_window_stats(item, "signin", window.kind, window.key)
                wait = max(wait, stats.reset_time - time.time())
        return wait

    def add(self, windows: Sequence[Window]) -> None:
        """Count one failure in each window."""
        for window in windows:
            self._limiter.hit(self._item(window), "signin", window.kind, window.key)


class SignInThrottle:
    """Counts failed sign-ins; once a limit is reached, every attempt waits it out.

    `counter` is a FailureCounter (the database's) or a `limits` storage URI."""

    def __init__(
        self,
        counter: FailureCounter | str = "memory://",
        per_name: str = PER_NAME,
        per_address: str = PER_ADDRESS,
    ) -> None:
        self._counter = LimitsCounter(counter) if isinstance(counter, str) else counter
        self._limits: list[tuple[str, RateLimitItem]] = [
            ("name", parse(per_name)),
            ("address", parse(per_address)),
        ]

    def _windows(self, name: str, address: str) -> list[Window]:
        keys = {"name": name.casefold(), "address": address}
        return [
            Window(kind, keys[kind], limit.amount, limit.get_expiry())
            for kind, limit in self._limits
        ]

    def wait_seconds(self, name: str, address: str) -> int:
        """0 when an attempt may be made now, else the seconds until one may."""
        try:
            wait = self._counter.wait_seconds(self._windows(name, address))
        except Exception as exc:  # the counter's store is down: sign-in still works
            log.warning("sign-in rate limit not checked: %s", exc)
            return 0
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        """Count a wrong password."""
        try:
            self._counter.add(self._windows(name, address))
        except Exception as exc:
            log.warning("failed sign-in not counted: %s", exc)
