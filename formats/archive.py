"""Zip archives in memory: the container of the VOC, YOLO and LabelMe formats."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

from formats.model import FormatError

# What real annotation archives need (VOC XML, YOLO txt, LabelMe JSON): the labels of
# COCO's 118k training images are 118k files and about 35 MB as YOLO txt, some 200 MB as
# VOC XML; a LabelMe JSON embedding its image is a few MB. Larger archives are refused
# before anything is unpacked (a 400 kB zip bomb used to unpack to 400 MB). Each entry
# costs about 600 bytes to list, so the count is capped too.
MAX_MEMBERS = 150_000
MAX_UNPACKED_BYTES = 512_000_000
MAX_MEMBER_BYTES = 128_000_000
# Annotation text deflates about 3:1 to 10:1; a member that claims more than 100:1 is a
# bomb (deflate reaches 1000:1 on repeated bytes). Small members are let through whatever
# their ratio: they cost nothing.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1_000_000
CHUNK = 1 << 20
CENTRAL_ENTRY = b"PK\x01\x02"  # the signature of each entry of a zip's directory


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """A deflated zip holding `files` (name -> content), names in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def is_zip(data: bytes) -> bool:
    """True when the bytes start like a zip archive."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def unzip(data: bytes, filename: str = "upload", *, capped: bool = True) -> dict[str, bytes]:
    """The files of a zip (folders and macOS '__MACOSX' debris left out), name -> content.

    The sizes the archive states are checked against the caps before anything is
    unpacked (unless `capped` is False: for zips the app wrote itself), and each member
    is read in chunks that may not go past its stated size."""
    if capped:
        # zipfile builds an object per directory entry (some 400 bytes) before any check
        # can run: count the entries' signatures first. Folders and macOS debris are
        # entries too, hence the slack; the exact count is checked after.
        entries = data.count(CENTRAL_ENTRY)
        if entries > 2 * MAX_MEMBERS + 1000:
            raise FormatError(_too_many(filename, entries))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FormatError(f"{filename}: not a zip archive") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and _wanted(i.filename)]
        if capped:
            _check_sizes(infos, filename)
        files: dict[str, bytes] = {}
        for info in infos:
            try:
                files[info.filename] = _read_member(archive, info)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                raise FormatError(
                    f"{filename}: {info.filename} cannot be unpacked: {exc}"
                ) from None
    return files


def _wanted(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and "__MACOSX" not in parts and not parts[-1].startswith(".")


def _check_sizes(infos: list[zipfile.ZipInfo], filename: str) -> None:
    """Refuse an archive whose stated sizes break a cap, naming the cap."""
    if len(infos) > MAX_MEMBERS:
        raise FormatError(_too_many(filename, len(infos)))
    total = 0
    for info in infos:
        size = info.file_size
        if size > RATIO_FROM_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
            raise FormatError(
                f"{filename}: {info.filename} is compressed more than {MAX_RATIO}:1 "
                f"({info.compress_size:,} bytes unpack to {size:,}): refused as a zip bomb"
            )
        if size > MAX_MEMBER_BYTES:
            raise FormatError(
                f"{filename}: {info.filename} unpacks to {size:,} bytes; "
                f"one file may have at most {MAX_MEMBER_BYTES:,}"
            )
        total += size
    if total > MAX_UNPACKED_BYTES:
        raise FormatError(
            f"{filename}: the archive unpacks to {total:,} bytes; "
            f"an import may unpack to at most {MAX_UNPACKED_BYTES:,}"
        )


def _too_many(filename: str, count: int) -> str:
    return (
        f"{filename}: {count:,} files in the archive; "
        f"at most {MAX_MEMBERS:,} may be imported at once"
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, read in chunks; more bytes than its stated size is an error
    (zipfile also stops there, and checks the CRC at the end)."""
    out = io.BytesIO()
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            out.write(chunk)
            if out.tell() > info.file_size:
                raise ValueError(f"more than the {info.file_size:,} bytes the archive states")
    return out.getvalue()
