"""Visits: when the server served an annotator an image's records, so that the active time
the browser reports for that image is bounded by the wall-clock time since (the browser's
own count is not trusted: a crafted report could claim hours for a glance).

A visit begins when the annotate page loads the annotator's records of the image
(callbacks.annotations.load_records) and ends with the one time report that follows it.
Visits live in the shared metadata cache (Redis with REDIS_URL, files with CACHE_DIR, else
the worker's memory: with several workers and neither set, a report that reaches another
worker than the load is dropped, as any report of an unknown visit is).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol

# A report may exceed the elapsed time by this much: the browser counts whole seconds and
# the load's answer reaches it a moment after the server noted the start.
SLACK_SECONDS = 5.0
# A visit is forgotten after this long (the browser never reports more for one visit).
MAX_VISIT_SECONDS = 4 * 3600


class Cache(Protocol):
    """The part of flask-caching a visit log needs."""

    def get(self, key: str) -> object: ...

    def set(self, key: str, value: object, timeout: int | None = None) -> object: ...


def bounded_seconds(claimed: float, began: float | None, now: float) -> float | None:
    """The seconds to record for a report claiming `claimed` on a visit that began at
    `began` (None: no visit known, or already reported): at most the time elapsed since,
    plus SLACK_SECONDS; None when nothing may be recorded."""
    if began is None or not 0 < claimed:
        return None
    allowed = min(now - began + SLACK_SECONDS, MAX_VISIT_SECONDS + SLACK_SECONDS)
    if allowed <= 0:
        return None
    return min(float(claimed), allowed)


class Visits:
    """Visit starts kept in a shared cache, one per (image, annotator)."""

    def __init__(self, cache: Cache, clock: Callable[[], float] = time.time) -> None:
        self.cache = cache
        self.clock = clock

    def began(self, image_key: str, annotator: str) -> None:
        """Note that the annotator's visit to the image begins now (a new load restarts it)."""
        self.cache.set(_key(image_key, annotator), self.clock(), timeout=MAX_VISIT_SECONDS)

    def report(self, image_key: str, annotator: str, claimed: float) -> float | None:
        """The seconds to record for this visit's time report (bounded_seconds), and the end
        of the visit: a second report for it records nothing."""
        key = _key(image_key, annotator)
        began = self.cache.get(key)
        if not isinstance(began, int | float):
            return None
        self.cache.set(key, None, timeout=MAX_VISIT_SECONDS)  # once per visit
        return bounded_seconds(claimed, float(began), self.clock())


def _key(image_key: str, annotator: str) -> str:
    # hashed: image keys may be long and hold characters a cache key should not
    digest = hashlib.blake2b(f"{annotator}\x1f{image_key}".encode(), digest_size=16)
    return f"visit:{digest.hexdigest()}"
