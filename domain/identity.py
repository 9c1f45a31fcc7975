"""Annotator names: the identity every annotation and status carries."""

from __future__ import annotations

from domain.errors import AnnotatorNameError

MAX_NAME_LENGTH = 64


def clean_annotator_name(raw: object) -> str:
    """Strip and check a typed name; raise AnnotatorNameError saying why it is unusable."""
    name = " ".join(str(raw or "").split())
    if not name:
        raise AnnotatorNameError(
            "Enter your name (or initials) so your annotations are attributed to you."
        )
    if len(name) > MAX_NAME_LENGTH:
        raise AnnotatorNameError(f"Names are at most {MAX_NAME_LENGTH} characters.")
    return name
