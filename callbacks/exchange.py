"""Import / Export panel: choices, export to a download, import from an upload.

Exports and imports run as Dash background callbacks (a job process with a progress bar),
over the same workflows as `python cli.py`.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback_context, dcc, hooks, html, no_update
from dash.exceptions import MissingCallbackContextException, PreventUpdate

from auth.scoped import callback
from auth.session import acting_annotator, may, sign_in_required
from components import ids
from components.exchange_panel import ALL, CONSENSUS_CHOICE
from domain.accounts import Role
from domain.errors import DomainError
from domain.sources import is_gold
from formats.model import FormatError
from formats.resolve import ImportRejected
from storage.errors import StorageError
from storage.runtime import current, detach_after_fork
from workflows.exchange import export_annotations, import_annotations
from workflows.history import history_csv

Report = Callable[[int, int, str], None]
SHOWN_PROBLEMS = 50
GOLD_LABEL = "gold (reviewed annotations)"  # how the export choices name annotator "gold"
ASKING = "concord_asking"  # callback_context.custom_data: who asks, read from the session


@hooks.custom_data(ASKING)
def who_asks(_context: object) -> dict[str, object]:
    """Who sends this callback, read while the request (and its session) is there: a
    background job runs in another process without one, and gets this with its context."""
    return {"sign_in": sign_in_required(), "name": acting_annotator(None)}


def importer_of(claimed: object) -> str:
    """The name the history gives an import: the signed-in account's whatever the page
    sends; in local mode the name the page holds; else "import"."""
    try:
        asking = callback_context.custom_data.get(ASKING)
    except MissingCallbackContextException:
        asking = None
    if not isinstance(asking, dict):  # no hook ran (called outside a Dash request)
        name = acting_annotator(claimed)
    elif asking["sign_in"]:
        name = asking["name"]
    else:
        name = claimed if isinstance(claimed, str) else None
    return (name or "import")[:64]


def _ignore(done: int, total: int, what: str) -> None:
    return None


@callback(
    Output(ids.EXCHANGE_PANEL, "is_open"),
    Input(ids.EXCHANGE_OPEN, "n_clicks"),
    prevent_initial_call=True,
)
def open_panel(clicks: int | None) -> bool:
    """The header button opens the panel."""
    if not clicks:
        raise PreventUpdate
    return True


def _keep(value: str | None, options: list[dict[str, str]]) -> str:
    return value if any(o["value"] == value for o in options) else ALL


@callback(
    Output(ids.EXPORT_ANNOTATOR, "options"),
    Output(ids.EXPORT_ANNOTATOR, "value"),
    Output(ids.EXPORT_BATCH, "options"),
    Output(ids.EXPORT_BATCH, "value"),
    Input(ids.EXCHANGE_PANEL, "is_open"),
    Input(ids.EXCHANGE_IMPORTED, "data"),
    State(ids.EXPORT_ANNOTATOR, "value"),
    State(ids.EXPORT_BATCH, "value"),
    prevent_initial_call=True,  # listed when the panel opens, not with the page
)
def export_choices(
    is_open: bool, _imported: object, annotator: str | None, batch: str | None
) -> tuple[object, ...]:
    """Annotators with work in the store and the source's batches: listed on opening and
    again after an import (which may bring new annotators). Values travel with their
    options: a dropdown drops a value that arrives before its option."""
    if not is_open or not may(Role.REVIEWER):
        raise PreventUpdate
    services = current()
    try:
        names = services.store.annotators()
    except StorageError:
        names = []
    try:
        batches = services.images.catalog.batches().names
    except StorageError:
        batches = ()
    people = [
        {"label": "All annotators (a folder each)", "value": ALL},
        {"label": "Consensus of all annotators", "value": CONSENSUS_CHOICE},
    ] + [{"label": GOLD_LABEL if is_gold(name) else name, "value": name} for name in names]
    places = [{"label": "All batches", "value": ALL}] + [
        {"label": b or "(top level)", "value": b} for b in batches
    ]
    return people, _keep(annotator, people), places, _keep(batch, places)


@callback(
    Output(ids.EXPORT_SEGMENTS, "style"),
    Input(ids.EXPORT_FORMAT, "value"),
    prevent_initial_call=True,  # the page starts on COCO, with the option hidden
)
def segments_choice(format_name: str | None) -> dict[str, str]:
    """The YOLO-only option shows for YOLO only."""
    return {} if format_name == "yolo" else {"display": "none"}


def _alert(children: Any, color: str) -> dbc.Alert:
    return dbc.Alert(children, color=color, className="py-2 mb-0")


def _rejection(title: str, messages: tuple[str, ...] | list[str]) -> dbc.Alert:
    items = [html.Li(m) for m in messages[:SHOWN_PROBLEMS]]
    if len(messages) > SHOWN_PROBLEMS:
        items.append(html.Li(f"... and {len(messages) - SHOWN_PROBLEMS} more"))
    return _alert([html.Strong(title), html.Ul(items, className="mb-0")], "danger")


def _detach_database() -> None:
    # A background job runs in a forked process: its pooled connections (the main
    # database's and every project space's) are the parent's; none is used before this.
    detach_after_fork()


def export_job(
    format_name: str, annotator: str | None, batch: str | None, segments: bool, report: Report
) -> tuple[object, object]:
    """Run an export: the download (or no_update) and the message to show."""
    options = {"segments": True} if segments and format_name == "yolo" else {}
    consensus = annotator == CONSENSUS_CHOICE
    try:
        exported = export_annotations(
            current(),
            format_name,
            None if annotator in (None, ALL) or consensus else annotator,
            None if batch == ALL else batch,
            report,
            consensus=consensus,
            **options,
        )
    except (FormatError, StorageError, DomainError) as exc:
        return no_update, _alert(f"Nothing exported: {exc}", "danger")
    download = dcc.send_bytes(exported.content, exported.filename)
    # warnings: images or stored shapes left out (unreadable), the rest is in the file
    color = "warning" if exported.warnings else "success"
    return download, _alert(f"Exported {exported.summary()}", color)


def decode_upload(contents: str, filename: str) -> bytes:
    """The bytes of a dcc.Upload data URL; ImportRejected when it is not one."""
    try:
        _header, encoded = contents.split(",", 1)
        return base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise ImportRejected((f"{filename}: the upload could not be read",)) from None


def import_job(
    contents: str,
    filename: str,
    format_name: str,
    annotator: str | None,
    report: Report,
    actor: str = "import",
) -> dbc.Alert:
    """Run an import of an uploaded file: what was imported, or every reason it was not."""
    try:
        data = decode_upload(contents, filename)
        imported = import_annotations(
            current(), format_name, filename, data, annotator or "import", report, actor
        )
    except ImportRejected as exc:
        return _rejection(f"Nothing was imported from {filename}:", exc.messages)
    except (StorageError, DomainError) as exc:
        return _rejection(f"Nothing was imported from {filename}:", [str(exc)])
    return _alert(f"Imported {imported.summary()}", "success")


def _progress_reporter(set_progress: Callable[[tuple[int, str]], None]) -> Report:
    def report(done: int, total: int, what: str) -> None:
        set_progress((int(100 * done / total) if total else 0, what))

    return report


@callback(
    Output(ids.EXPORT_DOWNLOAD, "data"),
    Output(ids.EXPORT_RESULT, "children"),
    Input(ids.EXPORT_BUTTON, "n_clicks"),
    State(ids.EXPORT_FORMAT, "value"),
    State(ids.EXPORT_ANNOTATOR, "value"),
    State(ids.EXPORT_BATCH, "value"),
    State(ids.EXPORT_SEGMENTS, "value"),
    background=True,
    progress=[Output(ids.EXPORT_PROGRESS, "value"), Output(ids.EXPORT_PROGRESS, "label")],
    running=[
        (Output(ids.EXPORT_BUTTON, "disabled"), True, False),
        (Output(ids.EXPORT_PROGRESS, "style"), {"display": "flex"}, {"display": "none"}),
    ],
    prevent_initial_call=True,
)
def run_export(
    set_progress: Callable[[tuple[int, str]], None],
    clicks: int | None,
    format_name: str,
    annotator: str | None,
    batch: str | None,
    segments: bool | None,
) -> tuple[object, object]:
    """Export in a background job; the file arrives through dcc.Download."""
    if not clicks or not format_name:
        raise PreventUpdate
    _detach_database()
    return export_job(
        format_name, annotator, batch, bool(segments), _progress_reporter(set_progress)
    )


@callback(
    Output(ids.IMPORT_RESULT, "children"),
    Output(ids.EXCHANGE_IMPORTED, "data"),
    Input(ids.IMPORT_UPLOAD, "contents"),
    State(ids.IMPORT_UPLOAD, "filename"),
    State(ids.IMPORT_FORMAT, "value"),
    State(ids.IMPORT_ANNOTATOR, "value"),
    State(ids.ANNOTATOR, "data"),  # who imports in local mode; with sign-in the session says
    background=True,
    progress=[Output(ids.IMPORT_PROGRESS, "value"), Output(ids.IMPORT_PROGRESS, "label")],
    running=[
        (Output(ids.IMPORT_UPLOAD, "disabled"), True, False),
        (Output(ids.IMPORT_PROGRESS, "style"), {"display": "flex"}, {"display": "none"}),
    ],
    prevent_initial_call=True,
)
def run_import(
    set_progress: Callable[[tuple[int, str]], None],
    contents: str | None,
    filename: str | None,
    format_name: str,
    annotator: str | None,
    importer: str | None,
) -> tuple[dbc.Alert, float]:
    """Import an uploaded file in a background job and say what happened (the time stamp
    tells the export card to list annotators again). The history names the signed-in
    account as the importer, whatever name the page holds (local mode: that name)."""
    if not contents or not format_name:
        raise PreventUpdate
    _detach_database()
    result = import_job(
        contents,
        filename or "upload",
        format_name,
        annotator,
        _progress_reporter(set_progress),
        importer_of(importer),
    )
    return result, time.time()


@callback(
    Output(ids.EXPORT_HISTORY_DOWNLOAD, "data"),
    Output(ids.EXPORT_RESULT, "children", allow_duplicate=True),
    Input(ids.EXPORT_HISTORY, "n_clicks"),
    State(ids.EXPORT_ANNOTATOR, "value"),
    State(ids.EXPORT_BATCH, "value"),
    prevent_initial_call=True,
)
def download_history(clicks: Any, annotator: str | None, batch: str | None) -> tuple[object, ...]:
    """The change history as a CSV download (reviewers and admins)."""
    if not clicks or not may(Role.REVIEWER):
        raise PreventUpdate
    annotator = annotator if isinstance(annotator, str) else None  # the page sends texts
    batch = batch if isinstance(batch, str) else None
    who = None if annotator in (None, ALL, CONSENSUS_CHOICE) else annotator
    try:
        data = history_csv(current(), who, None if batch in (None, ALL) else batch)
    except StorageError as exc:
        return no_update, dbc.Alert(f"Could not read the history: {exc}", color="danger")
    return dcc.send_bytes(data, "concord-history.csv"), no_update
