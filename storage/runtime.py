"""The process's services, built once from Settings; tests can install their own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import Settings, load_settings
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore
from storage.catalog import Cache, Catalog, NoCache
from storage.image_service import ImageService
from storage.images import ImageSource, LocalFolderSource
from storage.renditions import set_pixel_limit
from storage.s3_source import S3Source
from storage.samples import ensure_sample_batch


@dataclass(frozen=True)
class Services:
    """What callbacks and routes need: settings, images and the store."""

    settings: Settings
    images: ImageService
    store: AnnotationStore
    assignments: AssignmentStore | None = None  # None: everyone sees every image


_current: Services | None = None


def open_source(settings: Settings) -> ImageSource:
    """The image source IMAGE_SOURCE names: an s3:// URL or a local folder."""
    if settings.image_source.startswith("s3://"):
        return S3Source(settings.image_source)
    if settings.uses_sample_images:
        ensure_sample_batch(Path(settings.image_source))
    return LocalFolderSource(settings.image_source)


def build_services(
    settings: Settings, cache: Cache | None = None, renditions: Cache | None = None
) -> Services:
    """Open the image source and the store described by settings (nothing is listed yet)."""
    set_pixel_limit(settings.max_image_pixels)
    cache = cache if cache is not None else NoCache()
    images = ImageService(
        Catalog(open_source(settings), cache),
        cache,
        settings.display_max_px,
        renditions=renditions,
        presign_max_bytes=settings.presign_max_bytes,
    )
    store = AnnotationStore.from_url(settings.database_url)
    assignments = (
        AssignmentStore(store.engine, settings.annotators_per_image, settings.claim_minutes)
        if settings.annotators_per_image
        else None
    )
    return Services(settings, images, store, assignments)


def install(services: Services) -> Services:
    """Make services the process's current ones."""
    global _current
    _current = services
    return services


def current() -> Services:
    """The process's services, built from the environment on first use."""
    return _current if _current is not None else install(build_services(load_settings()))
