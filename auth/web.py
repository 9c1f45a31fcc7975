"""Sign-in on the Flask server: login and logout routes, the session cookie, and a guard
that refuses every other route and callback without a session or the right role."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, redirect, request
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from auth.directory import AccountDirectory
from auth.login_page import safe_next, sign_in_page
from auth.passwords import DUMMY_HASH, password_matches
from auth.permissions import callback_ids, role_needed
from auth.session import set_directory
from auth.throttle import SignInThrottle
from config import ConfigError, Settings
from domain.accounts import Account, allows
from domain.errors import AccountError
from storage.account_store import AccountStore
from storage.failed_sign_ins import FailedSignIns

OPEN_PATHS = {"/login", "/logout", "/healthz", "/_favicon.ico"}
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")  # public code and CSS, no data
MIN_SECRET_LENGTH = 16


class SignedIn(UserMixin):
    """A session's account. The id carries a piece of the password hash, so changing a
    password ends the sessions opened with the old one."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.name}\n{self.account.password_hash[-16:]}"


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


def install(
    server: Flask, settings: Settings, made_in_app: AccountStore | None = None
) -> AccountDirectory:
    """Read the accounts; when there are any, require sign-in on every route."""
    try:
        directory = AccountDirectory(settings.users_file, settings.users, made_in_app)
    except AccountError as exc:
        raise ConfigError(str(exc)) from None
    set_directory(directory)
    if not directory.enabled:
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
    )
    if settings.proxy_hops:
        hops = settings.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    throttle = sign_in_throttle(settings, made_in_app)
    manager = LoginManager(server)

    @manager.user_loader
    def _load(session_id: str) -> SignedIn | None:
        name, _, stamp = session_id.partition("\n")
        account = directory.find(name)
        if account is None or account.password_hash[-16:] != stamp:
            return None
        return SignedIn(account)

    def sign_in() -> BaseResponse | str:
        next_path = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(next_path)
            return sign_in_page(next_path)
        name = " ".join(request.form.get("name", "").split())
        password = request.form.get("password", "")
        address = request.remote_addr or "unknown"
        wait = throttle.wait_seconds(name, address)
        if wait:
            problem = f"Too many failed sign-ins. Try again in {wait} seconds."
            return Response(sign_in_page(next_path, name, problem), status=429)
        account = directory.find(name)
        matches = password_matches(account.password_hash if account else DUMMY_HASH, password)
        if account is None or not matches:
            throttle.failed(name, address)
            problem = "Wrong name or password."
            return Response(sign_in_page(next_path, name, problem), status=401)
        login_user(SignedIn(account))
        return redirect(next_path)

    def sign_out() -> BaseResponse:
        logout_user()
        return redirect("/login")

    def guard() -> BaseResponse | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if not current_user.is_authenticated:
            if request.method == "GET" and not path.startswith(("/_dash-", "/images/")):
                back = request.full_path.rstrip("?")  # the query too
                return redirect(f"/login?next={quote(back)}")
            return _text("Sign in first: your session has ended or was never opened.", 401)
        if path == "/_dash-update-component":
            needed = role_needed(callback_ids(request.get_json(silent=True)))
            if not allows(current_user.account.role, needed):
                return _text(f"Only {needed.value}s may do this.", 403)
        return None

    server.add_url_rule("/login", "concord_login", sign_in, methods=["GET", "POST"])
    server.add_url_rule("/logout", "concord_logout", sign_out, methods=["GET", "POST"])
    server.before_request(guard)
    return directory
