"""The list of projects and their members, in the main database: read through a short
cache (every worker sees a change within seconds), written by admins and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from domain.accounts import Role
from domain.annotation import utc_now
from domain.labels import PALETTE, Label
from domain.projects import FIRST_PROJECT_ID, Member, Project, ProjectError
from storage.account_store import _Cached
from storage.errors import StorageError, database_reason
from storage.schema import PROJECT_MEMBERS, PROJECTS

log = logging.getLogger("concord.projects")


def labels_to_json(labels: Sequence[Label] | None) -> list[dict[str, object]] | None:
    """The labels column's value (hotkey, description and retired only when set)."""
    if labels is None:
        return None
    found: list[dict[str, object]] = []
    for label in labels:
        item: dict[str, object] = {"name": label.name, "color": label.color}
        if label.hotkey:
            item["hotkey"] = label.hotkey
        if label.description:
            item["description"] = label.description
        if label.retired:
            item["retired"] = True
        found.append(item)
    return found


def labels_from_json(value: Any) -> tuple[Label, ...] | None:
    """Labels from the column (None: the environment's); a malformed entry is skipped."""
    if not isinstance(value, list):
        return None
    found = []
    for number, item in enumerate(value):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
            color = item.get("color")
            color = color if isinstance(color, str) else PALETTE[number % len(PALETTE)]
            hotkey, description = item.get("hotkey"), item.get("description")
            found.append(
                Label(
                    item["name"],
                    color,
                    hotkey if isinstance(hotkey, str) else "",
                    description if isinstance(description, str) else "",
                    item.get("retired") is True,
                )
            )
    return tuple(found) or None


def _project(row: Any, members: Sequence[Member]) -> Project:
    return Project(
        id=int(row.id),
        slug=row.slug,
        name=row.name,
        image_source=row.image_source,
        labels=labels_from_json(row.labels),
        annotators_per_image=row.annotators_per_image,
        claim_minutes=row.claim_minutes,
        repeat_percent=row.repeat_percent,
        suggestions=row.suggestions,
        open_to_all=bool(row.open_to_all),
        members_upload=bool(row.members_upload),
        members=tuple(members),
        version=int(row.version),
    )


def _row_values(project: Project) -> dict[str, Any]:
    return {
        "slug": project.slug,
        "name": project.name,
        "image_source": project.image_source,
        "labels": labels_to_json(project.labels),
        "annotators_per_image": project.annotators_per_image,
        "claim_minutes": project.claim_minutes,
        "repeat_percent": project.repeat_percent,
        "suggestions": project.suggestions,
        "open_to_all": project.open_to_all,
        "members_upload": project.members_upload,
    }


class ProjectStore:
    """Projects and members: list, find, create, change."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = _Cached()
        self._last: tuple[Project, ...] | None = None

    def _read_all(self) -> tuple[Project, ...]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(PROJECTS).order_by(PROJECTS.c.id)).all()
                member_rows = conn.execute(
                    select(PROJECT_MEMBERS).order_by(PROJECT_MEMBERS.c.account)
                ).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the projects: {database_reason(exc)}") from None
        members: dict[int, list[Member]] = {}
        for row in member_rows:
            try:
                role = Role(row.role)
            except ValueError:
                continue  # a role this release does not know gives nothing
            members.setdefault(int(row.project_id), []).append(Member(row.account, role))
        return tuple(_project(row, members.get(int(row.id), [])) for row in rows)

    def all(self) -> tuple[Project, ...]:
        """Every project, oldest first (seen by this worker at most a few seconds late).
        While the database is away, the list last read: the request goes on, and its own
        reads and saves say what failed (a save is kept in the browser to retry)."""
        try:
            found = self._cache.get("all", self._read_all)
        except StorageError:
            if self._last is None:
                raise
            log.warning("projects not read again; using the list read before")
            return self._last
        self._last = found
        return found

    def find(self, slug: str) -> Project | None:
        """The project with this slug, or None."""
        return next((p for p in self.all() if p.slug == slug), None)

    def by_id(self, project_id: int) -> Project | None:
        """The project with this id, or None."""
        return next((p for p in self.all() if p.id == project_id), None)

    def first(self) -> Project:
        """The deployment's first project (made by migration 0011)."""
        found = self.by_id(FIRST_PROJECT_ID)
        if found is None:
            raise StorageError("the database has no first project: run `python cli.py migrate`")
        return found

    def create(self, project: Project) -> Project:
        """Store a new project (its id is given by the database) with its members."""
        now = utc_now()
        values = {**_row_values(project), "created_at": now, "updated_at": now, "version": 1}
        try:
            with self.engine.begin() as conn:
                made = conn.execute(insert(PROJECTS).values(**values).returning(PROJECTS.c.id))
                project_id = int(made.scalar_one())
                self._put_members(conn, project_id, project.members)
        except IntegrityError:
            raise ProjectError(f"a project called {project.slug!r} exists already") from None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save the project: {database_reason(exc)}") from None
        self._cache.clear()
        return replace(project, id=project_id, version=1)

    def save(self, project: Project, expected_version: int | None = None) -> Project:
        """Store a changed project and its members; refused when someone else saved it since
        `expected_version`."""
        values = {**_row_values(project), "updated_at": utc_now()}
        try:
            with self.engine.begin() as conn:
                query = update(PROJECTS).where(PROJECTS.c.id == project.id)
                if expected_version is not None:
                    query = query.where(PROJECTS.c.version == expected_version)
                done = conn.execute(query.values(**values, version=PROJECTS.c.version + 1))
                if done.rowcount != 1:
                    raise ProjectError(
                        f"project {project.slug!r} was changed by someone else meanwhile: "
                        "reload it and make your change again"
                    )
                conn.execute(
                    delete(PROJECT_MEMBERS).where(PROJECT_MEMBERS.c.project_id == project.id)
                )
                self._put_members(conn, project.id, project.members)
                version = conn.execute(
                    select(PROJECTS.c.version).where(PROJECTS.c.id == project.id)
                ).scalar_one()
        except IntegrityError:
            raise ProjectError(f"a project called {project.slug!r} exists already") from None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save the project: {database_reason(exc)}") from None
        self._cache.clear()
        return replace(project, version=int(version))

    @staticmethod
    def _put_members(conn: Any, project_id: int, members: Sequence[Member]) -> None:
        if members:
            rows = [
                {"project_id": project_id, "account": m.account, "role": m.role.value}
                for m in members
            ]
            conn.execute(insert(PROJECT_MEMBERS), rows)

    def remove(self, project_id: int) -> None:
        """Delete a project and its members (undoes a create whose space could not be made)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(PROJECT_MEMBERS).where(PROJECT_MEMBERS.c.project_id == project_id)
                )
                conn.execute(delete(PROJECTS).where(PROJECTS.c.id == project_id))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot remove the project: {database_reason(exc)}") from None
        self._cache.clear()

    def forget_cached(self) -> None:
        """Read the projects again on next use (after a change made elsewhere)."""
        self._cache.clear()
