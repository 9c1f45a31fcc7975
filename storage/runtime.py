"""The process's services, built once from Settings; tests can install their own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import Settings, load_settings
from storage.annotation_store import AnnotationStore
from storage.image_service import Cache, ImageService, NoCache
from storage.images import LocalFolderSource
from storage.samples import ensure_sample_batch


@dataclass(frozen=True)
class Services:
    """What callbacks and routes need: settings, images and the store."""

    settings: Settings
    images: ImageService
    store: AnnotationStore


_current: Services | None = None


def build_services(settings: Settings, cache: Cache | None = None) -> Services:
    """Open the image source and the store described by settings."""
    if settings.uses_sample_images:
        ensure_sample_batch(Path(settings.image_source))
    source = LocalFolderSource(settings.image_source)
    images = ImageService(source, cache or NoCache(), settings.display_max_px)
    return Services(settings, images, AnnotationStore.from_url(settings.database_url))


def install(services: Services) -> Services:
    """Make services the process's current ones."""
    global _current
    _current = services
    return services


def current() -> Services:
    """The process's services, built from the environment on first use."""
    return _current if _current is not None else install(build_services(load_settings()))
