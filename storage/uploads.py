"""Images uploaded from the browser into a project's source, checked on arrival.

A local folder receives the file through the app: streamed to a hidden temporary file in
the batch's folder, checked (a real image by its header, within the pixel and byte limits),
then linked into place, which never replaces a file. An S3 source receives it straight
from the browser through a presigned POST whose policy fixes the key, the size range and an
image type; when the browser says it is done, each object's first bytes are read, and one
that is not an image or has too many pixels is deleted.
"""

from __future__ import annotations

import io
import os
import posixpath
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image

from domain.uploads import REFUSE, free_name, size_text
from storage.errors import ImageNotFound, StorageError
from storage.images import ImageSource, LocalFolderSource, is_valid_key
from storage.s3_source import MISSING_KEY, S3Source

HEAD_BYTES = 128 * 1024  # the header (and EXIF block) of nearly every image
CHUNK = 1024 * 1024
PRESIGN_SECONDS = 30 * 60  # a presigned POST must be used within this time
MARKER = "concord-upload"  # the S3 metadata naming the upload an object came with
# What Pillow calls the formats of the extensions uploads take (MPO: a camera's JPEG).
FORMATS = frozenset({"JPEG", "MPO", "PNG", "TIFF", "BMP", "WEBP", "GIF"})


@dataclass(frozen=True)
class Arrival:
    """What became of one uploaded file: stored under `key`, or refused with a reason and
    an HTTP status."""

    key: str
    problem: str = ""
    status: int = 200
    size: tuple[int, int] = (0, 0)

    @property
    def ok(self) -> bool:
        """True when the image is stored."""
        return not self.problem

    def as_json(self, name: str = "") -> dict[str, object]:
        """The browser's view of it."""
        found: dict[str, object] = {"key": self.key, "ok": self.ok}
        if name:
            found["name"] = name
        if self.problem:
            found["problem"] = self.problem
        else:
            found["width"], found["height"] = self.size
        return found


def image_problem(
    data: bytes | IO[bytes], name: str, max_pixels: int
) -> tuple[str | None, tuple[int, int]]:
    """Why a file is not an image Concord takes (None: it is), and its size in pixels, from
    its header alone."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    too_many = f"{name} has too many pixels: the limit is {max_pixels:,} (MAX_IMAGE_PIXELS)."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                found, size = image.format or "", image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return too_many, (0, 0)
    except Exception:  # noqa: BLE001 - any header Pillow cannot parse: not an image
        return f"{name} is not an image: its content is not a picture Concord can read.", (0, 0)
    if found not in FORMATS:
        return f"{name} is a {found} file, not one of the image types Concord takes.", size
    if size[0] * size[1] > max_pixels:
        return too_many, size
    return None, size


def _header_unreadable(problem: str | None) -> bool:
    return bool(problem) and "is not an image" in str(problem)


def exists_in(source: ImageSource) -> Callable[[str], bool]:
    """A test of whether a key is already used in the source (for planning)."""
    if isinstance(source, LocalFolderSource):
        root = str(source.root)
        return lambda key: os.path.lexists(os.path.join(root, key))
    if isinstance(source, S3Source):
        return lambda key: _s3_exists(source, key)
    raise StorageError("images cannot be uploaded to this kind of image source")


def _s3_exists(source: S3Source, key: str) -> bool:
    try:
        source.client.head_object(Bucket=source.bucket, Key=source.prefix + key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in MISSING_KEY or status == "404":
            return False
        raise source._explain(exc) from None
    except BotoCoreError as exc:
        raise source._explain(exc) from None
    return True


def presigned_post(
    source: S3Source,
    key: str,
    content_type: str,
    max_bytes: int,
    token: str,
    expires: int = PRESIGN_SECONDS,
) -> dict[str, Any]:
    """The URL and form fields the browser posts one file with: S3 itself refuses another
    key, a size outside 1..max_bytes, a type that is not image/..., or another token."""
    marker = f"x-amz-meta-{MARKER}"
    try:
        post = source.client.generate_presigned_post(
            Bucket=source.bucket,
            Key=source._object_key(key),
            Fields={"Content-Type": content_type, marker: token},
            Conditions=[
                ["starts-with", "$Content-Type", "image/"],
                ["content-length-range", 1, max_bytes],
                {marker: token},
            ],
            ExpiresIn=expires,
        )
    except (ClientError, BotoCoreError) as exc:
        raise source._explain(exc, key) from None
    return {"method": "POST", "url": str(post["url"]), "fields": dict(post["fields"])}


def _inside(root: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(os.path.join(root, ""))


def _folder_for(source: LocalFolderSource, key: str) -> Path:
    """The folder a new key's file goes in (made if need be), inside the source's root."""
    root = str(source.root)
    folder = os.path.join(root, posixpath.dirname(key))
    if not _inside(root, folder):
        raise ImageNotFound(f"{key!r} would leave the image folder")
    os.makedirs(folder, exist_ok=True)
    if not _inside(root, folder):  # a link made meanwhile
        raise ImageNotFound(f"{key!r} would leave the image folder")
    return Path(folder)


def _place(temporary: str, folder: Path, key: str, duplicates: str) -> str | None:
    """Link the checked file in under its key (or the first free name-N when renaming);
    never replaces a file. None: the name is taken and duplicates are refused."""
    name = posixpath.basename(key)
    while True:
        target = folder / name
        try:
            os.link(temporary, target)
            return posixpath.join(posixpath.dirname(key), name)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: a rename is safe enough here
            if not os.path.lexists(target):
                os.rename(temporary, target)
                return posixpath.join(posixpath.dirname(key), name)
        if duplicates == REFUSE:
            return None
        renamed = free_name(posixpath.basename(key), lambda n: os.path.lexists(folder / n))
        if renamed is None:
            return None
        name = renamed


def receive_local(
    source: LocalFolderSource,
    key: str,
    body: IO[bytes],
    length: int,
    max_bytes: int,
    max_pixels: int,
    duplicates: str = REFUSE,
) -> Arrival:
    """Store an upload of `length` bytes read from `body` under `key` once it is checked;
    nothing is left on disk when it is refused."""
    name = posixpath.basename(key)
    if not is_valid_key(key) or key.count("/") > 1:
        return Arrival(key, f"{key[:100]!r} is not a name an image can be stored under.", 400)
    if length <= 0:
        return Arrival(key, f"{name} is empty.", 400)
    if length > max_bytes:
        limit = size_text(max_bytes)
        return Arrival(
            key, f"{name} is {size_text(length)}, over the upload limit of {limit}.", 413
        )
    folder = _folder_for(source, key)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        received = 0
        with os.fdopen(handle, "wb") as out:
            while received < length:
                chunk = body.read(min(CHUNK, length - received))
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
        if received < length:
            return Arrival(key, f"{name} did not arrive whole; try again.", 400)
        with open(temporary, "rb") as file:
            problem, size = image_problem(file, name, max_pixels)
        if problem:
            return Arrival(key, problem, 422)
        placed = _place(temporary, folder, key, duplicates)
        if placed is None:
            where = f"batch {posixpath.dirname(key)!r}" if "/" in key else "the top level"
            return Arrival(key, f"{name} already exists in {where}: not uploaded.", 409)
        return Arrival(placed, size=size)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def check_s3_arrival(
    source: S3Source, key: str, token: str, max_bytes: int, max_pixels: int
) -> Arrival:
    """Check an object the browser posted with this upload's token, by a ranged read of its
    first bytes: one that is too big, not an image or over the pixel limit is deleted. An
    object that did not come with this token is left as it is."""
    name = posixpath.basename(key)
    object_key = source._object_key(key)  # ImageNotFound for a key that is not an image's
    try:
        response = source.client.get_object(
            Bucket=source.bucket, Key=object_key, Range=f"bytes=0-{HEAD_BYTES - 1}"
        )
        head = bytes(response["Body"].read())
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in MISSING_KEY or status == "404":
            return Arrival(key, f"{name} did not arrive in S3.", 404)
        if code == "InvalidRange":  # an empty object
            head, response = b"", source.client.head_object(Bucket=source.bucket, Key=object_key)
        else:
            raise source._explain(exc, key) from None
    except BotoCoreError as exc:
        raise source._explain(exc, key) from None
    metadata = {k.lower(): v for k, v in (response.get("Metadata") or {}).items()}
    if metadata.get(MARKER) != token:
        return Arrival(key, f"{name} was not sent with this upload: left as it is.", 409)
    total_text = str(response.get("ContentRange", "")).rpartition("/")[2]
    total = int(total_text) if total_text.isdigit() else int(response.get("ContentLength", 0))
    if total > max_bytes:
        limit = size_text(max_bytes)
        too_big = f"{name} is {size_text(total)}, over the upload limit of {limit}."
        return _delete(source, key, object_key, too_big, 413)
    if total == 0:
        return _delete(source, key, object_key, f"{name} is empty.", 400)
    problem, size = image_problem(head, name, max_pixels)
    if _header_unreadable(problem) and total > len(head):  # a header longer than the head
        problem, size = image_problem(source.read(key), name, max_pixels)
    if problem:
        return _delete(source, key, object_key, problem, 422)
    return Arrival(key, size=size)


def _delete(source: S3Source, key: str, object_key: str, problem: str, status: int) -> Arrival:
    try:
        source.client.delete_object(Bucket=source.bucket, Key=object_key)
    except (ClientError, BotoCoreError) as exc:
        raise source._explain(exc, key) from None
    return Arrival(key, f"{problem} It was removed.", status)
