"""Lazily paged, cached listings of a source's batches, shared by workers through the cache.

Nothing is listed on start-up. A batch is listed one page (1,000 keys) at a time, when a
labeler first needs a key on that page; pages, counts and object metadata are kept in the
flask-caching backend for `ttl` seconds, or until `refresh()` starts a new generation.
"""

from __future__ import annotations

import hashlib
import time
from bisect import bisect_left
from typing import Protocol

from storage.images import BatchList, ImageSource, KeyPage, ObjectMeta

# "Keep for good": a long timeout rather than 0, because cachelib's SimpleCache treats
# entries stored with timeout 0 as expired as soon as it prunes, dropping all of them.
KEEP = 30 * 24 * 3600
PAGE_SIZE = 1000
LISTING_TTL = 300
MAX_BATCH_ENTRIES = 5000


class Cache(Protocol):
    """The part of flask-caching's interface we use (any of its backends fits)."""

    def get(self, key: str) -> object: ...

    def set(self, key: str, value: object, timeout: int | None = None) -> object: ...


class NoCache:
    """A cache that keeps nothing (for scripts and tests)."""

    def get(self, key: str) -> object:
        return None

    def set(self, key: str, value: object, timeout: int | None = None) -> object:
        return True


class Catalog:
    """Which images a source has, page by page, with the answers cached."""

    def __init__(
        self,
        source: ImageSource,
        cache: Cache,
        page_size: int = PAGE_SIZE,
        ttl: int = LISTING_TTL,
        max_batch_entries: int = MAX_BATCH_ENTRIES,
    ) -> None:
        self.source = source
        self.cache = cache
        self.page_size = page_size
        self.ttl = ttl
        self.max_batch_entries = max_batch_entries
        self.tag = hashlib.blake2b(source.description.encode(), digest_size=6).hexdigest()

    def _generation(self) -> str:
        generation = self.cache.get(f"{self.tag}:generation")
        return generation if isinstance(generation, str) else "0"

    def refresh(self) -> None:
        """Forget every cached listing and object metadata (in every worker sharing the cache)."""
        self.cache.set(f"{self.tag}:generation", str(time.time_ns()), timeout=KEEP)

    def _key(self, generation: str, *parts: object) -> str:
        return ":".join((self.tag, generation, *(str(part) for part in parts)))

    def batches(self) -> BatchList:
        """The source's batches (cached)."""
        key = self._key(self._generation(), "batches")
        cached = self.cache.get(key)
        if isinstance(cached, BatchList):
            return cached
        found = self.source.batches(self.max_batch_entries)
        self.cache.set(key, found, timeout=self.ttl)
        return found

    def _cached_page(self, generation: str, batch: str, number: int) -> KeyPage | None:
        cached = self.cache.get(self._key(generation, "page", batch, number))
        return cached if isinstance(cached, KeyPage) else None

    def page(self, batch: str, number: int) -> KeyPage:
        """Page `number` (from 0) of a batch; earlier pages are listed first if not cached."""
        generation = self._generation()
        cached = self._cached_page(generation, batch, number)
        if cached is not None:
            return cached
        start = number
        previous: KeyPage | None = None
        while start > 0:
            previous = self._cached_page(generation, batch, start - 1)
            if previous is not None:
                break
            start -= 1
        page = previous
        for current in range(start, number + 1):
            if page is not None and (not page.more or not page.keys):
                return KeyPage((), False)  # the batch ends before this page
            after = page.keys[-1] if page is not None else None
            page = self.source.list_keys(batch, after, self.page_size)
            self.cache.set(self._key(generation, "page", batch, current), page, timeout=self.ttl)
            if not page.more:
                total = current * self.page_size + len(page.keys)
                self.cache.set(self._key(generation, "count", batch), total, timeout=self.ttl)
        assert page is not None
        return page

    def key_at(self, batch: str, index: int) -> str | None:
        """The key at a 0-based position in the batch, or None past its end."""
        if index < 0:
            return None
        keys = self.page(batch, index // self.page_size).keys
        offset = index % self.page_size
        return keys[offset] if offset < len(keys) else None

    def keys_from(self, batch: str, index: int, count: int) -> list[str]:
        """Up to count keys starting at a position, reading each page once."""
        keys: list[str] = []
        while len(keys) < count and index >= 0:
            page = self.page(batch, index // self.page_size)
            offset = index % self.page_size
            chunk = page.keys[offset : offset + count - len(keys)]
            keys.extend(chunk)
            if not chunk or not page.more and offset + len(chunk) >= len(page.keys):
                break
            index += len(chunk)
        return keys

    def locate(self, batch: str, key: str | None, hint: int | None = None) -> int | None:
        """The position of key in the batch (checking `hint` first), or None if absent."""
        if key is None:
            return None
        if hint is not None and self.key_at(batch, hint) == key:
            return hint
        number = 0
        while True:
            page = self.page(batch, number)
            offset = bisect_left(page.keys, key)
            if offset < len(page.keys):
                found = page.keys[offset] == key
                return number * self.page_size + offset if found else None
            if not page.more:
                return None
            number += 1

    def count(self, batch: str) -> tuple[int, bool]:
        """How many images the batch has, and whether that is final (False: 'at least')."""
        generation = self._generation()
        total = self.cache.get(self._key(generation, "count", batch))
        if isinstance(total, int):
            return total, True
        number = 0
        while self._cached_page(generation, batch, number) is not None:
            number += 1
        return number * self.page_size, False

    def total(self, batch: str) -> int:
        """The batch's exact size, listing the pages not yet listed."""
        total, final = self.count(batch)
        if final:
            return total
        number = total // self.page_size
        while True:
            page = self.page(batch, number)
            if not page.more or not page.keys:
                return number * self.page_size + len(page.keys)
            number += 1

    def extend(self, batch: str, pages: int) -> tuple[int, bool]:
        """List up to `pages` more pages of a batch; returns count(batch) afterwards.

        Bounded work per call, so counting a huge batch never ties up a worker for long."""
        total, final = self.count(batch)
        number = total // self.page_size
        for _ in range(pages if not final else 0):
            page = self.page(batch, number)
            if not page.more or not page.keys:
                break
            number += 1
        return self.count(batch)

    def search(self, batch: str, start: str, limit: int) -> tuple[str, ...]:
        """Up to limit keys of the batch whose name within it starts with `start`."""
        return self.source.list_keys(batch, None, limit, prefix=start).keys

    def meta(self, key: str) -> ObjectMeta:
        """Size and version of one image (cached; raises ImageNotFound)."""
        cached = self.cached_meta(key)
        if cached is not None:
            return cached
        meta = self.source.stat(key)
        self.remember_meta(key, meta)
        return meta

    def cached_meta(self, key: str) -> ObjectMeta | None:
        """The cached size and version of one image, if any."""
        cached = self.cache.get(self._key(self._generation(), "meta", key))
        return cached if isinstance(cached, ObjectMeta) else None

    def remember_meta(self, key: str, meta: ObjectMeta) -> None:
        """Cache an image's size and version learnt along the way (e.g. with its header)."""
        self.cache.set(self._key(self._generation(), "meta", key), meta, timeout=self.ttl)
