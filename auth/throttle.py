"""Failed sign-ins are rate-limited per name and per address (the `limits` library, in
memory or on Redis so that every worker counts the same attempts)."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("concord.auth")

PER_NAME = "5/5minutes"  # wrong passwords for one account
PER_ADDRESS = "20/5minutes"  # wrong passwords from one address, whatever the name


class SignInThrottle:
    """Counts failed sign-ins; once a limit is reached, every attempt waits it out."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        per_name: str = PER_NAME,
        per_address: str = PER_ADDRESS,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._limits: list[tuple[RateLimitItem, str]] = [
            (parse(per_name), "name"),
            (parse(per_address), "address"),
        ]

    def _keys(self, name: str, address: str) -> dict[str, str]:
        return {"name": name.casefold(), "address": address}

    def wait_seconds(self, name: str, address: str) -> int:
        """0 when an attempt may be made now, else the seconds until one may."""
        keys = self._keys(name, address)
        wait = 0.0
        try:
            for limit, kind in self._limits:
                if not self._limiter.test(limit, "signin", kind, keys[kind]):
                    stats = self._limiter.get_window_stats(limit, "signin", kind, keys[kind])
                    wait = max(wait, stats.reset_time - time.time())
        except Exception as exc:  # the limiter's store is down: sign-in still works
            log.warning("sign-in rate limit not checked: %s", exc)
            return 0
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        """Count a wrong password."""
        keys = self._keys(name, address)
        try:
            for limit, kind in self._limits:
                self._limiter.hit(limit, "signin", kind, keys[kind])
        except Exception as exc:
            log.warning("failed sign-in not counted: %s", exc)
