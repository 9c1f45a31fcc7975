"""The Admin tab: accounts made in the app and image assignment (admins only; the request
guard refuses everyone else, and each callback checks again)."""

from __future__ import annotations

import time
from typing import Any

from dash import Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.passwords import hash_password
from auth.scoped import callback
from auth.session import (
    deployment_admin,
    directory,
    may,
    sign_in_required,
    signed_in_account,
)
from components import ids
from components.admin_tab import accounts_table
from domain.accounts import Account, Role, account_name, parse_role
from domain.errors import AccountError, AnnotatorNameError
from domain.identity import clean_annotator_name
from domain.projects import ProjectError
from storage.errors import StorageError
from storage.runtime import assignment_setup, current, repeat_share
from workflows.projects import set_assignment


def _said(text: str, ok: bool = True) -> html.Span:
    return html.Span(text, className="text-success" if ok else "text-danger")


@callback(
    Output(ids.ADMIN_USERS, "children"),
    Input(ids.TABS, "active_tab"),
    Input(ids.ADMIN_CHANGED, "data"),
    prevent_initial_call=True,  # the page opens on Annotate: listed when the tab opens
)
def show_accounts(active: str | None, _changed: Any) -> object:
    """Every account, when the tab opens or an account changes (admins of the deployment:
    an admin of one project only manages that project)."""
    if active != ids.TAB_ADMIN or not deployment_admin():
        raise PreventUpdate
    people = directory()
    rows: list[tuple[Account, str]] = []
    if people is not None:
        rows += [(a, people.origin(a.name)) for a in people.configured_accounts()]
    try:
        made = current().accounts.all()
    except StorageError as exc:
        return _said(str(exc), ok=False)
    shown = {a.name for a, _ in rows}
    rows += [(a, "app") for a in made if a.name not in shown]
    return accounts_table(sorted(rows, key=lambda r: r[0].name), sign_in_required())


@callback(
    Output(ids.ADMIN_PER_IMAGE, "value"),
    Output(ids.ADMIN_CLAIM_MINUTES, "value"),
    Output(ids.ADMIN_REPEAT_PERCENT, "value"),
    Input(ids.TABS, "active_tab"),
    Input(ids.ADMIN_CHANGED, "data"),
    prevent_initial_call=True,
)
def show_assignment(active: str | None, _changed: Any) -> tuple[object, ...]:
    """The project's assignment now in force, when the tab opens or it changes."""
    if active != ids.TAB_ADMIN or not may(Role.ADMIN):
        raise PreventUpdate
    services = current()
    k, minutes = assignment_setup(services.settings, services.app_settings)
    percent = round(repeat_share(services.settings, services.app_settings) * 100)
    return k, minutes, percent


def account_change(name: Any, role: Any, password: Any, remove: bool) -> str:
    """Save or remove an account made in the app; the sentence saying what happened.
    Raises AccountError (or AnnotatorNameError) with the reason it cannot be done."""
    clean = clean_annotator_name(name)
    people = directory()
    if people is not None and people.configured(clean) is not None:
        where = people.origin(clean)
        raise AccountError(f"{clean} is kept in {where}: change it there (cli.py add-user)")
    accounts = current().accounts
    if remove:
        me = signed_in_account()
        if me is not None and me.name == clean:
            raise AccountError("you cannot remove your own account while signed in with it")
        if not accounts.remove(clean):
            raise AccountError(f"there is no account {clean} made in the app")
        return f"Removed {clean}."
    clean = account_name(name)  # refuses reserved characters (#, :) and names
    chosen = parse_role(role)
    existing = accounts.find(clean)
    if password:
        password_hash = hash_password(str(password))
    elif existing is not None:
        password_hash = existing.password_hash  # a role change keeps the password
    else:
        raise AccountError("give a new account a password (8+ characters)")
    added = accounts.save(Account(clean, chosen, password_hash))
    return f"{'Added' if added else 'Updated'} {clean} ({chosen.value})."


@callback(
    Output(ids.ADMIN_USER_RESULT, "children"),
    Output(ids.ADMIN_CHANGED, "data", allow_duplicate=True),
    Output(ids.ADMIN_USER_PASSWORD, "value"),
    Input(ids.ADMIN_USER_SAVE, "n_clicks"),
    Input(ids.ADMIN_USER_REMOVE, "n_clicks"),
    State(ids.ADMIN_USER_NAME, "value"),
    State(ids.ADMIN_USER_ROLE, "value"),
    State(ids.ADMIN_USER_PASSWORD, "value"),
    prevent_initial_call=True,
)
def change_account(_save: Any, _remove: Any, name: Any, role: Any, password: Any):
    """Add, update or remove an account; the password box is emptied either way."""
    if not deployment_admin():
        raise PreventUpdate
    try:
        done = account_change(name, role, password, ctx.triggered_id == ids.ADMIN_USER_REMOVE)
    except (AccountError, AnnotatorNameError, StorageError) as exc:
        return _said(f"Not saved: {exc}.", ok=False), no_update, ""
    return _said(done), time.time(), ""


def assignment_values(per_image: Any, minutes: Any, percent: Any = 0) -> tuple[str, str, str]:
    """The settings to store from the form: ('0' for everyone, minutes, repeat percent), or
    AccountError saying what is wrong."""
    k = 0 if per_image in (None, "") else per_image
    if not isinstance(k, int) or not 0 <= k <= 100:
        raise AccountError("annotators per image is a whole number from 1 to 100, or empty")
    if not isinstance(minutes, int) or not 1 <= minutes <= 1440:
        raise AccountError("a claim lasts a whole number of minutes from 1 to 1440")
    percent = 0 if percent in (None, "") else percent
    if not isinstance(percent, int) or not 0 <= percent <= 50:
        raise AccountError("repeats are a whole percentage from 0 to 50")
    return str(k), str(minutes), str(percent)


@callback(
    Output(ids.ADMIN_SETTINGS_RESULT, "children"),
    Output(ids.ADMIN_CHANGED, "data", allow_duplicate=True),
    Input(ids.ADMIN_SETTINGS_SAVE, "n_clicks"),
    State(ids.ADMIN_PER_IMAGE, "value"),
    State(ids.ADMIN_CLAIM_MINUTES, "value"),
    State(ids.ADMIN_REPEAT_PERCENT, "value"),
    prevent_initial_call=True,
)
def change_assignment(_save: Any, per_image: Any, minutes: Any, percent: Any = 0):
    """Store how many annotators each image gets; every worker uses it within seconds."""
    if not may(Role.ADMIN):
        raise PreventUpdate
    try:
        k, claim, repeats = assignment_values(per_image, minutes, percent)
        set_assignment(current(), k, claim, repeats)  # the project's own, one place
    except (AccountError, ProjectError, StorageError) as exc:
        return _said(f"Not saved: {exc}.", ok=False), no_update
    who = "everyone sees every image" if k == "0" else f"each image goes to {k} annotator(s)"
    again = f"{repeats}% of Next presses bring back a finished image"
    return _said(f"Saved: {who}; claims last {claim} minutes; {again}."), time.time()
