"""Image dimensions, display renditions and the URL the browser fetches, all cached."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from urllib.parse import quote

from storage.catalog import KEEP, Cache, Catalog
from storage.errors import UnreadableImage
from storage.images import ObjectMeta
from storage.renditions import ImageInfo, display_rendition, image_info

# Enough for the header (and EXIF block) of nearly every image; else the whole file is read.
HEAD_BYTES = 128 * 1024
PRESIGN_EXPIRES = 6 * 3600
# Renditions made at once per process: a 12 MP decode takes about 50 MB, and the browser
# asks for the current image and two prefetched ones together.
RENDER_SLOTS = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class Rendition:
    """Bytes the browser can show, with their type and a validator."""

    data: bytes
    mimetype: str
    etag: str


@dataclass(frozen=True)
class Refusal:
    """Why an image has no rendition: cached like one, so that every view of a broken or
    oversized image does not read and decode it again."""

    reason: str


# A refusal is remembered for less time than a rendition: an operator may raise the limit.
REFUSAL_SECONDS = 600


class ImageService:
    """Answers 'how big is this image' and 'where does the browser get it'."""

    def __init__(
        self,
        catalog: Catalog,
        cache: Cache,
        max_px: int,
        renditions: Cache | None = None,
        presign_max_bytes: int = 0,
        project_query: str = "",
    ) -> None:
        self.catalog = catalog
        # "&project=<slug>" on the app's picture routes for projects beyond the first
        self.project_query = project_query
        self.source = catalog.source
        self.cache = cache
        self.renditions = renditions if renditions is not None else cache
        self.max_px = max_px
        self.presign_max_bytes = presign_max_bytes

    def fingerprint(self, key: str, meta: ObjectMeta | None = None) -> str:
        """A short string that changes whenever the image's content changes."""
        meta = meta if meta is not None else self.catalog.meta(key)
        raw = f"{key}:{meta.size}:{meta.version}".encode()
        return hashlib.blake2b(raw, digest_size=8).hexdigest()

    def info(self, key: str) -> ImageInfo:
        """Dimensions in original pixels, from the header (cached per fingerprint). When
        the metadata is not cached either, one read gives both."""
        meta = self.catalog.cached_meta(key)
        head: bytes | None = None
        if meta is None:
            head, meta = self.source.read_head_meta(key, HEAD_BYTES)
            self.catalog.remember_meta(key, meta)
        cache_key = f"info:{key}:{self.fingerprint(key, meta)}"
        cached = self.cache.get(cache_key)
        if isinstance(cached, ImageInfo):
            return cached
        if head is None:
            head = self.source.read_head(key, HEAD_BYTES)
        try:
            info = image_info(head, key)
        except UnreadableImage:
            if len(head) < HEAD_BYTES:
                raise  # that was the whole file
            info = image_info(self.source.read(key), key)  # header beyond the first bytes
        self.cache.set(cache_key, info, timeout=KEEP)
        return info

    def etag(self, key: str) -> str:
        """A validator that changes with the file and the display limit."""
        return f"{self.fingerprint(key)}-{self.max_px}"

    def rendition(self, key: str) -> Rendition:
        """The display rendition (cached per fingerprint), or UnreadableImage (cached too)."""
        etag = self.etag(key)
        cache_key = f"rendition:{key}:{etag}"
        cached = self.renditions.get(cache_key)
        if isinstance(cached, Rendition):
            return cached
        if isinstance(cached, Refusal):
            raise UnreadableImage(cached.reason)
        original = self.source.read(key)
        try:
            with RENDER_SLOTS:
                data, mimetype = display_rendition(original, key, self.max_px)
        except UnreadableImage as exc:
            self.renditions.set(cache_key, Refusal(str(exc)), timeout=REFUSAL_SECONDS)
            raise
        rendition = Rendition(data, mimetype, etag)
        self.renditions.set(cache_key, rendition, timeout=3600)
        return rendition

    def route_url(self, key: str) -> str:
        """The app route that serves the rendition; the version lets browsers cache it."""
        return f"/images/{quote(key)}?v={self.etag(key)}{self.project_query}"

    def url(self, key: str) -> str:
        """Where the browser fetches the image: the original from S3 when it is browser-ready
        and small, else the app route. The same URL is given for a while, so browsers cache."""
        if self.presign_max_bytes <= 0:
            return self.route_url(key)
        meta = self.catalog.meta(key)
        if meta.size > self.presign_max_bytes or not self.info(key).browser_ready(self.max_px):
            return self.route_url(key)
        cache_key = f"presigned:{key}:{self.fingerprint(key)}"
        cached = self.cache.get(cache_key)
        if isinstance(cached, str):
            return cached
        url = self.source.presigned_url(key, PRESIGN_EXPIRES)
        if url is None:
            return self.route_url(key)
        self.cache.set(cache_key, url, timeout=PRESIGN_EXPIRES // 2)
        return url
