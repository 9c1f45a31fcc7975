"""The Admin tab's Label set card: the page's project's labels in a grid (colour, key and
description edited in place), with add, rename, retire or bring back, and move up/down."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.grid import SINGLE_ROW_SELECTION
from domain.labels import Label, hotkeys

OFFERED, RETIRED = "offered", "retired"


def label_rows(labels: tuple[Label, ...], counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """One grid row per label, in the set's order, with how many stored shapes carry it."""
    keys = hotkeys(labels)
    return [
        {
            "name": label.name,
            "color": label.color,
            "hotkey": label.hotkey,
            "key": keys.get(label.name, ""),
            "description": label.description,
            "state": RETIRED if label.retired else OFFERED,
            "shapes": int(counts.get(label.name, 0)),
        }
        for label in labels
    ]


_COLUMNS: list[dict[str, Any]] = [
    {"field": "name", "width": 140},
    {
        "field": "color",
        "headerName": "colour",
        "editable": True,
        "width": 110,
    },
    {
        "field": "hotkey",
        "headerName": "own key",
        "editable": True,
        "width": 90,
        "headerTooltip": "One letter or digit; empty: its place, 1-9",
    },
    {"field": "key", "headerName": "key now", "width": 90},
    {
        "field": "description",
        "headerName": "description (tooltip)",
        "editable": True,
        "flex": 1,
        "minWidth": 200,
        "cellEditor": "agLargeTextCellEditor",
        "cellEditorPopup": True,
    },
    {"field": "state", "width": 100},
    {"field": "shapes", "headerName": "shapes", "width": 100, "type": "rightAligned"},
]


def label_set_card() -> dbc.Card:
    """The card; a callback fills the grid when the Admin tab opens."""
    small = {"size": "sm", "className": "me-2"}
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Label set of this project", className="card-title"),
                html.P(
                    "Edit a colour, key or description in its cell. Renaming a label renames "
                    "it on every stored shape (in the history); a retired label stays on old "
                    "shapes but is offered no more. Open pages show the change when reloaded.",
                    className="small text-muted",
                ),
                dcc.Store(id=ids.ADMIN_LABELS_VERSION),
                dag.AgGrid(
                    id=ids.ADMIN_LABELS_GRID,
                    columnDefs=_COLUMNS,
                    rowData=[],
                    getRowId="params.data.name",
                    dashGridOptions={
                        "rowSelection": SINGLE_ROW_SELECTION,
                        "singleClickEdit": True,
                        "stopEditingWhenCellsLoseFocus": True,
                        "domLayout": "autoHeight",
                    },
                    style={"width": "100%"},
                    className="ag-theme-alpine mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.Input(
                                        id=ids.ADMIN_LABELS_NEW,
                                        placeholder="New label",
                                        maxLength=64,
                                    ),
                                    dbc.Button("Add", id=ids.ADMIN_LABELS_ADD, color="primary"),
                                ],
                                size="sm",
                            ),
                            md=4,
                        ),
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.Input(
                                        id=ids.ADMIN_LABELS_RENAME_TO,
                                        placeholder="Rename the selected label to",
                                        maxLength=64,
                                    ),
                                    dbc.Button(
                                        "Rename", id=ids.ADMIN_LABELS_RENAME, color="secondary"
                                    ),
                                ],
                                size="sm",
                            ),
                            md=5,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                html.Div(
                    [
                        dbc.Button(
                            "Retire / bring back",
                            id=ids.ADMIN_LABELS_RETIRE,
                            outline=True,
                            color="danger",
                            **small,
                        ),
                        dbc.Button("Move up", id=ids.ADMIN_LABELS_UP, outline=True, **small),
                        dbc.Button("Move down", id=ids.ADMIN_LABELS_DOWN, outline=True, **small),
                    ]
                ),
                html.Div(id=ids.ADMIN_LABELS_RESULT, className="small mt-2"),
            ]
        ),
        className="mb-3",
    )
