"""The annotation figure: the image by URL as a layout image, shapes in original pixels.

Labels and messages (which may name a file) go in through components.plot_text: Plotly
would render HTML in them.
"""

from __future__ import annotations

from typing import Any

from components.plot_text import plot_text
from domain.annotation import Annotation
from domain.geometry import format_path
from domain.labels import Label, color_of

DRAW_TOOLS = ["drawrect", "drawclosedpath", "drawcircle", "drawline", "drawopenpath", "eraseshape"]
GRAPH_CONFIG: dict[str, Any] = {
    "modeBarButtonsToAdd": DRAW_TOOLS,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "scrollZoom": True,
    "displaylogo": False,
    "displayModeBar": True,
}
# Room for the axes' pixel labels (each figure gets its own copy: callers may change it).
MARGIN: dict[str, int] = {"l": 45, "r": 10, "t": 10, "b": 30}
BACKGROUND = "#eef0f2"
# What the graph shows until the first image arrives: a plain area, no axes to lay out.
WAITING_FIGURE: dict[str, Any] = {
    "data": [],
    "layout": {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "margin": dict(MARGIN),
        "plot_bgcolor": BACKGROUND,
    },
}
SELECTED_WIDTH = 4
NORMAL_WIDTH = 2


def rgba(hex_color: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)'."""
    value = hex_color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def shape_of(record: Annotation, color: str, selected: bool = False) -> dict[str, Any]:
    """The plotly shape for a record; `name` carries the id so relayout events map back."""
    closed = record.kind in ("rect", "circle", "polygon")
    shape: dict[str, Any] = {
        "type": "path" if record.kind in ("polygon", "path") else record.kind,
        "xref": "x",
        "yref": "y",
        "name": record.id,
        "editable": True,
        "layer": "above",
        "line": {
            "color": color,
            "width": SELECTED_WIDTH if selected else NORMAL_WIDTH,
            "dash": "dash" if selected else "solid",
        },
        "fillcolor": rgba(color, 0.35 if selected else 0.15) if closed else "rgba(0,0,0,0)",
        "label": {
            "text": plot_text(record.label),
            "font": {"color": color, "size": 13},
            "textposition": "start" if record.kind == "line" else "top left",
        },
    }
    if record.kind in ("polygon", "path"):
        shape["path"] = format_path(record.points, closed=record.kind == "polygon")
    else:
        shape.update(zip(("x0", "y0", "x1", "y1"), record.coords))
    return shape


def shapes_of(
    records: tuple[Annotation, ...], labels: tuple[Label, ...], selected: set[str]
) -> list[dict[str, Any]]:
    """Shapes for records, in record order (the order relayout indices refer to)."""
    return [shape_of(r, color_of(r.label, labels), r.id in selected) for r in records]


def newshape_for(label: str, labels: tuple[Label, ...]) -> dict[str, Any]:
    """Style of the next drawn shape: the selected label's colour and name."""
    color = color_of(label, labels)
    return {
        "line": {"color": color, "width": NORMAL_WIDTH},
        "fillcolor": rgba(color, 0.15),
        "opacity": 1,
        "layer": "above",
        "label": {"text": plot_text(label), "font": {"color": color, "size": 13}},
    }


def image_figure(
    key: str,
    url: str | None,
    width: int,
    height: int,
    shapes: list[dict[str, Any]],
    newshape: dict[str, Any],
    message: str | None = None,
) -> dict[str, Any]:
    """A figure showing the image by URL, axes in original pixels (y down).

    An invisible two-point trace creates the cartesian subplot; no pixels are embedded.
    """
    layout: dict[str, Any] = {
        "xaxis": {
            "range": [0, width],
            "showgrid": False,
            "zeroline": False,
            "constrain": "domain",
            "ticks": "outside",
            "ticklabeloverflow": "allow",  # no measuring every label on each draw (issue 17)
        },
        "yaxis": {
            "range": [height, 0],
            "showgrid": False,
            "zeroline": False,
            "scaleanchor": "x",
            "constrain": "domain",
            "ticks": "outside",
            "ticklabeloverflow": "allow",
        },
        "margin": dict(MARGIN),
        "plot_bgcolor": BACKGROUND,
        "dragmode": "drawrect",
        "newshape": newshape,
        "shapes": shapes,
        "uirevision": key,  # zoom and pan survive every update of the same image
        "showlegend": False,
    }
    if url:
        layout["images"] = [
            {
                "source": url,
                "xref": "x",
                "yref": "y",
                "x": 0,
                "y": 0,
                "sizex": width,
                "sizey": height,
                "sizing": "stretch",
                "xanchor": "left",
                "yanchor": "top",
                "layer": "below",
            }
        ]
    if message:
        layout["annotations"] = [
            {
                "text": plot_text(message),
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 16, "color": "#842029"},
            }
        ]
    return {"data": [base_trace(width, height)], "layout": layout}


def base_trace(width: int, height: int) -> dict[str, Any]:
    """The invisible two-point trace that makes the cartesian subplot (always data[0])."""
    return {
        "type": "scatter",
        "x": [0, width],
        "y": [0, height],
        "mode": "markers",
        "marker": {"opacity": 0},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def legend_entry(name: str, color: str, dash: str) -> dict[str, Any]:
    """An empty line trace: a legend key naming whose shapes are drawn in this colour and
    dash (layout shapes have no legend of their own)."""
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "lines",
        "name": plot_text(name),
        "line": {"color": color, "dash": dash, "width": 2},
        "hoverinfo": "skip",
    }
