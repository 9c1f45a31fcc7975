"""Which project a request works in, and whether the person asking may: every callback
names its page's project (the project store, sent as State by auth/scoped.py), every
picture route has `?project=slug`, and the page itself takes it from its address. A
member of one project gets 403 on every callback and route of another."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, Response, g, request

from auth.session import sign_in_required, signed_in_account
from components import ids
from domain.accounts import RANK, Role
from domain.projects import Project, role_in
from storage.errors import StorageError
from storage.runtime import enter_project, first_services, leave_project

log = logging.getLogger("concord.projects")

CALLBACK_PATH = "/_dash-update-component"
PAGE_PATHS = ("/_dash-layout",)  # built for the page's project, named in its address
PROJECT_PARAM = "project"
PICTURE_PREFIXES = ("/images/", "/thumbs/", "/crops/")
QUERY_PREFIXES = (*PICTURE_PREFIXES, "/uploads/")  # routes naming it by ?project=


def _text(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def callback_project(body: Any) -> str | None:
    """The project a callback request names: the value of its project store State."""
    if not isinstance(body, dict):
        return None
    for part in ("state", "inputs"):
        entries = body.get(part)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict) and entry.get("id") == ids.PROJECT:
                value = entry.get("value")
                return value if isinstance(value, str) else None
    return None


def page_param(name: str) -> str | None:
    """A value the page's address holds (?project=, ?image=): the page's own query, or for
    the layout Dash fetches after it, the page's (its Referer's)."""
    value = request.args.get(name)
    if value is None and request.path in PAGE_PATHS and request.referrer:
        found = parse_qs(urlsplit(request.referrer).query).get(name)
        value = found[0] if found else None
    return value


def page_project() -> str | None:
    """The project the page's address names."""
    return page_param(PROJECT_PARAM)


def role_of(project: Project) -> Role | None:
    """What the person asking may do in the project (None: not a member)."""
    if not sign_in_required():
        return Role.ADMIN
    account = signed_in_account()
    if account is None:
        return None
    return role_in(project, account.name, account.role, True)


def highest_role(account: str, own: Role) -> Role:
    """The highest role an account has: its own, or one a project gives it as a member
    (the projects read before, if the database is away now)."""
    try:
        projects = first_services().projects.all()
    except StorageError:
        return own
    given = [p.member_role(account) for p in projects]
    return max([own, *(r for r in given if r is not None)], key=RANK.__getitem__)


def enterable(projects: Sequence[Project]) -> list[tuple[Project, Role]]:
    """The projects the person asking may work in, with their role there."""
    found = []
    for project in projects:
        role = role_of(project)
        if role is not None:
            found.append((project, role))
    return found


def page_choice(projects: Sequence[Project], asked: str | None) -> tuple[Project | None, str]:
    """The project a page opens in, and a note when it is not the one asked for: the one
    asked for if the person may enter it, else their first."""
    allowed = enterable(projects)
    chosen = next((p for p, _ in allowed if p.slug == asked), None)
    if chosen is not None:
        return chosen, ""
    fallback = allowed[0][0] if allowed else None
    if asked is None:
        return fallback, ""
    known = any(p.slug == asked for p in projects)
    why = "you are not a member of it" if known else "there is no such project"
    return fallback, f"Project {asked[:40]!r} cannot be opened: {why}."


def _enter() -> Response | None:
    """Before a request: find its project and check the person may work there."""
    path = request.path
    is_callback = path == CALLBACK_PATH and request.method == "POST"
    is_picture = path.startswith(QUERY_PREFIXES)
    if is_callback:
        asked = callback_project(request.get_json(silent=True))
    elif is_picture:
        asked = request.args.get(PROJECT_PARAM)
    else:
        asked = page_project()
    try:
        projects = first_services().projects.all()
    except StorageError as exc:
        log.warning("projects not read: %s", exc)
        return _text(f"The projects cannot be read now: {exc}. Try again soon.", 503)
    if is_callback or is_picture:
        if asked is None:
            project = next((p for p in projects if p.is_first), None)
        else:
            project = next((p for p in projects if p.slug == asked), None)
        if project is None:
            return _text(f"There is no project called {str(asked)[:40]!r}.", 404)
        role = role_of(project)
        if role is None:
            return _text(f"You are not a member of project {project.slug!r}.", 403)
    else:
        project, note = page_choice(projects, asked)
        g.concord_project_note = note
        role = role_of(project) if project is not None else None
    g.concord_project = project
    g.concord_project_role = role
    g.concord_project_token = enter_project(project.slug if project else None)
    return None


def _leave(_exc: BaseException | None) -> None:
    token = g.pop("concord_project_token", None)
    if token is not None:
        leave_project(token)


def install_project_access(server: Flask) -> None:
    """Check and enter each request's project (after sign-in and the callback shape checks,
    before the role check, which then reads the role the project gives)."""
    server.before_request(_enter)
    server.teardown_request(_leave)
