"""The Admin tab's Projects card: list the projects an admin may change, fill the form with
the chosen one, and save it (admin- ids: the request guard refuses everyone but the page
project's admins; each callback checks again which projects the person may change)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from dash import ALL, Input, Output, Patch, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import may, sign_in_required, signed_in_account
from components import ids
from components.admin_projects import (
    NEW,
    account_options,
    form_values,
    member_row,
    pick_options,
    projects_table,
)
from domain.accounts import Role
from domain.projects import Project, ProjectError, role_in
from storage.errors import StorageError
from storage.runtime import current
from workflows.projects import (
    clear_assignment_overrides,
    create_project,
    known_accounts,
    update_project,
)


def _said(text: str, ok: bool = True) -> html.Span:
    return html.Span(text, className="text-success" if ok else "text-danger")


def global_admin() -> bool:
    """True when the person asking is an admin of the whole deployment (or sign-in is off):
    they see every project and may make new ones."""
    if not sign_in_required():
        return True
    account = signed_in_account()
    return account is not None and account.role == Role.ADMIN


def may_change(project: Project) -> bool:
    """True when the person asking may change this project: a global admin, or an admin
    of the project."""
    if global_admin():
        return True
    account = signed_in_account()
    if account is None:
        return False
    return role_in(project, account.name, account.role, True) == Role.ADMIN


def changeable(projects: Sequence[Project]) -> list[Project]:
    """The projects the person asking may change, in their order."""
    return [p for p in projects if may_change(p)]


def project_form(
    name: Any,
    slug: Any,
    source: Any,
    labels: Any,
    per_image: Any,
    claim: Any,
    repeats: Any,
    suggestions: Any,
    open_to_all: Any,
    members_upload: Any,
    accounts: Sequence[Any],
    roles: Sequence[Any],
) -> dict[str, object]:
    """The form's values as workflows.projects reads them (member rows side by side)."""
    members = [
        {"account": account or "", "role": role or Role.ANNOTATOR.value}
        for account, role in zip(accounts, roles, strict=False)
    ]
    return {
        "name": name,
        "slug": slug,
        "image_source": source,
        "labels": labels,
        "annotators_per_image": per_image,
        "claim_minutes": claim,
        "repeat_percent": repeats,
        "suggestions": suggestions,
        "open_to_all": bool(open_to_all),
        "members_upload": bool(members_upload),
        "members": members,
    }


def save(pick: Any, form: dict[str, object], version: Any) -> Project:
    """Make a new project (pick NEW) or change the picked one, if the person asking may;
    ProjectError (or StorageError) says why not."""
    services = current()
    if not pick:
        if not global_admin():
            raise ProjectError("only an admin of the whole deployment may make projects")
        return create_project(services, form)
    project = services.projects.find(str(pick))
    if project is None or not may_change(project):
        raise ProjectError(f"you may not change project {str(pick)[:40]!r}")
    if not isinstance(version, int):  # the form was never filled from the project
        raise ProjectError(f"pick project {project.slug!r} again before changing it")
    saved = update_project(
        services, project.slug, {k: v for k, v in form.items() if k != "slug"}, version
    )
    if services.hub is not None:  # the form's assignment values are in force now
        clear_assignment_overrides(services.hub.build(saved))
    return saved


@callback(
    Output(ids.ADMIN_PROJECTS, "children"),
    Output(ids.ADMIN_PROJECT_PICK, "options"),
    Output(ids.ADMIN_PROJECT_PICK, "value"),
    Output(ids.ADMIN_PROJECT_ACCOUNTS, "children"),
    Input(ids.TABS, "active_tab"),
    Input(ids.ADMIN_PROJECT_CHANGED, "data"),
    State(ids.ADMIN_PROJECT_PICK, "value"),
    prevent_initial_call=True,  # the page opens on Annotate: listed when the tab opens
)
def show_projects(active: Any, changed: Any, picked: Any) -> tuple[object, ...]:
    """The projects the admin may change and the form's choice of them, when the tab opens
    or a project was saved (then the saved one is chosen, and the form shows it again)."""
    if active != ids.TAB_ADMIN or not may(Role.ADMIN):
        raise PreventUpdate
    services = current()
    try:
        projects = changeable(services.projects.all())
        names = known_accounts(services)
    except (ProjectError, StorageError) as exc:
        return _said(str(exc), ok=False), no_update, no_update, no_update
    options = pick_options(projects, global_admin())
    values = [o["value"] for o in options]
    if ctx.triggered_id == ids.ADMIN_PROJECT_CHANGED and isinstance(changed, dict):
        picked = changed.get("slug", picked)
    chosen = picked if picked in values else (values[0] if values else NEW)
    return projects_table(projects), options, chosen, account_options(names)


@callback(
    Output(ids.ADMIN_PROJECT_NAME, "value"),
    Output(ids.ADMIN_PROJECT_SLUG, "value"),
    Output(ids.ADMIN_PROJECT_SLUG, "disabled"),
    Output(ids.ADMIN_PROJECT_SOURCE, "value"),
    Output(ids.ADMIN_PROJECT_LABELS, "value"),
    Output(ids.ADMIN_PROJECT_PER_IMAGE, "value"),
    Output(ids.ADMIN_PROJECT_CLAIM, "value"),
    Output(ids.ADMIN_PROJECT_REPEATS, "value"),
    Output(ids.ADMIN_PROJECT_SUGGESTIONS, "value"),
    Output(ids.ADMIN_PROJECT_OPEN, "value"),
    Output(ids.ADMIN_PROJECT_UPLOAD, "value"),
    Output(ids.ADMIN_PROJECT_MEMBERS, "children"),
    Output(ids.ADMIN_PROJECT_VERSION, "data"),
    Input(ids.ADMIN_PROJECT_PICK, "value"),
    prevent_initial_call=True,
)
def fill_form(pick: Any) -> tuple[object, ...]:
    """The chosen project's values in the form (blank for a new one), with its version."""
    if not may(Role.ADMIN):
        raise PreventUpdate
    if not pick:
        return form_values(None)
    try:
        project = current().projects.find(str(pick))
    except StorageError:
        raise PreventUpdate from None
    if project is None or not may_change(project):
        raise PreventUpdate
    return form_values(project)


@callback(
    Output(ids.ADMIN_PROJECT_MEMBERS, "children", allow_duplicate=True),
    Input(ids.ADMIN_PROJECT_ADD_MEMBER, "n_clicks"),
    State({"type": ids.ADMIN_PROJECT_MEMBER_ACCOUNT, "index": ALL}, "id"),
    prevent_initial_call=True,
)
def add_member(_clicks: Any, rows: Sequence[dict[str, Any]]) -> Patch:
    """One more empty member row."""
    if not may(Role.ADMIN):
        raise PreventUpdate
    given = rows if isinstance(rows, list) else []
    taken = [r["index"] for r in given if isinstance(r, dict) and isinstance(r.get("index"), int)]
    rows_now = Patch()
    rows_now.append(member_row(max(taken, default=-1) + 1))
    return rows_now


@callback(
    Output(ids.ADMIN_PROJECT_RESULT, "children"),
    Output(ids.ADMIN_PROJECT_CHANGED, "data"),
    Input(ids.ADMIN_PROJECT_SAVE, "n_clicks"),
    State(ids.ADMIN_PROJECT_PICK, "value"),
    State(ids.ADMIN_PROJECT_VERSION, "data"),
    State(ids.ADMIN_PROJECT_NAME, "value"),
    State(ids.ADMIN_PROJECT_SLUG, "value"),
    State(ids.ADMIN_PROJECT_SOURCE, "value"),
    State(ids.ADMIN_PROJECT_LABELS, "value"),
    State(ids.ADMIN_PROJECT_PER_IMAGE, "value"),
    State(ids.ADMIN_PROJECT_CLAIM, "value"),
    State(ids.ADMIN_PROJECT_REPEATS, "value"),
    State(ids.ADMIN_PROJECT_SUGGESTIONS, "value"),
    State(ids.ADMIN_PROJECT_OPEN, "value"),
    State(ids.ADMIN_PROJECT_UPLOAD, "value"),
    State({"type": ids.ADMIN_PROJECT_MEMBER_ACCOUNT, "index": ALL}, "value"),
    State({"type": ids.ADMIN_PROJECT_MEMBER_ROLE, "index": ALL}, "value"),
    prevent_initial_call=True,
)
def save_project(_save: Any, pick: Any, version: Any, *values: Any) -> tuple[object, ...]:
    """Make or change the project; a stale edit (someone saved it meanwhile) is refused."""
    if not may(Role.ADMIN):
        raise PreventUpdate
    try:
        saved = save(pick, project_form(*values), version)
    except (ProjectError, StorageError) as exc:
        return _said(f"Not saved: {exc}.", ok=False), no_update
    done = "Changed" if pick else "Made"
    text = f"{done} project {saved.name} ({saved.slug}); its address is /?project={saved.slug}."
    return _said(text), {"at": time.time(), "slug": saved.slug}
