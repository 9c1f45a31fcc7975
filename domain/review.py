"""Review of an image into gold: its review status, comments and rework requests."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import ReviewError

COMMENT_MAX = 2000  # characters in one comment


class ReviewStatus(StrEnum):
    """A reviewer's verdict on an image: accepted into gold, or sent back for rework."""

    ACCEPTED = "accepted"
    REWORK = "rework"


@dataclass(frozen=True)
class Review:
    """An image's review status, who set it and when."""

    image_key: str
    status: ReviewStatus
    reviewer: str
    at: datetime


@dataclass(frozen=True)
class Comment:
    """One message in an image's comment thread."""

    id: int
    image_key: str
    author: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Rework:
    """A request that one annotator redo an image; open until they finish it again."""

    image_key: str
    annotator: str
    requested_by: str
    requested_at: datetime
    comment: str
    done_at: datetime | None

    @property
    def open(self) -> bool:
        """True until the annotator has finished the image again."""
        return self.done_at is None


def clean_comment(raw: object, required: bool = False) -> str:
    """A comment's text: trimmed, control characters but newlines and tabs removed; raises
    ReviewError when too long, or empty while `required`."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ReviewError("a comment must be text")
    text = "".join(
        c for c in raw if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf")
    ).strip()
    if len(text) > COMMENT_MAX:
        raise ReviewError(f"a comment has at most {COMMENT_MAX} characters ({len(text)} given)")
    if required and not text:
        raise ReviewError("say what needs to be redone: the comment is empty")
    return text
