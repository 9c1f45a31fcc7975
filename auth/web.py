"""Sign-in on the Flask server: login and logout routes, server-side sessions, and a guard
that refuses every other route and callback without a session or the right role (and a
body bigger than the role needs, before it is read)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import Flask, Response, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from auth.boundary import MAX_REQUEST_BYTES, MEGABYTE, check_callback_request, install_boundary
from auth.directory import AccountDirectory
from auth.login_page import safe_next, sign_in_page
from auth.passwords import DUMMY_HASH, password_matches
from auth.permissions import callback_ids, deployment_wide, role_needed
from auth.project_access import highest_role, install_project_access
from auth.session import CSRF_KEY, csrf_matches, csrf_token, project_role, set_directory
from auth.throttle import SignInThrottle
from config import ConfigError, Settings
from domain.accounts import Account, Role, allows
from domain.annotation import utc_now
from domain.errors import AccountError
from storage.account_store import AccountStore
from storage.errors import StorageError
from storage.failed_sign_ins import FailedSignIns
from storage.schema import SESSIONS
from storage.session_store import SessionStore

log = logging.getLogger("concord.auth")

OPEN_PATHS = {"/login", "/logout", "/healthz", "/_favicon.ico"}
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")  # public code and CSS, no data
MIN_SECRET_LENGTH = 16
# The largest body each kind of caller may send, checked before it is read. An annotator's
# callbacks carry one image's records (MAX_SHAPES_PER_IMAGE boxes is under 2 MB); a
# reviewer's also the agreement report; an admin's an import file, base64.
ANONYMOUS_BYTES = 64 * 1024  # the sign-in form
BODY_LIMITS = {
    Role.ANNOTATOR: 4 * MEGABYTE,
    Role.REVIEWER: 32 * MEGABYTE,
    Role.ADMIN: MAX_REQUEST_BYTES,
}
EXPIRED_FORM = (
    "This sign-in form has expired or was sent from another site. Sign in again here "
    "(your browser must accept cookies from this site)."
)


UPLOAD_FILE_PATH = "/uploads/file"  # uploads_web.py: caps the body at UPLOAD_MAX_BYTES

# Routes the page fetches itself answer 401 without a session; other pages redirect.
DATA_PREFIXES = ("/_dash-", "/images/", "/thumbs/", "/crops/", "/uploads/")


def credential_stamp(account: Account) -> str:
    """A digest of what a session was granted on: a new password or role changes it, which
    ends the sessions opened before. Kept in the sessions table, never in the cookie."""
    text = f"{account.role.value}\n{account.password_hash}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SignedIn(UserMixin):
    """A session's account; its id (what the cookie carries) is the session's random token."""

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token


def _text(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def sign_in_throttle(settings: Settings, made_in_app: AccountStore | None) -> SignInThrottle:
    """Failed sign-ins counted where every worker and dyno sees them: Redis when REDIS_URL
    is set, else the application database (the engine the in-app accounts use)."""
    if settings.redis_url:
        return SignInThrottle(settings.redis_url)
    if made_in_app is not None:
        return SignInThrottle(FailedSignIns(made_in_app.engine))
    return SignInThrottle("memory://")  # no database handed over (unit tests): this process


def session_store(
    settings: Settings,
    made_in_app: AccountStore | None,
    clock: Callable[[], datetime] = utc_now,
) -> SessionStore:
    """Sessions in the application database (shared by every worker); without one (unit
    tests), in an in-memory database of this process."""
    if made_in_app is not None:
        engine = made_in_app.engine
    else:
        engine = create_engine("sqlite://", poolclass=StaticPool)
        SESSIONS.create(engine)
    return SessionStore(engine, settings.session_hours, settings.session_idle_minutes, clock)


def body_limit() -> int:
    """The largest body the person asking may send (signed in or not): by the highest
    role they have anywhere (their own, or one a project gives them), since the body is
    capped before it is read and so before its project is known."""
    if not current_user.is_authenticated:
        return ANONYMOUS_BYTES
    account = current_user.account
    return BODY_LIMITS[highest_role(account.name, account.role)]


def install(
    server: Flask,
    settings: Settings,
    made_in_app: AccountStore | None = None,
    sessions: SessionStore | None = None,
) -> AccountDirectory:
    """Headers, body caps and request checks on every route; when there are accounts, also
    require sign-in on every route. `sessions` defaults to the application database's."""
    install_boundary(server)
    try:
        directory = AccountDirectory(settings.users_file, settings.users, made_in_app)
    except AccountError as exc:
        raise ConfigError(str(exc)) from None
    set_directory(directory)
    if not directory.enabled:
        server.before_request(check_callback_request)
        install_project_access(server)
        return directory
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be set (at least {MIN_SECRET_LENGTH} characters) when "
            "USERS_FILE or USERS is: it signs the session cookies. Make one with "
            '`python -c "import secrets; print(secrets.token_hex(32))"`.'
        )
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="concord_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    if settings.proxy_hops:
        hops = settings.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    throttle = sign_in_throttle(settings, made_in_app)
    store = sessions or session_store(settings, made_in_app)
    manager = LoginManager(server)

    @manager.user_loader
    def _load(token: str) -> SignedIn | None:
        try:
            found = store.find(token)
            if found is None:
                return None
            account = directory.find(found.account)
            if account is None or credential_stamp(account) != found.stamp:
                store.close(token)  # removed, or a new password or role since: ended
                return None
        except StorageError as exc:
            log.warning("session not checked, so refused: %s", exc)
            return None
        return SignedIn(account, token)

    def sign_in() -> BaseResponse | str:
        next_path = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(next_path)
            return sign_in_page(next_path, csrf=csrf_token())
        name = " ".join(request.form.get("name", "").split())
        password = request.form.get("password", "")
        if not csrf_matches(request.form.get("csrf")):
            page = sign_in_page(next_path, name, EXPIRED_FORM, csrf_token())
            return Response(page, status=400)
        address = request.remote_addr or "unknown"
        wait = throttle.wait_seconds(name, address)
        if wait:
            problem = f"Too many failed sign-ins. Try again in {wait} seconds."
            return Response(sign_in_page(next_path, name, problem, csrf_token()), status=429)
        account = directory.find(name)
        matches = password_matches(account.password_hash if account else DUMMY_HASH, password)
        if account is None or not matches:
            throttle.failed(name, address)
            problem = "Wrong name or password."
            return Response(sign_in_page(next_path, name, problem, csrf_token()), status=401)
        try:
            token = store.open(account.name, credential_stamp(account))
        except StorageError as exc:
            problem = f"Sign-in is unavailable right now: {exc}. Try again in a moment."
            return Response(sign_in_page(next_path, name, problem, csrf_token()), status=503)
        session.clear()  # nothing from before sign-in carries over; a new form token
        session.permanent = True  # the cookie ends with the session (SESSION_HOURS)
        login_user(SignedIn(account, token))
        csrf_token()
        return redirect(next_path)

    def sign_out() -> BaseResponse:
        if request.method == "GET":
            message = "Sign out with the Sign out button of the page (a link cannot do it)."
            return Response(message, status=405, mimetype="text/plain", headers={"Allow": "POST"})
        if not csrf_matches(request.form.get("csrf")):
            return _text("Sign-out refused: the form has expired. Reload the page first.", 400)
        if current_user.is_authenticated:
            try:
                store.close(current_user.token)
            except StorageError as exc:
                return _text(f"Not signed out: {exc}. Try again in a moment.", 503)
        logout_user()
        session.pop(CSRF_KEY, None)
        return redirect("/login")

    def guard() -> BaseResponse | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            request.max_content_length = ANONYMOUS_BYTES
            return None
        if not current_user.is_authenticated:
            if request.method == "GET" and not path.startswith(DATA_PREFIXES):
                back = request.full_path.rstrip("?")  # the query too
                return redirect(f"/login?next={quote(back)}")
            return _text("Sign in first: your session has ended or was never opened.", 401)
        if path == UPLOAD_FILE_PATH:  # an image: the route checks who and how big, unread
            return None
        limit = body_limit()
        if (request.content_length or 0) > limit:  # refused unread
            role = current_user.account.role.value
            article = "an" if role[0] in "aeiou" else "a"
            return _text(
                f"Request too large: {article} {role}'s requests are at most "
                f"{limit // MEGABYTE} MB.",
                413,
            )
        request.max_content_length = limit  # also for a body sent without its length
        return None

    def role_check() -> BaseResponse | None:
        if request.path == "/_dash-update-component":
            asked = callback_ids(request.get_json(silent=True))
            needed = role_needed(asked)
            here = project_role(current_user.account)
            if here is None or not allows(here, needed):
                return _text(f"Only {needed.value}s may do this.", 403)
            if deployment_wide(asked) and current_user.account.role != Role.ADMIN:
                return _text("Only admins of the whole deployment may do this.", 403)
        return None

    server.add_url_rule("/login", "concord_login", sign_in, methods=["GET", "POST"])
    server.add_url_rule("/logout", "concord_logout", sign_out, methods=["GET", "POST"])
    server.before_request(guard)  # first: nothing is read before the session is known
    server.before_request(check_callback_request)
    install_project_access(server)  # 403 outside one's projects; sets the project's role
    server.before_request(role_check)
    return directory
