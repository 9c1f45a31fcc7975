"""Thumbnails for the gallery: small JPEG renditions (at most THUMB_PX on the long side),
cached in the renditions cache by the image's fingerprint and size like the display
renditions (a refusal cached too), never the originals."""

from __future__ import annotations

from urllib.parse import quote

from storage.errors import UnreadableImage
from storage.image_service import (
    REFUSAL_SECONDS,
    RENDER_SLOTS,
    ImageService,
    Refusal,
    Rendition,
)
from storage.renditions import display_rendition

THUMB_PX = 256
THUMB_SECONDS = 24 * 3600  # kept in the renditions cache


class Thumbnails:
    """Makes, caches and addresses the gallery's thumbnails."""

    def __init__(self, images: ImageService, max_px: int = THUMB_PX) -> None:
        self.images = images
        self.max_px = max_px

    def etag(self, key: str) -> str:
        """A validator that changes with the file and the thumbnail size."""
        return f"{self.images.fingerprint(key)}-t{self.max_px}"

    def url(self, key: str) -> str:
        """The route serving the thumbnail; the version lets the browser keep it."""
        return f"/thumbs/{quote(key)}?v={self.etag(key)}{self.images.project_query}"

    def rendition(self, key: str) -> Rendition:
        """The thumbnail (cached per fingerprint), or UnreadableImage (cached too)."""
        etag = self.etag(key)
        cache_key = f"thumb:{key}:{etag}"
        cache = self.images.renditions
        cached = cache.get(cache_key)
        if isinstance(cached, Rendition):
            return cached
        if isinstance(cached, Refusal):
            raise UnreadableImage(cached.reason)
        original = self.images.source.read(key)
        try:
            with RENDER_SLOTS:
                data, mimetype = display_rendition(original, key, self.max_px)
        except UnreadableImage as exc:
            cache.set(cache_key, Refusal(str(exc)), timeout=REFUSAL_SECONDS)
            raise
        made = Rendition(data, mimetype, etag)
        cache.set(cache_key, made, timeout=THUMB_SECONDS)
        return made
