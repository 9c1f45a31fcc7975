"""The Review tab (reviewers): the review queue and the review view of one image, with the
builders of its figure (everyone's shapes, the detectors' too, gold editable) and of its
grids' rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.figure import GRAPH_CONFIG, image_figure, legend_entry, newshape_for, shape_of
from components.grid import SINGLE_ROW_SELECTION
from domain.annotation import Annotation
from domain.labels import Label, color_of
from domain.review import Comment
from domain.review_actions import ReviewUnit
from domain.sources import GOLD

# each annotator's shapes: a colour and a dash of their own (gold is solid, thick, its
# label's); the first ones are far from the default label colours (domain/labels.py)
PALETTE = ("#9467bd", "#17becf", "#8c564b", "#bcbd22", "#1f77b4", "#ff7f0e", "#2ca02c")
DASHES = ("dot", "dash", "dashdot", "longdash", "longdashdot")
# each detector's (model:<name>) shapes: colours of their own, finely dashed
MODEL_PALETTE = ("#7f7f7f", "#393b79", "#000000", "#8c6d31", "#e377c2")
MODEL_DASH = "3px,2px"
GOLD_WIDTH = 3
NOTHING = "—"


def _button(text: str, component_id: str, color: str = "secondary", **extra: Any) -> dbc.Button:
    extra.setdefault("className", "me-1")
    return dbc.Button(text, id=component_id, size="sm", color=color, outline=True, **extra)


def _queue_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span("Batch: ", className="me-2 fw-semibold"),
                        dcc.Dropdown(
                            id=ids.REVIEW_BATCH,
                            options=[],
                            clearable=False,
                            searchable=True,
                            style={"minWidth": "12rem"},
                        ),
                        _button("Refresh", ids.REVIEW_REFRESH, className="ms-2 me-1"),
                        _button(
                            "Rank by disagreement",
                            ids.REVIEW_RANK,
                            "primary",
                            title="Compute each image's disagreement (1 - mean pairwise F1)",
                        ),
                        html.Span(id=ids.REVIEW_COUNTS, className="ms-3 small"),
                    ],
                    className="d-flex flex-wrap align-items-center gap-1",
                ),
                dbc.Progress(
                    id=ids.REVIEW_RANK_PROGRESS,
                    value=0,
                    className="mt-2",
                    style={"display": "none"},
                ),
                html.Div(id=ids.REVIEW_RANK_STATUS, className="small my-1"),
                dag.AgGrid(
                    id=ids.REVIEW_QUEUE,
                    columnDefs=[
                        {"field": "name", "headerName": "Image", "flex": 2},
                        {"field": "annotators", "headerName": "Finished by", "flex": 2},
                        {"field": "disagreement", "headerName": "Disagreement", "flex": 1},
                        {"field": "note", "headerName": "", "flex": 1},
                        {"field": "key", "hide": True},
                    ],
                    rowData=[],
                    getRowId="params.data.key",
                    defaultColDef={"sortable": False, "suppressMovable": True},
                    dashGridOptions={
                        "rowSelection": {"mode": "singleRow", "checkboxes": False},
                        "localeText": {"noRowsToShow": "No image waits for review"},
                    },
                    style={"height": "22vh"},
                ),
            ]
        ),
        className="mb-2",
    )


def _units_panel(labels: tuple[Label, ...]) -> html.Div:
    return html.Div(
        [
            html.H6("Units: what the annotators drew, object by object"),
            dag.AgGrid(
                id=ids.REVIEW_UNITS,
                columnDefs=unit_columns([], labels),
                rowData=[],
                getRowId="params.data.id",
                defaultColDef={"sortable": False, "suppressMovable": True, "resizable": True},
                dashGridOptions={
                    "rowSelection": SINGLE_ROW_SELECTION,
                    "stopEditingWhenCellsLoseFocus": True,
                    "localeText": {"noRowsToShow": "Nobody drew anything on this image"},
                },
                style={"height": "30vh"},
            ),
            html.Div(
                [
                    _button("Accept consensus", ids.REVIEW_ACCEPT_UNIT, "success"),
                    dcc.Dropdown(
                        id=ids.REVIEW_TAKE_WHO,
                        options=[],
                        placeholder="Whose shape…",
                        clearable=False,
                        searchable=False,
                        style={"minWidth": "9rem"},
                    ),
                    _button("Take shape", ids.REVIEW_TAKE),
                    _button("Drop", ids.REVIEW_DROP, "danger"),
                    _button("Accept all consensus", ids.REVIEW_ACCEPT_ALL, "success"),
                ],
                className="d-flex flex-wrap align-items-center gap-1 mt-2",
            ),
            html.Div(
                [
                    _button("↶ Undo my last gold change", ids.REVIEW_UNDO),
                    html.Span(id=ids.REVIEW_SAVE_STATUS, className="small ms-2"),
                ],
                className="d-flex align-items-center mt-2",
            ),
        ]
    )


def _verdict_panel() -> html.Div:
    return html.Div(
        [
            html.Hr(),
            html.Div(id=ids.REVIEW_STATUS, className="small mb-2"),
            dbc.Button("Accept", id=ids.REVIEW_ACCEPT, color="success", size="sm"),
            dbc.Button(
                "Next in queue ▶", id=ids.REVIEW_NEXT, color="primary", size="sm", className="ms-2"
            ),
            dbc.Textarea(
                id=ids.REVIEW_COMMENT,
                placeholder="Comment (required to send back for rework)",
                maxLength=2000,
                className="mt-2",
                rows=2,
            ),
            html.Div(
                [
                    html.Span("Send back to: ", className="small me-2"),
                    dbc.Checklist(id=ids.REVIEW_REWORK_WHO, options=[], value=[], inline=True),
                ],
                className="d-flex align-items-center mt-1",
            ),
            html.Div(
                [
                    dbc.Button("Needs rework", id=ids.REVIEW_REWORK, color="warning", size="sm"),
                    dbc.Button(
                        "Add comment",
                        id=ids.REVIEW_ADD_COMMENT,
                        color="secondary",
                        outline=True,
                        size="sm",
                        className="ms-2",
                    ),
                ],
                className="mt-1",
            ),
            html.H6("Comments", className="mt-3"),
            html.Div(id=ids.REVIEW_THREAD, className="small"),
        ]
    )


def review_tab(labels: tuple[Label, ...]) -> html.Div:
    """The queue, the figure with everyone's shapes and gold, the units table."""
    view = dbc.Row(
        [
            dbc.Col(
                [
                    html.Div(
                        [
                            html.Span(id=ids.REVIEW_TITLE, className="fw-semibold me-3"),
                            html.Span("Draw gold as: ", className="small me-1"),
                            dcc.Dropdown(
                                id=ids.REVIEW_LABEL,
                                options=[lab.name for lab in labels],
                                value=labels[0].name,
                                clearable=False,
                                style={"minWidth": "9rem"},
                            ),
                        ],
                        className="d-flex align-items-center mb-1",
                    ),
                    dcc.Graph(
                        id=ids.REVIEW_GRAPH,
                        config=GRAPH_CONFIG,
                        style={"height": "62vh"},
                        className="border",
                    ),
                ],
                lg=7,
            ),
            dbc.Col([_units_panel(labels), _verdict_panel()], lg=5),
        ],
        id=ids.REVIEW_VIEW,
        style={"display": "none"},
    )
    return html.Div(
        [
            dcc.Store(id=ids.REVIEW_CHANGED),
            dcc.Store(id=ids.REVIEW_IMAGE),
            dcc.Store(id=ids.REVIEW_GOLD),
            dcc.Store(id=ids.REVIEW_GRAPH_EDIT),
            _queue_card(),
            dbc.Alert(id=ids.REVIEW_MESSAGE, is_open=False, dismissable=True, className="py-2"),
            view,
        ]
    )


# ---- rows and figure


def queue_rows(items: Sequence[Any], prefix: str) -> list[dict[str, Any]]:
    """One row per waiting image (workflows.review_queue.QueueItem)."""
    return [
        {
            "key": item.key,
            "name": item.key.removeprefix(prefix),
            "annotators": ", ".join(item.annotators),
            "disagreement": None if item.disagreement is None else round(item.disagreement, 3),
            "note": "redone after rework" if item.redone else "",
        }
        for item in items
    ]


def unit_columns(
    annotators: Sequence[str], labels: tuple[Label, ...], models: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Unit, consensus, support (the people's), gold (its label editable; early, so it is
    in view), each person's label, then each detector's (fields a0, a1... and m0, m1...: a
    name may hold characters the grid reads as a path)."""
    return [
        {"field": "unit", "headerName": "#", "width": 45, "cellDataType": "text"},
        {"field": "consensus", "headerName": "Consensus", "width": 100},
        {"field": "support", "headerName": "Drawn by", "width": 88},
        {
            "field": "gold",
            "headerName": "Gold",
            "width": 88,
            "editable": {"function": "params.data.gold_id != null"},
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": [label.name for label in labels]},
        },
        *(
            {"field": f"a{i}", "headerName": who, "flex": 1, "minWidth": 72}
            for i, who in enumerate(annotators)
        ),
        *(
            {"field": f"m{i}", "headerName": who, "flex": 1, "minWidth": 100}
            for i, who in enumerate(models)
        ),
        {"field": "id", "hide": True},
    ]


def unit_rows(
    units: Sequence[ReviewUnit],
    extra_gold: Sequence[Annotation],
    annotators: Sequence[str],
    gold: Sequence[Annotation],
    models: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One row per unit, then one per gold shape that stands for no unit ('added'). The
    support counts people only; a detector's column says what it drew there."""
    labels_of = {g.id: g.label for g in gold}
    rows = []
    for unit in units:
        consensus = unit.consensus
        row: dict[str, Any] = {
            "id": f"u{unit.number}",
            "unit": str(unit.number),
            "consensus": consensus.label if consensus else "(none)",
            "support": f"{consensus.support} of {consensus.of}"
            if consensus
            else f"{unit.drawn_by_people} of {len(annotators)}",
            "gold": labels_of.get(unit.gold_id or "", NOTHING),
            "gold_id": unit.gold_id,
        }
        for i, who in enumerate(annotators):
            shape = unit.members.get(who)
            row[f"a{i}"] = shape.label if shape is not None else "missed"
        for i, who in enumerate(models):
            shape = unit.members.get(who)
            row[f"m{i}"] = shape.label if shape is not None else "missed"
        rows.append(row)
    for record in extra_gold:
        rows.append(
            {"id": f"g{record.id}", "unit": "added", "gold": record.label, "gold_id": record.id}
        )
    return rows


def review_figure(
    image: Mapping[str, Any],
    people: Mapping[str, Sequence[Annotation]],
    gold: Sequence[Annotation],
    labels: tuple[Label, ...],
    label: str,
    models: Mapping[str, Sequence[Annotation]] | None = None,
) -> dict[str, Any]:
    """The image by URL with every annotator's shapes, then every detector's (not editable;
    a colour and dash each, named in the legend), and gold's (editable), gold last."""
    shapes: list[dict[str, Any]] = []
    legend = []
    for number, (who, records) in enumerate(sorted(people.items())):
        color, dash = PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]
        shapes += _fixed_shapes(records, color, dash)
        legend.append(_legend_entry(who, color, dash))
    for number, (who, records) in enumerate(sorted((models or {}).items())):
        color = MODEL_PALETTE[number % len(MODEL_PALETTE)]
        shapes += _fixed_shapes(records, color, MODEL_DASH)
        legend.append(_legend_entry(who, color, MODEL_DASH))
    for record in gold:
        color = color_of(record.label, labels)
        shape = shape_of(record, color)
        shape["line"] = {"color": color, "width": GOLD_WIDTH, "dash": "solid"}
        shapes.append(shape)
    legend.append(
        _legend_entry(f"{GOLD} (solid, in its label's colour; editable)", "#444444", "solid")
    )
    figure = image_figure(
        _text(image.get("key")) or "none",
        _text(image.get("url")) or None,
        _size(image.get("width")),
        _size(image.get("height")),
        shapes,
        newshape_for(label, labels),
        _text(image.get("error")) or None,
    )
    figure["data"].extend(legend)
    figure["layout"]["showlegend"] = True
    figure["layout"]["legend"] = {"orientation": "h", "y": -0.04, "yanchor": "top"}
    figure["layout"]["margin"]["b"] = 50
    return figure


def _fixed_shapes(records: Sequence[Annotation], color: str, dash: str) -> list[dict[str, Any]]:
    """Someone's shapes as outlines the reviewer cannot move."""
    shapes = []
    for record in records:
        shape = shape_of(record, color)
        shape.update(editable=False, fillcolor="rgba(0,0,0,0)")
        shape["line"] = {"color": color, "width": 2, "dash": dash}
        shapes.append(shape)
    return shapes


def shape_names(
    people: Mapping[str, Sequence[Annotation]],
    gold: Sequence[Annotation],
    models: Mapping[str, Sequence[Annotation]] | None = None,
) -> list[str]:
    """The ids of the figure's shapes in figure order (what relayout indices refer to)."""
    names = [r.id for _, records in sorted(people.items()) for r in records]
    names += [r.id for _, records in sorted((models or {}).items()) for r in records]
    return names + [r.id for r in gold]


def _legend_entry(name: str, color: str, dash: str) -> dict[str, Any]:
    """A legend key, shown even when it is the figure's only trace."""
    return {**legend_entry(name, color, dash), "showlegend": True}


def thread(comments: Sequence[Comment]) -> object:
    """The image's comments, oldest first, as text."""
    if not comments:
        return html.Span("No comments yet.", className="text-muted")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(f"{c.author} · {_when(c.at)}: ", className="text-muted"),
                    html.Span(c.text, style={"whiteSpace": "pre-wrap"}),
                ]
            )
            for c in comments
        ],
        className="list-unstyled mb-0",
    )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _size(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 100
