"""The Gallery tab: thumbnails of the batch with shapes over them, filters, paging."""

from __future__ import annotations

from dash import html

from domain.accounts import Viewer


def gallery_tab(viewer: Viewer) -> html.Div:
    """The gallery's controls and an empty grid of thumbnails (callbacks fill it)."""
    return html.Div("Gallery", className="text-muted")
