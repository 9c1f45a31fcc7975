"""flask-caching backends from settings: Redis, a shared folder, or in-process memory."""

from __future__ import annotations

import logging
from typing import Any

import flask
from flask_caching import Cache as FlaskCache

from config import Settings

log = logging.getLogger("concord.cache")

# In-process entries kept per worker when no shared cache is configured. Sizes and object
# metadata are about 200 bytes each (two per image), listing pages up to ~60 kB; renditions
# are up to a few hundred kB each, so keep few of them in memory. Past its threshold
# SimpleCache sorts every entry on each write, so the threshold stays well above 2 x images.
MEMORY_ENTRIES = {"meta": 250_000, "renditions": 40}


def cache_config(settings: Settings, kind: str) -> dict[str, Any]:
    """The flask-caching configuration for one kind of cache ('meta' or 'renditions')."""
    if settings.redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.redis_url,
            "CACHE_KEY_PREFIX": f"concord:{kind}:",
            "CACHE_DEFAULT_TIMEOUT": 0,
        }
    if settings.cache_dir is not None:
        return {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": str(settings.cache_dir / kind),
            "CACHE_THRESHOLD": 200_000 if kind == "meta" else 5_000,
            "CACHE_DEFAULT_TIMEOUT": 0,
        }
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_THRESHOLD": MEMORY_ENTRIES[kind],
        "CACHE_DEFAULT_TIMEOUT": 0,
    }


class ResilientCache:
    """A cache whose failures (Redis down, disk full) count as misses, logged, never fatal."""

    def __init__(self, cache: Any, name: str) -> None:
        self.cache = cache
        self.name = name

    def get(self, key: str) -> object:
        try:
            return self.cache.get(key)
        except Exception as exc:  # any backend error: behave as if nothing were cached
            log.warning("%s cache unavailable on get: %s", self.name, exc)
            return None

    def set(self, key: str, value: object, timeout: int | None = None) -> object:
        try:
            return self.cache.set(key, value, timeout=timeout)
        except Exception as exc:
            log.warning("%s cache unavailable on set: %s", self.name, exc)
            return False


def make_caches(server: flask.Flask, settings: Settings) -> tuple[ResilientCache, ResilientCache]:
    """The metadata cache (listings, sizes, URLs) and the rendition cache for this app."""
    meta = FlaskCache(server, config=cache_config(settings, "meta"))
    renditions = FlaskCache(server, config=cache_config(settings, "renditions"))
    return ResilientCache(meta, "metadata"), ResilientCache(renditions, "rendition")
