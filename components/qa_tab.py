"""The Label QA tab: every shape with one label as crops, to relabel or delete in bulk."""

from __future__ import annotations

from dash import html

from domain.accounts import Viewer
from domain.labels import Label


def qa_tab(viewer: Viewer, labels: tuple[Label, ...]) -> html.Div:
    """The QA grid's controls and an empty page of crops (callbacks fill it)."""
    return html.Div("Label QA", className="text-muted")
