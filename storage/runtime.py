"""The process's services, built once from Settings; tests can install their own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from config import Settings, load_settings
from storage.account_store import AccountStore, AppSettings
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore
from storage.catalog import Cache, Catalog, NoCache
from storage.errors import StorageError
from storage.image_service import ImageService
from storage.images import ImageSource, LocalFolderSource
from storage.renditions import set_pixel_limit
from storage.review_store import ReviewStore
from storage.s3_source import S3Source
from storage.samples import ensure_sample_batch


@dataclass(frozen=True)
class Services:
    """What callbacks and routes need: settings, images and the store."""

    settings: Settings
    images: ImageService
    store: AnnotationStore
    app_settings: AppSettings
    accounts: AccountStore  # accounts an admin made in the app

    @property
    def reviews(self) -> ReviewStore:
        """Review statuses, comments, rework requests and disagreement scores."""
        return ReviewStore(self.store.engine)

    @property
    def assignments(self) -> AssignmentStore | None:
        """Who gets which image, when an admin or ANNOTATORS_PER_IMAGE says k per image;
        None: everyone sees every image."""
        k, minutes = assignment_setup(self.settings, self.app_settings)
        return AssignmentStore(self.store.engine, k, minutes) if k else None


PER_IMAGE = "annotators_per_image"  # app setting names
CLAIM_MINUTES = "claim_minutes"
REPEAT_PERCENT = "repeat_percent"


def _admin_number(app_settings: AppSettings, name: str) -> int | None:
    """A whole number an admin saved in the app, or None (unset, unreadable, or the
    database away: the environment's value then holds)."""
    try:
        chosen = app_settings.get(name)
    except StorageError as exc:
        log.warning("setting %s unavailable, using the environment's: %s", name, exc)
        return None
    return int(chosen) if chosen is not None and chosen.isdigit() else None


def repeat_share(settings: Settings, app_settings: AppSettings) -> float:
    """The share (0..0.5) of Next presses that bring back a finished image: an admin's
    value in the app, else REPEAT_PERCENT."""
    chosen = _admin_number(app_settings, REPEAT_PERCENT)
    return min(settings.repeat_percent if chosen is None else chosen, 50) / 100


def assignment_setup(settings: Settings, app_settings: AppSettings) -> tuple[int | None, int]:
    """(k, claim minutes): an admin's values in the app, else the environment's."""
    k = _admin_number(app_settings, PER_IMAGE)
    minutes = _admin_number(app_settings, CLAIM_MINUTES)
    return (
        settings.annotators_per_image if k is None else k or None,  # 0: everyone sees all
        minutes if minutes else settings.claim_minutes,
    )


_current: Services | None = None
log = logging.getLogger("concord.settings")


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
    return Services(settings, images, store, AppSettings(store.engine), AccountStore(store.engine))


def install(services: Services) -> Services:
    """Make services the process's current ones."""
    global _current
    _current = services
    return services


def current() -> Services:
    """The process's services, built from the environment on first use."""
    return _current if _current is not None else install(build_services(load_settings()))
