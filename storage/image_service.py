"""Image dimensions and display renditions, cached by content fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from storage.images import ImageSource
from storage.renditions import ImageInfo, display_rendition, image_info


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


@dataclass(frozen=True)
class Rendition:
    """Bytes the browser can show, with their type and a validator."""

    data: bytes
    mimetype: str
    etag: str


class ImageService:
    """Answers 'how big is this image' and 'give me something a browser can show'."""

    def __init__(self, source: ImageSource, cache: Cache, max_px: int) -> None:
        self.source = source
        self.cache = cache
        self.max_px = max_px

    def info(self, key: str) -> ImageInfo:
        """Dimensions in original pixels (cached per fingerprint)."""
        cache_key = f"info:{key}:{self.source.fingerprint(key)}"
        cached = self.cache.get(cache_key)
        if isinstance(cached, ImageInfo):
            return cached
        info = image_info(self.source.read(key), key)
        self.cache.set(cache_key, info, timeout=0)
        return info

    def etag(self, key: str) -> str:
        """A validator that changes with the file and the display limit."""
        return f"{self.source.fingerprint(key)}-{self.max_px}"

    def rendition(self, key: str) -> Rendition:
        """The display rendition (cached per fingerprint)."""
        etag = self.etag(key)
        cache_key = f"rendition:{key}:{etag}"
        cached = self.cache.get(cache_key)
        if isinstance(cached, Rendition):
            return cached
        data, mimetype = display_rendition(self.source.read(key), key, self.max_px)
        rendition = Rendition(data, mimetype, etag)
        self.cache.set(cache_key, rendition, timeout=3600)
        return rendition

    def url(self, key: str) -> str:
        """The app route that serves the rendition; the version lets browsers cache forever."""
        return f"/images/{quote(key)}?v={self.etag(key)}"
