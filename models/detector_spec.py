"""DETECTOR's forms, read without importing any model code (config.py checks it at start).

`none`, `nanodet`, `module.path:factory` (Python identifiers with dots, one colon), or the
http(s):// URL of a Label Studio ML backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit


class DetectorSpecError(ValueError):
    """DETECTOR is not one of the forms Concord knows."""


DEFAULT_DETECTOR = "nanodet"
SPEC_FORMS = "none, nanodet, module.path:factory, or an http(s):// URL of a Label Studio ML backend"
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_FACTORY = re.compile(rf"({_DOTTED}):({_DOTTED})", re.ASCII)

Kind = Literal["none", "nanodet", "factory", "url"]


@dataclass(frozen=True)
class DetectorSpec:
    """DETECTOR read: its kind and, for a factory, the module and attribute path."""

    kind: Kind
    text: str
    module: str = ""
    attribute: str = ""


def parse_detector_spec(spec: str) -> DetectorSpec:
    """What DETECTOR names; DetectorSpecError listing the accepted forms when it is none."""
    text = spec.strip()
    if text.lower() in ("none", "nanodet"):
        kind: Kind = "none" if text.lower() == "none" else "nanodet"
        return DetectorSpec(kind, text.lower())
    if text.lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        if not parts.hostname:
            raise DetectorSpecError(f"{_shown(text)!r} names no host: write http(s)://host:port")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise DetectorSpecError(f"{_shown(text)!r} has a port that is not a number") from None
        return DetectorSpec("url", text)
    match = _FACTORY.fullmatch(text)
    if match is None:
        raise DetectorSpecError(f"{_shown(text)!r} is not a detector: use {SPEC_FORMS}")
    return DetectorSpec("factory", text, match.group(1), match.group(2))


def _shown(text: str) -> str:
    """The spec without a password a URL may carry, for messages."""
    parts = urlsplit(text) if "://" in text else None
    if parts is None or parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
