"""Uploading images from the browser: who may, which files are taken, and the key each one
gets in the project's source (refused, or renamed name-1.jpg, name-2.jpg... when taken).
Pure: the caller says which keys exist."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.accounts import Role
from domain.errors import DomainError

# What may be uploaded, by extension (the image source lists the same ones), and the type a
# file is stored with when the browser names none.
UPLOAD_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
REFUSE, RENAME = "refuse", "rename"
DUPLICATE_CHOICES = (REFUSE, RENAME)
MAX_FILES = 1000  # files in one upload
MAX_NAME_LENGTH = 200  # characters of a file or batch name
MAX_RENAMES = 10_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MEGABYTE = 1024 * 1024


class UploadError(DomainError):
    """An upload cannot be planned as asked (the whole request, not one file)."""


@dataclass(frozen=True)
class Offered:
    """A file the browser offers: its name, size in bytes and declared type."""

    name: str
    size: int
    type: str = ""


@dataclass(frozen=True)
class Planned:
    """What becomes of an offered file: its key in the source, or why it is refused."""

    name: str
    key: str = ""
    content_type: str = ""
    problem: str = ""

    @property
    def accepted(self) -> bool:
        """True when the file may be sent."""
        return not self.problem

    @property
    def renamed(self) -> bool:
        """True when the file is stored under another name than its own."""
        return bool(self.key) and posixpath.basename(self.key) != self.name


def may_upload(role: Role | None, members_upload: bool) -> bool:
    """Admins of the project may upload; its other members when the project allows it."""
    return role == Role.ADMIN or (role is not None and members_upload)


def size_text(size: int) -> str:
    """A size for people: 512 bytes, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < MEGABYTE:
        return f"{size / 1024:.0f} KB"
    return f"{size / MEGABYTE:.1f}".removesuffix(".0") + " MB"


def name_problem(name: str) -> str | None:
    """Why a file or folder name cannot be used (None: it can)."""
    if not name.strip():
        return "a name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"{name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters"
    if "/" in name or "\\" in name or _CONTROL.search(name):
        return f"{name[:60]!r} contains a slash or a control character"
    if name.startswith(".") or name != name.strip():
        return f"{name[:60]!r} starts with a dot or a space, or ends with a space"
    return None


def clean_batch(raw: object) -> str:
    """The batch (top-level folder) to upload into: "" for the top level, else a plain
    folder name."""
    batch = str(raw or "").strip()
    if not batch:
        return ""
    problem = name_problem(batch)
    if problem:
        raise UploadError(f"The batch cannot be used: {problem}.")
    return batch


def clean_duplicates(raw: object) -> str:
    """refuse or rename."""
    choice = str(raw or REFUSE).strip().lower()
    if choice not in DUPLICATE_CHOICES:
        raise UploadError("Duplicates are either refused or renamed.")
    return choice


def offered_files(raw: object) -> list[Offered]:
    """The files a plan request lists ([{name, size, type}]), or UploadError."""
    if not isinstance(raw, list) or not raw:
        raise UploadError("Choose at least one file to upload.")
    if len(raw) > MAX_FILES:
        raise UploadError(f"Upload at most {MAX_FILES} files at a time.")
    found = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise UploadError("Each file is described by its name, size and type.")
        name, size, kind = item.get("name"), item.get("size"), item.get("type", "")
        if not isinstance(name, str) or isinstance(size, bool) or not isinstance(size, int):
            raise UploadError("Each file is described by its name, size and type.")
        found.append(Offered(name, size, kind if isinstance(kind, str) else ""))
    return found


def content_type(name: str, declared: str) -> str | None:
    """The type a file is stored with, or None when it is not an image Concord takes."""
    expected = UPLOAD_TYPES.get(posixpath.splitext(name)[1].lower())
    if expected is None:
        return None
    declared = declared.strip().lower()
    if not declared or declared == "application/octet-stream":
        return expected
    return declared if declared.startswith("image/") else None


def file_problem(offer: Offered, max_bytes: int) -> str | None:
    """Why a file is refused before it is sent (None: it may be sent)."""
    problem = name_problem(offer.name)
    if problem:
        return f"The name cannot be used: {problem}."
    if content_type(offer.name, offer.type) is None:
        kinds = ", ".join(sorted({ext.lstrip(".") for ext in UPLOAD_TYPES}))
        return f"{offer.name} is not an image: only {kinds} files can be uploaded."
    if offer.size <= 0:
        return f"{offer.name} is empty."
    if offer.size > max_bytes:
        return (
            f"{offer.name} is {size_text(offer.size)}, over the upload limit of "
            f"{size_text(max_bytes)}."
        )
    return None


def key_in(batch: str, name: str) -> str:
    """The key of a file named `name` in a batch."""
    return f"{batch}/{name}" if batch else name


def free_name(name: str, taken: Callable[[str], bool]) -> str | None:
    """name-1.jpg, name-2.jpg...: the first that is not taken (None: none found)."""
    stem, ext = posixpath.splitext(name)
    for number in range(1, MAX_RENAMES + 1):
        candidate = f"{stem}-{number}{ext}"
        if len(candidate) <= MAX_NAME_LENGTH and not taken(candidate):
            return candidate
    return None


def plan_uploads(
    offers: Sequence[Offered],
    batch: str,
    duplicates: str,
    max_bytes: int,
    exists: Callable[[str], bool],
) -> list[Planned]:
    """Each file's fate: refused (not an image, empty, too big, a name already used in the
    batch or twice in the request, unless renamed), or the key it is sent to."""
    claimed: set[str] = set()

    def taken(name: str) -> bool:
        key = key_in(batch, name)
        return key in claimed or exists(key)

    plans = []
    for offer in offers:
        problem = file_problem(offer, max_bytes)
        if problem:
            plans.append(Planned(offer.name, problem=problem))
            continue
        name = offer.name
        if taken(name):
            where = f"batch {batch!r}" if batch else "the top level"
            if duplicates == REFUSE:
                problem = f"{name} already exists in {where}: not uploaded."
                plans.append(Planned(name, problem=problem))
                continue
            renamed = free_name(name, taken)
            if renamed is None:
                plans.append(Planned(name, problem=f"No free name like {name} in {where}."))
                continue
            name = renamed
        key = key_in(batch, name)
        claimed.add(key)
        plans.append(Planned(offer.name, key, content_type(name, offer.type) or ""))
    return plans


def summary(plans: Iterable[Planned]) -> str:
    """ "3 files will be uploaded, 1 refused." for the plan's message."""
    plans = list(plans)
    accepted = sum(plan.accepted for plan in plans)
    refused = len(plans) - accepted
    text = f"{accepted} file{'s' if accepted != 1 else ''} will be uploaded"
    return text + (f", {refused} refused." if refused else ".")
