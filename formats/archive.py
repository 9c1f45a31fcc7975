"""Zip archives in memory: the container of the VOC, YOLO and LabelMe formats."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

from formats.model import FormatError

MAX_MEMBERS = 1_000_000
MAX_UNPACKED_BYTES = 2_000_000_000  # refuse zip bombs rather than fill memory


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


def unzip(data: bytes, filename: str = "upload") -> dict[str, bytes]:
    """The files of a zip (folders and macOS '__MACOSX' debris left out), name -> content."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FormatError(f"{filename}: not a zip archive") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise FormatError(f"{filename}: more than {MAX_MEMBERS:,} files in the archive")
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise FormatError(f"{filename}: the archive unpacks to more than 2 GB")
        files: dict[str, bytes] = {}
        for info in infos:
            parts = PurePosixPath(info.filename).parts
            if "__MACOSX" in parts or parts[-1].startswith("."):
                continue
            try:
                files[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise FormatError(
                    f"{filename}: {info.filename} cannot be unpacked: {exc}"
                ) from None
    return files
