"""The Suggest controls under the figure, the suggestions' list rows and their outlines.

Suggestions are drawn as extra scatter traces (dashed outlines in the label's colour, with
'label 0.87' inside the top-left corner), not as layout shapes: plotly reports every shape
in relayoutData after a draw or an erase and indexes edits by position, so suggestion shapes
would have to be filtered out of every event and could be erased or dragged like a drawn
one. Traces are none of that: the shapes list, its indices and the eraser stay the
labeler's alone, and a trace cannot be selected, moved or erased.
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.plot_text import plot_text, template_text
from domain.labels import Label, color_of
from domain.suggestions import Suggestion, SuggestionsState

KEY_HINT = "Key s: the model's shapes on this image, to accept or reject"
MIN_SCORE_DEFAULT = 0.5
MIN_SCORE_FLOOR = 0.35  # workflows.suggest.SUGGEST_MIN_SCORE: nothing lower is found
CIRCLE_POINTS = 48


def suggestions_panel() -> html.Div:
    """Suggest, Accept / Reject all shown, the min-score slider and the list (above the
    labeler's own grid, where accepted ones go); hidden until a callback finds suggestions
    are offered on this project."""
    buttons = html.Div(
        [
            dbc.Button(
                "Suggest",
                id=ids.SUGGEST_BUTTON,
                size="sm",
                color="success",
                title=KEY_HINT,
                className="me-1",
            ),
            dbc.Button(
                "Accept all shown",
                id=ids.SUGGEST_ACCEPT_ALL,
                size="sm",
                color="success",
                outline=True,
                title="Key a",
                className="me-1",
            ),
            dbc.Button(
                "Reject all shown",
                id=ids.SUGGEST_REJECT_ALL,
                size="sm",
                color="secondary",
                outline=True,
                className="me-2",
            ),
            html.Span("Min score", className="small me-1"),
            html.Div(
                dcc.Slider(
                    id=ids.SUGGEST_MIN_SCORE,
                    min=MIN_SCORE_FLOOR,
                    max=1.0,
                    step=0.05,
                    value=MIN_SCORE_DEFAULT,
                    marks={v: f"{v:g}" for v in (MIN_SCORE_FLOOR, 0.5, 0.75, 1.0)},
                    allow_direct_input=False,
                    persistence=True,
                    persistence_type="local",
                ),
                className="flex-grow-1 pt-3",
                style={"minWidth": "10rem"},
            ),
        ],
        className="d-flex flex-wrap align-items-center",
    )
    return html.Div(
        [
            dcc.Store(id=ids.SUGGESTIONS),
            html.H6("Suggestions"),
            buttons,
            html.Div(id=ids.SUGGEST_STATUS, className="small text-muted"),
            html.Div(id=ids.SUGGEST_NOTE, className="small text-muted"),
            html.Div(id=ids.SUGGEST_LIST, className="suggest-list"),
        ],
        id=ids.SUGGEST_PANEL,
        hidden=True,
        className="mb-2 pb-2 border-bottom",
    )


def suggestion_rows(items: tuple[Suggestion, ...], labels: tuple[Label, ...]) -> object:
    """One row per suggestion shown: swatch, label, score, kind, Accept and Reject."""
    if not items:
        return []
    rows = [
        html.Tr(
            [
                html.Td(
                    html.Span(
                        className="suggest-swatch",
                        style={"borderColor": color_of(s.label, labels)},
                    )
                ),
                html.Td(s.label, className="fw-semibold suggest-label"),
                html.Td(f"{s.score:.2f}", className="suggest-score"),
                html.Td(s.kind, className="text-muted"),
                html.Td(
                    [
                        dbc.Button(
                            "Accept",
                            id={"type": ids.SUGGEST_ACCEPT, "index": s.id},
                            size="sm",
                            color="success",
                            outline=True,
                            className="py-0 me-1",
                        ),
                        dbc.Button(
                            "Reject",
                            id={"type": ids.SUGGEST_REJECT, "index": s.id},
                            size="sm",
                            color="secondary",
                            outline=True,
                            className="py-0",
                        ),
                    ],
                    className="text-end",
                ),
            ],
            className="suggestion-row",
        )
        for s in items
    ]
    return html.Table(html.Tbody(rows), className="table table-sm align-middle mb-0")


def status_text(state: SuggestionsState, shown: int, min_score: float) -> str:
    """'3 suggestions by nanodet g-416-… (2 at ≥ 0.50) · found now in 64 ms'."""
    if state.image_key is None:
        return ""
    if not state.items:
        return f"No suggestions (left) from {state.detector} on this image."
    when = "found now" if state.origin == "detected" else "found earlier"
    total = len(state.items)
    return (
        f"{total} suggestion{'s' * (total != 1)} by {state.detector} ({shown} at ≥ "
        f"{min_score:.2f}) · {when} in {state.seconds * 1000:.0f} ms"
    )


def outline(suggestion: Suggestion) -> tuple[list[float], list[float]]:
    """The suggestion's outline as x and y lists in image pixels (closed shapes closed)."""
    kind = suggestion.kind
    if kind in ("polygon", "path"):
        points = list(suggestion.points)
        if kind == "polygon" and points:
            points.append(points[0])
        return [p[0] for p in points], [p[1] for p in points]
    x0, y0, x1, y1 = suggestion.coords
    if kind == "line":
        return [x0, x1], [y0, y1]
    if kind == "circle":
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        # start at the top-left of the circle so the caption sits like a box's
        angles = [
            math.pi * 1.25 + 2 * math.pi * n / CIRCLE_POINTS for n in range(CIRCLE_POINTS + 1)
        ]
        return (
            [round(cx + rx * math.cos(a), 2) for a in angles],
            [round(cy + ry * math.sin(a), 2) for a in angles],
        )
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def suggestion_traces(
    items: tuple[Suggestion, ...], labels: tuple[Label, ...]
) -> list[dict[str, Any]]:
    """A dashed outline trace per suggestion, captioned 'label 0.87'; `customdata` is the
    suggestion's id."""
    traces = []
    for s in items:
        xs, ys = outline(s)
        color = color_of(s.label, labels)
        caption = plot_text(s.caption)  # Plotly renders HTML in names, texts and hovers
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+text",
                "x": xs,
                "y": ys,
                "name": f"suggestion {caption}",
                "line": {"color": color, "width": 2, "dash": "dash"},
                "text": [caption] + [""] * (len(xs) - 1),
                "textposition": "bottom right",
                "textfont": {"color": color, "size": 13, "weight": "bold"},
                "hovertemplate": f"suggested {template_text(s.caption)}<extra></extra>",
                "customdata": [s.id] * len(xs),
                "showlegend": False,
            }
        )
    return traces
