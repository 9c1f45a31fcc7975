"""The message banner's (children, is_open, color) triple."""

from __future__ import annotations

from collections.abc import Iterable

from dash import no_update


def message(texts: Iterable[str] | str | None, color: str = "danger") -> tuple[object, ...]:
    """Show texts in the banner, or leave it as it is when there are none."""
    if isinstance(texts, str):
        texts = [texts]
    items = [t for t in (texts or []) if t]
    if not items:
        return no_update, no_update, no_update
    return "; ".join(items), True, color
