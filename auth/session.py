"""Who is asking: the signed-in account, or nobody in particular in local mode.

Callbacks never trust the annotator name the browser sends when sign-in is on: they ask
`acting_annotator`, which answers with the session's account.
"""

from __future__ import annotations

import hmac
import secrets

from flask import g, has_app_context, has_request_context, session
from flask_login import current_user

from auth.directory import AccountDirectory
from domain.accounts import LOCAL, Account, Role, Viewer, allows
from domain.repeats import first_pass_of

_directory: AccountDirectory | None = None
CSRF_KEY = "csrf"  # the Flask session's token for Concord's own forms (sign in, sign out)


def set_directory(directory: AccountDirectory | None) -> None:
    """Install the process's accounts (None: local mode)."""
    global _directory
    _directory = directory


def directory() -> AccountDirectory | None:
    """The process's configured accounts (None before the app installed them)."""
    return _directory


def sign_in_required() -> bool:
    """True when accounts are configured."""
    return _directory is not None and _directory.enabled


def signed_in_account() -> Account | None:
    """The session's account, or None (no request, no session, or a stale one)."""
    if not sign_in_required() or not has_request_context():
        return None
    if not current_user.is_authenticated:
        return None
    account: Account = current_user.account
    return account


def project_role(account: Account) -> Role | None:
    """The role the request's project gives the account (auth/project_access.py checked
    it before the request ran); its own role where no project was entered."""
    if not has_app_context() or "concord_project_role" not in g:
        return account.role
    role: Role | None = g.concord_project_role
    return role


def viewer() -> Viewer:
    """Who the page is for, with the role the page's project gives them; outside a request
    (Dash checking the layout) the full page."""
    if not sign_in_required() or not has_request_context():
        return LOCAL
    account = signed_in_account()
    if account is None:
        return Viewer(None, Role.ANNOTATOR, True, manages_deployment=False)
    role = project_role(account) or Role.ANNOTATOR
    return Viewer(account.name, role, True, csrf_token(), account.role == Role.ADMIN)


def csrf_token() -> str:
    """This browser's token for Concord's forms, made on first use; another site cannot
    read it, so a form it sends on the user's behalf lacks it."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_matches(sent: object) -> bool:
    """True when a form carried this browser's token."""
    expected = session.get(CSRF_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(sent, str):
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def acting_annotator(claimed: object) -> str | None:
    """The name changes are saved under: the signed-in account's, or in local mode the name
    the browser remembers."""
    if not sign_in_required():
        return claimed if isinstance(claimed, str) and claimed else None
    account = signed_in_account()
    return account.name if account else None


def acts_as(name: str) -> bool:
    """True when changes may be saved under this name for the person asking: their own,
    or their second-pass name (`name#repeat`)."""
    owner = first_pass_of(name)
    return bool(owner) and acting_annotator(owner) == owner


def may(role: Role) -> bool:
    """True when the person asking has at least this role (always, in local mode)."""
    if not sign_in_required():
        return True
    account = signed_in_account()
    if account is None:
        return False
    here = project_role(account)
    return here is not None and allows(here, role)


def deployment_admin() -> bool:
    """True when the person asking is an admin of the whole deployment (always, in local
    mode): they manage accounts and projects; a project's admins manage that project."""
    if not sign_in_required():
        return True
    account = signed_in_account()
    return account is not None and account.role == Role.ADMIN
