"""The Import / Export panel: a side sheet opened from the header."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from formats.registry import CODECS

ALL = "*all*"  # the "every annotator" / "every batch" choice (no name can be this)
CONSENSUS_CHOICE = "*consensus*"  # export the consensus instead of one annotator


def _format_choices(component_id: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        options=[{"label": codec.title, "value": name} for name, codec in CODECS.items()],
        value="coco",
        clearable=False,
        searchable=False,
    )


def _progress(component_id: str) -> dbc.Progress:
    return dbc.Progress(id=component_id, value=0, className="mt-2", style={"display": "none"})


def _export_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Export", className="card-title"),
                dbc.Label("Format", html_for=ids.EXPORT_FORMAT, className="small mb-0"),
                _format_choices(ids.EXPORT_FORMAT),
                dbc.Checkbox(
                    id=ids.EXPORT_SEGMENTS,
                    label="YOLO: polygons as segmentation lines",
                    value=False,
                    className="small mt-1",
                    style={"display": "none"},  # YOLO only; the default format is COCO
                ),
                dbc.Label("Annotator", html_for=ids.EXPORT_ANNOTATOR, className="small mb-0"),
                dcc.Dropdown(id=ids.EXPORT_ANNOTATOR, options=[], value=ALL, clearable=False),
                dbc.Label("Batch", html_for=ids.EXPORT_BATCH, className="small mb-0 mt-1"),
                dcc.Dropdown(id=ids.EXPORT_BATCH, options=[], value=ALL, clearable=False),
                dbc.Button("Export", id=ids.EXPORT_BUTTON, color="primary", className="mt-2"),
                _progress(ids.EXPORT_PROGRESS),
                html.Div(id=ids.EXPORT_RESULT, className="small mt-2"),
                dcc.Download(id=ids.EXPORT_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )


def _history_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Change history", className="card-title"),
                html.P(
                    "Every shape drawn, edited or deleted and every status, with who, when, "
                    "before and after (the annotator and batch chosen above).",
                    className="small text-muted",
                ),
                dbc.Button(
                    "Download history (CSV)",
                    id=ids.EXPORT_HISTORY,
                    color="secondary",
                    outline=True,
                    size="sm",
                ),
                dcc.Download(id=ids.EXPORT_HISTORY_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )


def _import_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Import", className="card-title"),
                html.P(
                    "The whole file is checked first; if anything is wrong nothing is "
                    "written. Importing the same file again changes nothing.",
                    className="small text-muted",
                ),
                dbc.Label("Format", html_for=ids.IMPORT_FORMAT, className="small mb-0"),
                _format_choices(ids.IMPORT_FORMAT),
                dbc.Label("Annotator", html_for=ids.IMPORT_ANNOTATOR, className="small mb-0 mt-1"),
                dbc.Input(id=ids.IMPORT_ANNOTATOR, value="import", maxLength=64, size="sm"),
                dcc.Upload(
                    id=ids.IMPORT_UPLOAD,
                    children=html.Div(["Drop a file here or ", html.A("choose one")]),
                    className="upload-zone mt-2",
                    multiple=False,
                ),
                _progress(ids.IMPORT_PROGRESS),
                html.Div(id=ids.IMPORT_RESULT, className="small mt-2"),
            ]
        )
    )


def exchange_panel(with_import: bool = True) -> dbc.Offcanvas:
    """The side sheet with the export card and, for admins, the import card."""
    return dbc.Offcanvas(
        [dcc.Store(id=ids.EXCHANGE_IMPORTED), _export_card(), _history_card()]
        + ([_import_card()] if with_import else []),
        id=ids.EXCHANGE_PANEL,
        title="Import / Export" if with_import else "Export",
        placement="end",
        is_open=False,
        scrollable=True,
    )
