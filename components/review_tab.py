"""The Review tab (reviewers): the review queue and the review view of one image."""

from __future__ import annotations

from dash import html

from domain.labels import Label


def review_tab(labels: tuple[Label, ...]) -> html.Div:
    """The queue, the figure with everyone's shapes and gold, the units table."""
    return html.Div("Review", className="text-muted")
