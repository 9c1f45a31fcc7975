"""Image sources: where the images come from, as batches of '/'-separated keys.

A source's batches are its top-level sub-folders (or S3 sub-prefixes); images directly at
its top level form the batch "" (ROOT_BATCH). A key is the image's path relative to the
source, batch included, so "site-a/img1.jpg" is in batch "site-a". Listings are sorted by
code point, which is S3's (UTF-8 byte) order, and come in pages.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storage.errors import ImageNotFound, StorageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"})
ROOT_BATCH = ""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SCAN_REUSE_SECONDS = 2.0


@dataclass(frozen=True)
class ObjectMeta:
    """What a source says about one image without reading it: size and a content version."""

    size: int
    version: str


@dataclass(frozen=True)
class KeyPage:
    """One page of a batch's listing: sorted keys, and whether more follow."""

    keys: tuple[str, ...]
    more: bool


@dataclass(frozen=True)
class BatchList:
    """The batches found, and whether discovery stopped before the end of a huge top level."""

    names: tuple[str, ...]
    complete: bool


class ImageSource(Protocol):
    """A read-only collection of images addressed by key."""

    description: str
    # How many reads are worth running at once: network sources wait, local ones compute.
    parallel_reads: int

    def batches(self, max_entries: int) -> BatchList:
        """The batches, sorted; looks at no more than max_entries top-level entries."""
        ...

    def list_keys(self, batch: str, after: str | None, limit: int, prefix: str = "") -> KeyPage:
        """Up to limit image keys of a batch, sorted, greater than `after`, whose name within
        the batch starts with prefix."""
        ...

    def stat(self, key: str) -> ObjectMeta:
        """Size and version; raises ImageNotFound for an unknown or invalid key."""
        ...

    def read(self, key: str) -> bytes:
        """The original file's bytes; raises ImageNotFound for an unknown or invalid key."""
        ...

    def read_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes (enough for the header of most images)."""
        ...

    def read_head_meta(self, key: str, size: int) -> tuple[bytes, ObjectMeta]:
        """The first bytes and the object's metadata in one go (one request, one open)."""
        ...

    def presigned_url(self, key: str, expires: int) -> str | None:
        """A URL the browser can fetch the original from directly, or None if there is none."""
        ...


def is_image_name(name: str) -> bool:
    """True for file names with an image extension (hidden files excluded)."""
    # posixpath on strings: this runs for every file of every listing and import
    return not name.startswith(".") and posixpath.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_valid_key(key: str) -> bool:
    """A relative, normalised path to an image: no '..', no hidden parts, no control chars."""
    return bool(
        key
        and not key.startswith("/")
        and "\\" not in key
        and not _CONTROL.search(key)
        and not any(part in ("..", ".", "") or part.startswith(".") for part in key.split("/"))
        and is_image_name(posixpath.basename(key))
    )


def batch_of(key: str) -> str:
    """The batch a key belongs to: its first folder, or ROOT_BATCH."""
    head, slash, _ = key.partition("/")
    return head if slash else ROOT_BATCH


def batch_prefix(batch: str | None) -> str:
    """The key prefix of a batch's images ('' for the top level, or for all: None)."""
    return f"{batch}/" if batch else ""


def in_batch(key: str, batch: str) -> bool:
    """True if the key belongs to the batch."""
    return batch_of(key) == batch


def page_of(sorted_keys: list[str], after: str | None, limit: int) -> KeyPage:
    """The page of up to limit keys after `after` from an already sorted list."""
    start = bisect_right(sorted_keys, after) if after is not None else 0
    chunk = sorted_keys[start : start + limit]
    return KeyPage(tuple(chunk), start + limit < len(sorted_keys))


class LocalFolderSource:
    """Images in a local folder: its sub-folders are batches, searched recursively."""

    parallel_reads = 1  # reading headers is CPU work here: threads only contend

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.description = str(self.root)
        self._root_text = str(self.root)
        self._root_prefix = os.path.join(self._root_text, "")
        # A batch's scan serves the pages asked for right after it (one listing of a big
        # folder asks for many pages); the catalog caches the pages themselves.
        self._scans: dict[str, tuple[float, list[str]]] = {}

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"image folder {self.root} does not exist")

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.root)  # links that leave the root: no
        except (OSError, RuntimeError):
            return False

    def batches(self, max_entries: int) -> BatchList:
        """Visible sub-folders, plus ROOT_BATCH when there are images at the top level."""
        self._require_root()
        names: list[str] = []
        root_images = False
        complete = True
        with os.scandir(self.root) as entries:
            for count, entry in enumerate(entries):
                if count >= max_entries:
                    complete = False  # more entries than listed: say so, as S3 does
                    break
                if entry.name.startswith("."):
                    continue
                if entry.is_dir() and self._inside(Path(entry.path)):
                    names.append(entry.name)
                elif not root_images and is_image_name(entry.name) and entry.is_file():
                    root_images = True
        # Images at the top are a batch even when the folder holds more entries than
        # listed (5,001 top-level images used to give no batch at all).
        if root_images or not names:
            names.append(ROOT_BATCH)
        return BatchList(tuple(sorted(names)), complete)

    def _scan(self, batch: str, fresh: bool = True) -> list[str]:
        """Every image key of a batch, sorted. Unless `fresh`, a scan made in the last
        SCAN_REUSE_SECONDS is reused (for the later pages of one listing)."""
        now = time.monotonic()
        recent = self._scans.get(batch)
        if not fresh and recent is not None and now - recent[0] < SCAN_REUSE_SECONDS:
            return recent[1]
        keys = self._scan_now(batch)
        self._scans = {batch: (now, keys)}  # one batch at a time: bounded memory
        return keys

    def _scan_now(self, batch: str) -> list[str]:
        """Every image key of a batch, sorted (the top level is not searched recursively).

        os.walk does not follow links to folders, so only file links need resolving."""
        self._require_root()
        if batch == ROOT_BATCH:
            with os.scandir(self.root) as entries:
                found = [
                    entry.name
                    for entry in entries
                    if is_image_name(entry.name) and entry.is_file() and self._inside(Path(entry))
                ]
            return sorted(found)
        if not is_valid_key(f"{batch}/x.jpg") or "/" in batch:
            return []
        folder = self.root / batch
        if not folder.is_dir() or not self._inside(folder):
            return []
        found = []
        for directory, subdirs, files in os.walk(folder):
            subdirs[:] = [name for name in subdirs if not name.startswith(".")]
            for name in files:
                if not is_image_name(name):
                    continue
                path = Path(directory) / name
                if not os.path.islink(path) or self._inside(path):
                    found.append(path.relative_to(self.root).as_posix())
        return sorted(found)

    def list_keys(self, batch: str, after: str | None, limit: int, prefix: str = "") -> KeyPage:
        """A page of the batch's keys. The first page scans the folder; the pages after it
        reuse that scan for a moment (callers cache the pages)."""
        keys = self._scan(batch, fresh=after is None)
        if prefix:
            start = batch_prefix(batch) + prefix
            keys = [key for key in keys if key.startswith(start)]
        return page_of(keys, after, limit)

    def path_of(self, key: str) -> Path:
        """The file for a key, refusing anything that is not an image file inside the root."""
        # os.path on strings: pathlib's resolve() cost more than the header read it guards.
        try:
            real = os.path.realpath(os.path.join(self._root_text, key)) if is_valid_key(key) else ""
        except (OSError, ValueError):
            real = ""
        if not real.startswith(self._root_prefix) or not os.path.isfile(real):
            raise ImageNotFound(f"no image {key!r} in {self.description}")
        return Path(real)

    def stat(self, key: str) -> ObjectMeta:
        """Size and modification time."""
        stat = self.path_of(key).stat()
        return ObjectMeta(stat.st_size, str(stat.st_mtime_ns))

    def read(self, key: str) -> bytes:
        """The file's bytes."""
        return self.path_of(key).read_bytes()

    def read_head(self, key: str, size: int) -> bytes:
        """The file's first bytes."""
        with self.path_of(key).open("rb") as file:
            return file.read(size)

    def read_head_meta(self, key: str, size: int) -> tuple[bytes, ObjectMeta]:
        """The file's first bytes, and its size and modification time, from one open."""
        with self.path_of(key).open("rb") as file:
            stat = os.fstat(file.fileno())
            return file.read(size), ObjectMeta(stat.st_size, str(stat.st_mtime_ns))

    def presigned_url(self, key: str, expires: int) -> str | None:
        """Local files are only served through the app."""
        return None
