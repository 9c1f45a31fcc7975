"""The process's services, built once from Settings; tests can install their own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine

from config import Settings, load_settings
from domain.projects import Project, ProjectError
from storage.account_store import AccountStore, AppSettings
from storage.annotation_store import AnnotationStore
from storage.assignments import AssignmentStore
from storage.catalog import Cache, Catalog, NoCache
from storage.errors import StorageError
from storage.image_service import ImageService
from storage.images import ImageSource, LocalFolderSource
from storage.project_space import prepare_space
from storage.project_store import ProjectStore
from storage.renditions import set_pixel_limit
from storage.review_store import ReviewStore
from storage.s3_source import S3Source
from storage.samples import ensure_sample_batch


@dataclass(frozen=True)
class Services:
    """What callbacks and routes need for one project: its settings (the environment's,
    with the project's own values), its images and its records; and the deployment's
    accounts and projects."""

    settings: Settings
    images: ImageService
    store: AnnotationStore  # the project's records
    app_settings: AppSettings  # settings an admin changed in the app, for this project
    accounts: AccountStore  # accounts an admin made in the app (the whole deployment's)
    project: Project = field(default_factory=lambda: Project(1, "default", "Default project"))
    hub: ProjectHub | None = field(default=None, compare=False, repr=False)

    @property
    def projects(self) -> ProjectStore:
        """Every project of the deployment (in the main database)."""
        if self.hub is None:
            return ProjectStore(self.store.engine)
        return self.hub.projects

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


class PrefixedCache:
    """A cache whose keys are kept apart from other projects' by a prefix."""

    def __init__(self, cache: Cache, prefix: str) -> None:
        self.cache = cache
        self.prefix = prefix

    def get(self, key: str) -> object:
        return self.cache.get(self.prefix + key)

    def set(self, key: str, value: object, timeout: int | None = None) -> object:
        return self.cache.set(self.prefix + key, value, timeout=timeout)


def project_settings(base: Settings, project: Project) -> Settings:
    """The environment's settings with the project's own values in their place. Projects
    beyond the first keep what they learn (the detector's trained heads) in a data folder
    of their own."""
    changes: dict[str, object] = {}
    if not project.is_first:
        changes["data_dir"] = base.data_dir / "projects" / str(project.id)
    if project.image_source is not None:
        source = project.image_source
        if not source.startswith("s3://"):
            source = str(base.image_root / source)
        changes.update(image_source=source, uses_sample_images=False)
    if project.labels is not None:
        changes["labels"] = project.labels
    if project.annotators_per_image is not None:
        changes["annotators_per_image"] = project.annotators_per_image or None
    if project.claim_minutes is not None:
        changes["claim_minutes"] = project.claim_minutes
    if project.repeat_percent is not None:
        changes["repeat_percent"] = project.repeat_percent
    if project.suggestions is not None:
        changes["suggestions"] = project.suggestions
    return replace(base, **changes)  # type: ignore[arg-type]


def _images(
    settings: Settings, cache: Cache, renditions: Cache | None, project: Project
) -> ImageService:
    return ImageService(
        Catalog(open_source(settings), cache),
        cache,
        settings.display_max_px,
        renditions=renditions,
        presign_max_bytes=settings.presign_max_bytes,
        project_query="" if project.is_first else f"&project={project.slug}",
    )


class ProjectHub:
    """Builds each project's services once per worker, and again when the project changes;
    the first project's are the ones the process was built with."""

    def __init__(
        self,
        settings: Settings,
        main: AnnotationStore,
        cache: Cache,
        renditions: Cache | None,
    ) -> None:
        self.settings = settings
        self.main = main
        self.cache = cache
        self.renditions = renditions
        self.projects = ProjectStore(main.engine)
        self.accounts = AccountStore(main.engine)
        self._lock = threading.Lock()
        self._engines: dict[int, Engine] = {}
        self._built: dict[int, Services] = {}

    def first(self) -> Services:
        """The first project's services (the deployment as it was before projects)."""
        return self.build(self.projects.first())

    def engine_of(self, project: Project) -> Engine:
        """The project's space, its tables made and migrated on first use in this worker."""
        with self._lock:
            engine = self._engines.get(project.id)
            if engine is None:
                engine = prepare_space(self.main.engine, project.id)
                self._engines[project.id] = engine
            return engine

    def build(self, project: Project) -> Services:
        """The project's services: kept while the project is unchanged."""
        with self._lock:
            built = self._built.get(project.id)
        if built is not None and built.project.version == project.version:
            return replace(built, project=project)  # members may differ; settings do not
        settings = project_settings(self.settings, project)
        if project.is_first:
            cache, renditions, store = self.cache, self.renditions, self.main
        else:
            prefix = f"p{project.id}:"
            cache = PrefixedCache(self.cache, prefix)
            renditions = None if self.renditions is None else PrefixedCache(self.renditions, prefix)
            store = AnnotationStore(self.engine_of(project))
        services = Services(
            settings,
            _images(settings, cache, renditions, project),
            store,
            AppSettings(store.engine),
            self.accounts,
            project,
            self,
        )
        with self._lock:
            self._built[project.id] = services
        return services

    def detach(self) -> None:
        """Let go, without closing them, of every pooled connection this process inherited
        (the main database's and each project space's): a background job or Celery task
        runs in a forked child, whose pools are the parent's. No lock is taken: one held by
        another of the parent's threads at the fork is never released in the child."""
        for engine in (self.main.engine, *list(self._engines.values())):
            engine.dispose(close=False)

    def services_for(self, slug: str) -> Services:
        """The services of the project with this slug, or ProjectError."""
        project = self.projects.find(slug)
        if project is None:
            raise ProjectError(f"there is no project called {slug[:40]!r}")
        return self.build(project)


def build_services(
    settings: Settings, cache: Cache | None = None, renditions: Cache | None = None
) -> Services:
    """Open the store described by settings, and the first project's image source (nothing
    is listed yet); other projects are opened when first asked for."""
    set_pixel_limit(settings.max_image_pixels)
    cache = cache if cache is not None else NoCache()
    store = AnnotationStore.from_url(settings.database_url)
    return ProjectHub(settings, store, cache, renditions).first()


def install(services: Services) -> Services:
    """Make services the process's current ones (the first project's)."""
    global _current
    _current = services
    return services


# The project the running request, job or command works in (its slug); None: the first.
_active_project: ContextVar[str | None] = ContextVar("concord_project", default=None)


@contextmanager
def project_scope(slug: str | None) -> Iterator[None]:
    """Work in the project with this slug (None: the first project) inside the block."""
    token = _active_project.set(slug)
    try:
        yield
    finally:
        _active_project.reset(token)


def enter_project(slug: str | None) -> object:
    """Work in this project until leave_project(token) (a request's before/teardown)."""
    return _active_project.set(slug)


def leave_project(token: object) -> None:
    """Undo enter_project."""
    _active_project.reset(token)  # type: ignore[arg-type]


def active_slug() -> str | None:
    """The slug of the project being worked in (None: the first)."""
    return _active_project.get()


def first_services() -> Services:
    """The first project's services, built from the environment on first use."""
    return _current if _current is not None else install(build_services(load_settings()))


def detach_after_fork() -> None:
    """In a forked job process, before any query: drop the parent's pooled connections of
    the main database and of every project space opened so far (each is reopened on use)."""
    base = first_services()
    if base.hub is None:
        base.store.engine.dispose(close=False)
    else:
        base.hub.detach()


def current() -> Services:
    """The services of the project being worked in (see project_scope)."""
    base = first_services()
    slug = _active_project.get()
    hub = base.hub
    if hub is None:
        if slug is None or slug == base.project.slug:
            return base
        raise ProjectError(f"there is no project called {slug[:40]!r}")
    if slug is not None and slug != base.project.slug:
        return hub.services_for(slug)
    try:
        first = hub.projects.first()
    except StorageError as exc:  # the database is away: the saves will say so
        log.warning("projects not read, the first project's settings kept: %s", exc)
        return base
    if first.version == base.project.version:
        return base
    return install(hub.build(first))  # an admin changed the first project's settings
