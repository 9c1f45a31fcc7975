"""Making and changing projects, for the Admin tab and `python cli.py projects create`:
check the form, store the project, make its image folder and its space (its tables), and
undo what was done if a step fails, so nothing is left half-made.

A form is a mapping with these keys (strings as typed, or values already typed):
  slug            the URL name (create only; it cannot change)
  name            the display name
  image_source    a folder below IMAGE_ROOT, or s3://bucket/prefix
  labels          "cat,dog" or a sequence of names or Labels
  annotators_per_image, claim_minutes, repeat_percent   whole numbers (0 per image: all)
  suggestions     auto, on or off
  open_to_all     true: every account may work in it, with their own role
  members_upload  true: members, not only admins, may upload images
  members         rows {"account": NAME, "role": ROLE}
A blank setting is the environment's: the first project keeps it unset (it follows the
environment), any other project stores the environment's value of the moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config import Settings
from domain.accounts import parse_users_env, parse_users_toml
from domain.errors import AccountError, LabelError
from domain.label_set import check_label_set
from domain.labels import PALETTE, Label, parse_labels
from domain.projects import (
    NUMBERS,
    Member,
    Project,
    ProjectError,
    clean_image_source,
    clean_members,
    clean_project_name,
    clean_setting,
    clean_slug,
    clean_suggestions,
)
from storage.errors import StorageError
from storage.project_space import prepare_space, sqlite_space_file
from storage.runtime import CLAIM_MINUTES, PER_IMAGE, REPEAT_PERCENT, Services

log = logging.getLogger("concord.projects")

FORM_KEYS = frozenset(
    {"slug", "name", "image_source", "labels", "suggestions", "open_to_all", "members_upload"}
    | {"members"}
    | {key for key, *_ in NUMBERS}
)


def environment(services: Services) -> Settings:
    """The deployment's settings from the environment, before any project's own values."""
    return services.hub.settings if services.hub is not None else services.settings


def main_engine(services: Services) -> Engine:
    """The main database (the list of projects, and the first project's records)."""
    return services.hub.main.engine if services.hub is not None else services.store.engine


def known_accounts(services: Services) -> list[str]:
    """Every account of the deployment: USERS_FILE, USERS and those made in the app."""
    settings = environment(services)
    found: list[str] = []
    try:
        if settings.users_file is not None and settings.users_file.exists():
            text = settings.users_file.read_text(encoding="utf-8")
            found += [a.name for a in parse_users_toml(text, f"USERS_FILE {settings.users_file}")]
        if settings.users.strip():
            found += [a.name for a in parse_users_env(settings.users)]
    except (AccountError, OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"the accounts cannot be read: {exc}") from None
    found += [a.name for a in services.accounts.all() if a.name not in found]
    return found


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_labels(raw: object, before: Sequence[Label] = ()) -> tuple[Label, ...]:
    """Labels from "a,b,c" or a sequence of names or Labels. A name the set had keeps its
    colour, hotkey and description (and comes back if it was retired); a new one takes the
    next free palette colour; a label of `before` left out is retired, not dropped, so its
    shapes keep it (the label set editor, workflows/label_sets.py, does finer changes)."""
    given = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, Iterable) else []
    text = ",".join(item.name if isinstance(item, Label) else str(item) for item in given)
    if not text.replace(",", "").strip():
        raise ProjectError("a project needs at least one label, e.g. cat,dog")
    try:
        parsed = parse_labels(text)
    except LabelError as exc:
        raise ProjectError(str(exc).replace("LABELS", "the labels")) from None
    typed = {item.name: item for item in given if isinstance(item, Label)}
    kept = {label.name.casefold(): label for label in before}
    used = {label.color for label in before}
    free = [color for color in PALETTE if color not in used]
    labels = []
    for label in parsed:
        old = typed.get(label.name) or kept.get(label.name.casefold())
        if old is not None:
            # the stored shapes carry the old spelling: a rename goes through the label set
            labels.append(replace(old, retired=False))
        else:
            labels.append(replace(label, color=free.pop(0) if free else label.color))
    named = {label.name.casefold() for label in labels}
    labels += [replace(old, retired=True) for old in before if old.name.casefold() not in named]
    try:
        return check_label_set(tuple(labels))
    except LabelError as exc:
        raise ProjectError(str(exc)) from None


def _truthy(raw: object) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return bool(raw)


def _members(services: Services, raw: object, known: Iterable[str] | None) -> tuple[Member, ...]:
    given = raw if isinstance(raw, Iterable) and not isinstance(raw, str | Mapping) else ()
    rows = [row for row in given if isinstance(row, Mapping)]
    if not any(not _blank(row.get("account")) for row in rows):
        return ()
    names = list(known) if known is not None else known_accounts(services)
    if not names:
        raise ProjectError(
            "this deployment has no accounts, so a project cannot have members: add "
            "accounts first (python cli.py add-user, or the Admin tab)"
        )
    return clean_members(rows, names)


def _number(key: str, what: str, low: int, high: int, raw: object, env: Settings) -> int:
    if not _blank(raw):
        return clean_setting(what, raw, low, high)
    value = getattr(env, key)
    return int(value or 0)


def _settings_from(
    form: Mapping[str, object], project: Project, services: Services, known: Iterable[str] | None
) -> Project:
    """The project with the form's values in place of its own (keys absent: unchanged)."""
    env = environment(services)
    changes: dict[str, Any] = {}
    if "name" in form:
        changes["name"] = clean_project_name(form["name"])
    if "image_source" in form:
        raw = form["image_source"]
        if _blank(raw) and project.is_first:
            changes["image_source"] = None
        else:
            changes["image_source"] = clean_image_source(raw)
    if "labels" in form:
        raw = form["labels"]
        if _blank(raw) and project.is_first:
            changes["labels"] = None
        else:
            before = project.labels
            if before is None:
                before = env.labels if project.is_first else ()
            changes["labels"] = clean_labels(raw, before)
    for key, what, low, high in NUMBERS:
        if key in form:
            raw = form[key]
            blank = _blank(raw) and project.is_first
            changes[key] = None if blank else _number(key, what, low, high, raw, env)
    if "suggestions" in form:
        raw = form["suggestions"]
        if _blank(raw):
            changes["suggestions"] = None if project.is_first else env.suggestions
        else:
            changes["suggestions"] = clean_suggestions(raw)
    for flag in ("open_to_all", "members_upload"):
        if flag in form:
            changes[flag] = _truthy(form[flag])
    if "members" in form:
        changes["members"] = _members(services, form["members"], known)
    return replace(project, **changes)


def _refuse_unknown_keys(form: Mapping[str, object]) -> None:
    unknown = sorted(set(form) - FORM_KEYS)
    if unknown:
        raise ProjectError(f"unknown project setting(s): {', '.join(unknown)}")


def _local_folder(services: Services, project: Project) -> Path | None:
    """The project's image folder on this machine (None: S3 or the environment's)."""
    source = project.image_source
    if source is None or source.startswith("s3://"):
        return None
    return environment(services).image_root / source


def _make_folder(folder: Path | None) -> list[Path]:
    """Make the folder and its missing parents; the folders made, deepest first."""
    if folder is None:
        return []
    made = []
    step = folder
    while not step.exists():
        made.append(step)
        step = step.parent
    folder.mkdir(parents=True, exist_ok=True)
    return made


def _remove_empty(folders: Iterable[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _space_files(services: Services, project_id: int) -> list[Path]:
    """The SQLite files a project's space would be made in that do not exist yet."""
    engine = main_engine(services)
    if engine.dialect.name != "sqlite":
        return []
    try:
        path = sqlite_space_file(engine, project_id)
    except StorageError:  # an in-memory database: prepare_space says why
        return []
    beside = [
        path.with_name(path.name + end) for end in ("-wal", "-shm", ".created", ".migrate-lock")
    ]
    return [file for file in (path, *beside) if not file.exists()]


def ready_space(services: Services, project: Project) -> None:
    """Make the project's space (its tables, at the newest revision) if need be."""
    engine = prepare_space(main_engine(services), project.id)
    if engine is not main_engine(services) and engine.dialect.name == "sqlite":
        engine.dispose()  # the hub opens its own when the project is first used


def create_project(
    services: Services, form: Mapping[str, object], known: Iterable[str] | None = None
) -> Project:
    """Make a new project from a form (see the module's docstring): checked whole first,
    then stored, its local image folder made below IMAGE_ROOT and its space prepared; if a
    step fails, what was done is undone. `known`: the deployment's account names (default:
    USERS_FILE, USERS and the accounts made in the app). Raises ProjectError (bad input,
    taken slug) or StorageError."""
    _refuse_unknown_keys(form)
    slug = clean_slug(form.get("slug"))
    if "image_source" not in form or _blank(form.get("image_source")):
        raise ProjectError("give the project's image folder (below the image root) or s3://...")
    if "labels" not in form:
        raise ProjectError("a project needs at least one label, e.g. cat,dog")
    if "name" not in form:
        raise ProjectError("a project needs a name")
    blank = Project(id=0, slug=slug, name=slug)
    filled = {key: form.get(key) for key, *_ in NUMBERS} | {"suggestions": form.get("suggestions")}
    project = _settings_from({**form, **filled}, blank, services, known)
    store = services.projects
    store.forget_cached()
    if store.find(slug) is not None:
        raise ProjectError(f"a project called {slug!r} exists already")
    folders = _make_folder(_local_folder(services, project))
    try:
        made = store.create(project)
    except BaseException:
        _remove_empty(folders)
        raise
    files = _space_files(services, made.id)
    try:
        ready_space(services, made)
    except BaseException:
        log.warning("project %s could not be prepared: undoing its creation", slug)
        store.remove(made.id)
        for path in files:
            path.unlink(missing_ok=True)
        _remove_empty(folders)
        raise
    return made


def update_project(
    services: Services,
    slug: str,
    form: Mapping[str, object],
    expected_version: int | None,
    known: Iterable[str] | None = None,
) -> Project:
    """Change a project's settings and members from a form (keys absent: unchanged; see the
    module's docstring). Refused when someone saved it since `expected_version` (None: no
    check). A new local image folder is made. Raises ProjectError or StorageError."""
    _refuse_unknown_keys(form)
    store = services.projects
    store.forget_cached()
    project = store.find(str(slug))
    if project is None:
        raise ProjectError(f"there is no project called {str(slug)[:40]!r}")
    if "slug" in form and clean_slug(form["slug"]) != project.slug:
        raise ProjectError("a project's slug cannot be changed (its addresses use it)")
    changed = _settings_from(
        {k: v for k, v in form.items() if k != "slug"}, project, services, known
    )
    folders = _make_folder(_local_folder(services, changed))
    try:
        return store.save(changed, expected_version)
    except BaseException:
        _remove_empty(folders)
        raise


def clear_assignment_overrides(services: Services) -> None:
    """Forget the per-image, claim and repeat values an older Admin tab saved as app
    settings in the project's own tables (they would win over the project's)."""
    for name in (PER_IMAGE, CLAIM_MINUTES, REPEAT_PERCENT):
        services.app_settings.put(name, None)


def set_assignment(services: Services, per_image: str, minutes: str, percent: str) -> Project:
    """The Image assignment card's values become the project's own (one place for them):
    annotators per image ('0': everyone sees every image), claim minutes, repeat percent."""
    form = {"annotators_per_image": per_image, "claim_minutes": minutes, "repeat_percent": percent}
    saved = update_project(services, services.project.slug, form, None, known=())
    clear_assignment_overrides(services)
    return saved
