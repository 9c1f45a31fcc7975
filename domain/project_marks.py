"""Which project a value kept in the browser's local storage was made in. The records and
position stores are shared by every project open in the same browser, so each value
carries its project's slug, and a value of another project is never used."""

from __future__ import annotations

from typing import Any

MARK = "project"  # the key naming the project in a stored value


def mark_of(data: Any) -> str | None:
    """The project slug a stored value names (None: unmarked, or not a value at all)."""
    mark = data.get(MARK) if isinstance(data, dict) else None
    return mark if isinstance(mark, str) else None


def made_in(mark: str | None, slug: str, first: bool) -> bool:
    """True when a value marked `mark` belongs to the project `slug` (`first`: it is the
    deployment's first project, where values made before projects, unmarked, belong)."""
    return mark == slug if mark is not None else first
