"""The message banner's (children, is_open, color) triple."""

from __future__ import annotations

from collections.abc import Iterable

from dash import Output, no_update

from components import ids

# The banner's outputs for callbacks that report beside their own result.
MESSAGE_OUTPUTS = [
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "is_open", allow_duplicate=True),
    Output(ids.MESSAGE, "color", allow_duplicate=True),
]


def message(texts: Iterable[str] | str | None, color: str = "danger") -> tuple[object, ...]:
    """Show texts in the banner, or leave it as it is when there are none."""
    if isinstance(texts, str):
        texts = [texts]
    items = [t for t in (texts or []) if t]
    if not items:
        return no_update, no_update, no_update
    return "; ".join(items), True, color
