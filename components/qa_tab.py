"""The Label QA tab: every shape with one label as crops, to relabel or delete in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from domain.accounts import Role, Viewer
from domain.annotation import Annotation
from domain.labels import Label

PAGE_SIZE = 48  # crops per page
CARD_PX = 150  # a card's crop area, CSS pixels
CARD_CLASS = "qa-card card p-1 border"
SELECTED_CLASS = "qa-card card p-1 border border-3 border-primary shadow"
Region = tuple[int, int, int, int]


def qa_tab(viewer: Viewer, labels: tuple[Label, ...]) -> html.Div:
    """The QA grid's controls and an empty page of crops (callbacks fill it when the tab
    opens: nothing here asks the server at page load)."""
    reviewer = viewer.may(Role.REVIEWER)
    names = [{"label": item.name, "value": item.name} for item in labels]
    who_hint = "Whose shapes" if reviewer else "Your own shapes"
    controls = dbc.Row(
        [
            dbc.Col(_field("Label", dcc.Dropdown(id=ids.QA_LABEL, clearable=False)), md=3),
            dbc.Col(
                _field(who_hint, dcc.Dropdown(id=ids.QA_WHO, clearable=False, disabled=True)),
                md=3,
            ),
            dbc.Col(_field("Batch", dcc.Dropdown(id=ids.QA_BATCH, clearable=False)), md=3),
        ],
        className="g-2 mb-2",
    )
    actions = html.Div(
        [
            dbc.Button(
                "Select all on this page",
                id=ids.QA_SELECT_PAGE,
                size="sm",
                outline=True,
                color="primary",
            ),
            dbc.Button("Clear", id=ids.QA_CLEAR, size="sm", outline=True, color="secondary"),
            html.Span("None selected", id=ids.QA_COUNT, className="text-muted small mx-2"),
            html.Span("Relabel to", className="small ms-3 me-1"),
            dcc.Dropdown(
                id=ids.QA_NEW_LABEL,
                options=names,
                clearable=False,
                style={"width": "12rem"},
            ),
            dbc.Button("Relabel", id=ids.QA_RELABEL, size="sm", disabled=True, className="ms-1"),
            dbc.Button(
                "Delete selected",
                id=ids.QA_DELETE,
                size="sm",
                color="danger",
                outline=True,
                disabled=True,
                className="ms-3",
            ),
        ],
        className="d-flex align-items-center flex-wrap gap-1 mb-2",
    )
    pager = html.Div(
        [
            dbc.Button("Previous", id=ids.QA_PREV, size="sm", outline=True, disabled=True),
            html.Span(id=ids.QA_PAGE_TEXT, className="mx-2 small"),
            dbc.Button("Next", id=ids.QA_NEXT, size="sm", outline=True, disabled=True),
        ],
        className="d-flex align-items-center my-2",
    )
    grid_style = {
        "display": "grid",
        "gridTemplateColumns": f"repeat(auto-fill, minmax({CARD_PX + 12}px, 1fr))",
        "gap": "6px",
    }
    return html.Div(
        [
            controls,
            actions,
            dbc.Alert(id=ids.QA_MESSAGE, is_open=False, dismissable=True, className="py-2"),
            pager,
            html.Div(id=ids.QA_GRID, style=grid_style),
            dcc.Store(id=ids.QA_OFFSET, data=0),
            dcc.Store(id=ids.QA_SHOWN),
            dcc.Store(id=ids.QA_SELECTED),
        ],
        className="p-2",
    )


def _field(title: str, control: object) -> html.Div:
    return html.Div([html.Small(title, className="text-muted"), control])


def crop_url(
    key: str, box: tuple[float, float, float, float], version: str, project_query: str = ""
) -> str:
    """The crop route's URL for a shape's box on an image (the version lets browsers cache)."""
    x0, y0, x1, y1 = box
    box_text = f"{x0:.1f},{y0:.1f},{x1:.1f},{y1:.1f}"
    return f"/crops/{quote(key)}?box={box_text}&v={quote(version)}{project_query}"


def outline_svg(shape: Annotation, region: Region, color: str) -> str:
    """A data: URI of an SVG drawing the shape's outline over its crop (the crop's region,
    in original pixels, is the SVG's view box)."""
    left, top, right, bottom = region
    stroke = f'fill="none" stroke="{color}" stroke-width="2" vector-effect="non-scaling-stroke"'
    if shape.kind in ("rect", "circle", "line") and len(shape.coords) == 4:
        x0, y0, x1, y1 = shape.coords
        if shape.kind == "line":
            body = f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" {stroke}/>'
        elif shape.kind == "circle":
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
            body = f'<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" {stroke}/>'
        else:
            x, y, w, h = min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)
            body = f'<rect x="{x}" y="{y}" width="{w}" height="{h}" {stroke}/>'
    else:
        points = " ".join(f"{x},{y}" for x, y in shape.points)
        tag = "polygon" if shape.kind == "polygon" else "polyline"
        body = f'<{tag} points="{points}" {stroke}/>'
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none" '
        f'viewBox="{left} {top} {max(right - left, 1)} {max(bottom - top, 1)}">{body}</svg>'
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def crop_card(
    shape: Annotation, color: str, url: str | None, region: Region | None, problem: str = ""
) -> html.Div:
    """One shape's card: its crop with the outline over it (or why there is none), the
    annotator's name and the image's name. A click selects it (clientside)."""
    if url is None or region is None:
        picture: object = html.Div(
            problem or "image unavailable", className="small text-danger text-center"
        )
    else:
        left, top, right, bottom = region
        wide = (right - left) >= (bottom - top)
        frame = {
            "position": "relative",
            "aspectRatio": f"{max(right - left, 1)} / {max(bottom - top, 1)}",
            "width": "100%" if wide else "auto",
            "height": "auto" if wide else "100%",
            "maxWidth": "100%",
            "maxHeight": "100%",
        }
        fill = {"position": "absolute", "inset": "0", "width": "100%", "height": "100%"}
        picture = html.Div(
            [
                html.Img(src=url, alt=shape.label, className="qa-crop", style=fill),
                html.Img(src=outline_svg(shape, region, color), alt="", style=fill),
            ],
            style=frame,
        )
    name = shape.image_key.rsplit("/", 1)[-1]
    return html.Div(
        [
            html.Div(
                picture,
                style={
                    "height": f"{CARD_PX}px",
                    "display": "flex",
                    "alignItems": "center",
                    "justifyContent": "center",
                    "background": "#f4f4f4",
                },
            ),
            html.Div(shape.annotator, className="qa-who small text-truncate fw-semibold"),
            html.Div(
                name, className="qa-image small text-truncate text-muted", title=shape.image_key
            ),
        ],
        id={"type": ids.QA_CARD, "index": shape.id},
        n_clicks=0,
        className=CARD_CLASS,
        title=f"{shape.label} by {shape.annotator} on {shape.image_key}",
        style={"cursor": "pointer", "userSelect": "none"},
    )


def page_text(total: int, offset: int, shown: int, label: str) -> str:
    """'1-48 of 120 shapes labelled cat' (or that there are none)."""
    if total == 0:
        return f"No shapes labelled {label} here."
    return f"{offset + 1}-{offset + shown} of {total} shapes labelled {label}"


def option_list(values: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Dropdown options from (value, label) pairs."""
    return [{"label": label, "value": value} for value, label in values]
