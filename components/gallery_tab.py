"""The Gallery tab: thumbnails of the batch with shapes over them, filters, paging."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.upload_card import upload_card
from domain.accounts import Role, Viewer
from domain.annotation import Annotation
from domain.gallery_filter import STATUSES
from domain.labels import Label, color_of
from domain.uploads import may_upload

_HIDDEN = {"display": "none"}
# Inline styles (no CSS file to keep in step): a grid of square cells, the shapes' SVG laid
# exactly over the thumbnail (both fit the cell the same way).
GRID_STYLE = {
    "display": "grid",
    "gridTemplateColumns": "repeat(auto-fill, minmax(150px, 1fr))",
    "gap": "0.5rem",
}
_PICTURE = {"position": "relative", "aspectRatio": "1 / 1", "background": "#f1f3f5"}
_LAYER = {
    "position": "absolute",
    "inset": "0",
    "width": "100%",
    "height": "100%",
    "objectFit": "contain",
}


def _field(label: str, control: object, hidden: bool = False, width: str = "10rem") -> html.Div:
    return html.Div(
        [html.Label(label, className="small text-muted d-block mb-0"), control],
        style={"minWidth": width, **(_HIDDEN if hidden else {})},
        className="me-2 mb-1",
    )


def _number(component_id: str, placeholder: str) -> dbc.Input:
    return dbc.Input(
        id=component_id, type="number", min=0, max=1, step=0.05, size="sm",
        placeholder=placeholder, debounce=True,
    )  # fmt: skip


def gallery_tab(
    viewer: Viewer, project_slug: str = "default", members_upload: bool = False
) -> html.Div:
    """The gallery's controls and an empty grid of thumbnails (callbacks fill it). Filters
    over other people's work are laid out for everyone but shown to reviewers only (the
    server ignores them for annotators anyway). The upload card is for those who may."""
    annotator = not viewer.may(Role.REVIEWER)
    status = [{"label": "Any status", "value": ""}] + [
        {"label": text, "value": value} for value, text in STATUSES.items()
    ]
    controls = html.Div(
        [
            _field("Batch", dcc.Dropdown(id=ids.GALLERY_BATCH, options=[], clearable=False)),
            _field(
                "Status",
                dcc.Dropdown(id=ids.GALLERY_STATUS, options=status, value="", clearable=False),
            ),
            _field("Label present", dcc.Dropdown(id=ids.GALLERY_LABEL, options=[])),
            _field("Annotator", dcc.Dropdown(id=ids.GALLERY_ANNOTATOR, options=[]), annotator),
            _field(
                "Finished by (people)",
                dbc.Input(
                    id=ids.GALLERY_FINISHED,
                    type="number",
                    min=0,
                    step=1,
                    size="sm",
                    debounce=True,
                ),  # fmt: skip
                annotator,
                "8rem",
            ),
            _field(
                "Disagreement above",
                _number(ids.GALLERY_DISAGREEMENT, "0 to 1"),
                annotator,
                "8rem",
            ),
            _field("Model score below", _number(ids.GALLERY_SCORE, "0 to 1"), width="8rem"),
            _field(
                "Name contains",
                dbc.Input(id=ids.GALLERY_NAME, size="sm", debounce=True, maxLength=200),
            ),
            _field(
                "Shapes of",
                dcc.Dropdown(
                    id=ids.GALLERY_SHOW,
                    options=[],
                    clearable=True,
                    placeholder="Everyone or the annotator",
                ),
                annotator,
            ),
            html.Div(
                dbc.Button("Apply", id=ids.GALLERY_APPLY, size="sm", color="primary"),
                className="align-self-end mb-1",
            ),
        ],
        className="d-flex flex-wrap align-items-start",
    )
    return html.Div(
        [
            dcc.Store(id=ids.GALLERY_ASK),
            dcc.Store(id=ids.GALLERY_ITEMS),
            dcc.Store(id=ids.GALLERY_CLICK),
            upload_card(project_slug, may_upload(viewer.role, members_upload)),
            controls,
            dbc.Alert(id=ids.GALLERY_NOTES, color="warning", is_open=False, className="py-1"),
            html.Div(
                [
                    html.Span(id=ids.GALLERY_SUMMARY, className="me-3 small"),
                    dbc.Pagination(
                        id=ids.GALLERY_PAGES,
                        max_value=1,
                        active_page=1,
                        fully_expanded=False,
                        previous_next=True,
                        first_last=True,
                        size="sm",
                        class_name="mb-0",
                    ),
                ],
                className="d-flex align-items-center flex-wrap my-1",
            ),
            html.Div(id=ids.GALLERY_GRID, className="gallery-grid", style=GRID_STYLE),
        ]
    )


def _svg_shape(shape: Annotation, color: str) -> str:
    stroke = f'stroke="{color}" fill="none" stroke-width="2" vector-effect="non-scaling-stroke"'
    if shape.kind in ("rect", "circle", "line") and len(shape.coords) == 4:
        x0, y0, x1, y1 = shape.coords
        if shape.kind == "line":
            return f'<line x1="{x0:g}" y1="{y0:g}" x2="{x1:g}" y2="{y1:g}" {stroke}/>'
        left, top, width, height = min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)
        if shape.kind == "rect":
            return (
                f'<rect x="{left:g}" y="{top:g}" width="{width:g}" height="{height:g}" {stroke}/>'
            )
        cx, cy = left + width / 2, top + height / 2
        return f'<ellipse cx="{cx:g}" cy="{cy:g}" rx="{width / 2:g}" ry="{height / 2:g}" {stroke}/>'
    if shape.points:
        points = " ".join(f"{x:g},{y:g}" for x, y in shape.points)
        tag = "polygon" if shape.kind == "polygon" else "polyline"
        return f'<{tag} points="{points}" {stroke}/>'
    return ""


def overlay_uri(
    shapes: Sequence[Annotation], size: tuple[int, int], labels: tuple[Label, ...]
) -> str:
    """An SVG data URI drawing the shapes in their labels' colours over an image of `size`
    (original pixels): with the image's viewBox it lines up with the thumbnail."""
    width, height = size
    body = "".join(_svg_shape(s, color_of(s.label, labels)) for s in shapes)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet">{body}</svg>'
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def tile_card(
    position: int,
    name: str,
    thumb: str | None,
    badges: Sequence[tuple[str, str]],
    overlay: str | None,
    problem: str = "",
) -> html.Div:
    """One clickable thumbnail with its shapes, badges and name."""
    picture: list[object] = []
    if thumb:
        picture.append(html.Img(src=thumb, alt=name, className="gallery-thumb", style=_LAYER))
    else:
        picture.append(html.Div(problem, className="small text-danger p-2"))
    if overlay:
        picture.append(html.Img(src=overlay, alt="", className="gallery-overlay", style=_LAYER))
    return html.Div(
        [
            html.Div(picture, className="gallery-picture", style=_PICTURE),
            html.Div(
                [
                    dbc.Badge(text, color=color, className="me-1 gallery-badge")
                    for text, color in badges
                ],
                className="mt-1",
            ),
            html.Div(name, className="small text-truncate gallery-name", title=name),
        ],
        id={"type": ids.GALLERY_TILE, "index": position},
        n_clicks=0,
        className="gallery-tile border rounded p-1",
        style={"cursor": "pointer"},
        title=f"Open {name}",
        role="button",
    )
