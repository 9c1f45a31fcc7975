"""Projects: one deployment serves several teams, each with its own images, labels, work
settings and people. Pure: records and rules, no I/O.

The first project (id 1) is the deployment as it was before projects: its records stay
where they were, and a setting it leaves unset (None) is the environment's.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.accounts import RANK, Role, parse_role
from domain.errors import DomainError
from domain.labels import Label

FIRST_PROJECT_ID = 1
FIRST_PROJECT_SLUG = "default"
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MAX_NAME_LENGTH = 80
SUGGESTION_MODES = ("auto", "on", "off")
# A project's whole-number settings: (form key, what a person calls it, lowest, highest),
# the ranges the environment allows too (the Admin form's inputs and the checks share them)
NUMBERS: tuple[tuple[str, str, int, int], ...] = (
    ("annotators_per_image", "annotators per image", 0, 100),
    ("claim_minutes", "claim minutes", 1, 24 * 60),
    ("repeat_percent", "repeat percent", 0, 50),
)


class ProjectError(DomainError):
    """A project cannot be made, changed or entered as asked."""


@dataclass(frozen=True)
class Member:
    """An account that may work in a project, and as what there."""

    account: str
    role: Role


@dataclass(frozen=True)
class Project:
    """A project's identity, settings and members. A setting left None is the
    environment's (only the first project leaves them unset)."""

    id: int
    slug: str
    name: str
    image_source: str | None = None
    labels: tuple[Label, ...] | None = None
    annotators_per_image: int | None = None  # 0: everyone sees every image
    claim_minutes: int | None = None
    repeat_percent: int | None = None
    suggestions: str | None = None
    open_to_all: bool = False  # every account may work in it, with their own role
    members_upload: bool = False  # members, not only admins, may upload images
    members: tuple[Member, ...] = field(default=())
    version: int = 1

    @property
    def is_first(self) -> bool:
        """True for the project the deployment had before projects existed."""
        return self.id == FIRST_PROJECT_ID

    def member_role(self, account: str | None) -> Role | None:
        """The role this project gives an account as a member, or None."""
        if account is None:
            return None
        folded = account.casefold()
        return next((m.role for m in self.members if m.account.casefold() == folded), None)


def role_in(project: Project, account: str | None, role: Role, signed_in: bool) -> Role | None:
    """What someone may do in a project (None: they may not enter it). Without sign-in
    everyone is an admin everywhere; an admin of the deployment is one in every project; in
    a project open to all, an account has its own role or its member role, the higher."""
    if not signed_in or role == Role.ADMIN:
        return Role.ADMIN
    given = project.member_role(account)
    if project.open_to_all:
        return role if given is None or RANK[role] >= RANK[given] else given
    return given


def clean_slug(raw: object) -> str:
    """A project's URL name: lower-case letters, digits and inner hyphens, 1-40 long."""
    slug = str(raw or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ProjectError(
            f"project slug {slug[:50]!r} cannot be used: use 1-40 lower-case letters, digits "
            "and hyphens (not at either end), e.g. street-scenes"
        )
    return slug


def clean_project_name(raw: object) -> str:
    """A project's display name: not empty, at most MAX_NAME_LENGTH characters."""
    name = " ".join(str(raw or "").split())
    if not name:
        raise ProjectError("a project needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise ProjectError(f"a project name is at most {MAX_NAME_LENGTH} characters")
    return name


def clean_local_folder(raw: object) -> str:
    """A folder below the configured image root, as a relative path with / separators;
    refuses absolute paths and any step out of the root."""
    text = str(raw or "").strip().replace("\\", "/")
    if not text:
        raise ProjectError("give the project's image folder (below the image root) or s3://...")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise ProjectError(f"{text[:80]!r}: give a folder relative to the image root")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts or any(part == ".." for part in parts):
        raise ProjectError(f"{text[:80]!r} leaves the image root: '..' is not allowed")
    return posixpath.join(*parts)


def clean_image_source(raw: object) -> str:
    """`s3://bucket/prefix`, or a folder below the image root (see clean_local_folder)."""
    text = str(raw or "").strip()
    if text.startswith("s3:"):
        if not text.startswith("s3://") or not text[5:].split("/")[0]:
            raise ProjectError(f"{text[:80]!r}: write S3 sources as s3://bucket/prefix")
        return text
    return clean_local_folder(text)


def clean_setting(name: str, raw: object, low: int, high: int) -> int:
    """A whole-number project setting within low..high."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ProjectError(f"{name} must be a whole number, not {str(raw)[:20]!r}") from None
    if not low <= value <= high:
        raise ProjectError(f"{name} must be between {low} and {high}")
    return value


def clean_suggestions(raw: object) -> str:
    """auto, on or off."""
    mode = str(raw or "").strip().lower()
    if mode not in SUGGESTION_MODES:
        raise ProjectError(f"suggestions must be one of {', '.join(SUGGESTION_MODES)}")
    return mode


def clean_members(rows: Iterable[Mapping[str, object]], known: Iterable[str]) -> tuple[Member, ...]:
    """Members from {account, role} rows: known accounts only, each once."""
    names = {name.casefold(): name for name in known}
    members: dict[str, Member] = {}
    for row in rows:
        typed = " ".join(str(row.get("account") or "").split())
        if not typed:
            continue
        account = names.get(typed.casefold())
        if account is None:
            raise ProjectError(f"no account is called {typed[:64]!r}")
        if account.casefold() in members:
            raise ProjectError(f"{account} is listed twice among the members")
        try:
            role = parse_role(row.get("role") or Role.ANNOTATOR.value)
        except DomainError as exc:
            raise ProjectError(str(exc)) from None
        members[account.casefold()] = Member(account, role)
    return tuple(members.values())
