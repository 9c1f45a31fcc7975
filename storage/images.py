"""Image sources: where the batch's images come from. Keys are '/'-separated relative paths."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Protocol

from storage.errors import ImageNotFound, StorageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"})


class ImageSource(Protocol):
    """A read-only collection of images addressed by key."""

    description: str

    def keys(self) -> list[str]:
        """All image keys, sorted."""
        ...

    def read(self, key: str) -> bytes:
        """The original file's bytes; raises ImageNotFound for an unknown key."""
        ...

    def fingerprint(self, key: str) -> str:
        """A short string that changes whenever the image's content changes."""
        ...


def is_image_name(name: str) -> bool:
    """True for file names with an image extension (hidden files excluded)."""
    return not name.startswith(".") and PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS


class LocalFolderSource:
    """Images in a local folder and its sub-folders."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.description = str(self.root)

    def keys(self) -> list[str]:
        """Image files below the root, as sorted relative POSIX paths."""
        if not self.root.is_dir():
            raise StorageError(f"image folder {self.root} does not exist")
        found = []
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if (
                path.is_file()
                and is_image_name(path.name)
                and path.resolve().is_relative_to(self.root)  # path_of refuses links out
            ):
                found.append(relative.as_posix())
        return sorted(found)

    def path_of(self, key: str) -> Path:
        """The file for a key, refusing anything that is not an image file inside the root."""
        relative = PurePosixPath(key)
        if (
            not key
            or relative.is_absolute()
            or any(part in ("..", "") or part.startswith(".") for part in relative.parts)
            or "\\" in key
            or any(ord(char) < 32 for char in key)
            or not is_image_name(relative.name)
        ):
            raise ImageNotFound(f"no image {key!r} in {self.description}")
        try:
            path = (self.root / relative).resolve()
        except (OSError, ValueError):
            raise ImageNotFound(f"no image {key!r} in {self.description}") from None
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ImageNotFound(f"no image {key!r} in {self.description}")
        return path

    def read(self, key: str) -> bytes:
        """The file's bytes."""
        return self.path_of(key).read_bytes()

    def fingerprint(self, key: str) -> str:
        """Size and modification time, hashed."""
        stat = self.path_of(key).stat()
        raw = f"{key}:{stat.st_size}:{stat.st_mtime_ns}".encode()
        return hashlib.blake2b(raw, digest_size=8).hexdigest()
