"""The Agreement tab: compute the report in a background job, render it, compare one image.

Caching ("cached until annotations change"): Compute first reads every stored shape and
status and hashes them (fingerprint: image, annotator, label, kind, coordinates, points of
each shape, and every (image, annotator) status; ids and times are left out because the
analysis ignores them). The browser keeps the last report with its {fingerprint, threshold}
in two dcc.Store (memory: per page, gone on reload). When Compute finds the same fingerprint
and threshold, the report on screen is kept and the analysis is skipped; any drawn, edited,
relabelled or deleted shape, and any status change (done, empty, skipped) changes the
fingerprint and the next Compute recomputes. The check still costs one read of the rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import may
from components import agreement_tab as tab
from components import ids
from domain.accounts import Role
from domain.stored_rows import skipped_summary
from formats.spreadsheet import neutralise
from storage.annotation_store import ExportRows
from storage.errors import StorageError
from storage.runtime import current, detach_after_fork

if TYPE_CHECKING:
    from analysis.report import AgreementReport

Report = Callable[[int, str], None]


def fingerprint(rows: ExportRows) -> str:
    """A hash of everything the analysis reads: shapes (any order), statuses, and the
    stored rows it leaves out as unusable."""
    digest = hashlib.sha256()
    for shape in sorted(rows.shapes):
        digest.update(repr(tuple(shape)).encode())
    digest.update(b"\x00statuses\x00")
    for pair, status in sorted(rows.statuses.items()):
        digest.update(repr((pair, status)).encode())
    if rows.skipped:  # rows the report lists as left out: a change there is news too
        digest.update(b"\x00skipped\x00")
        for row in sorted(rows.skipped):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:20]


def _alert(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, className="py-2 mb-0")


def agreement_job(
    threshold: float | None,
    cached: dict[str, Any] | None,
    report: Report,
    without_suggestions: bool = False,
) -> tuple[object, object, object]:
    """Report data, its cache key and a message; the data stays as it is (no_update)
    when the stored annotations and the settings are those of the report shown."""
    services = current()
    level = round(float(threshold if threshold is not None else tab.THRESHOLD_DEFAULT), 2)
    report(5, "Reading annotations")
    try:
        key = {"fingerprint": fingerprint(services.store.export_rows()), "threshold": level}
        if without_suggestions:
            key["without_suggestions"] = True
        if cached == key:
            return no_update, no_update, _alert("Up to date: no annotation changed.", "info")
        # read after the fingerprint: a change in between makes the next Compute recompute
        # The analysis (numpy, scipy, scikit-learn) is imported by the job that needs it,
        # so a web worker that only shows the page never loads it.
        from workflows.agreement_data import agreement_data

        data, result, accepted = agreement_data(services, level, without_suggestions, report)
    except StorageError as exc:
        return no_update, no_update, _alert(f"Could not read the annotations: {exc}", "danger")
    if not result.images:
        note = "No image has been finished by two or more annotators yet."
        return data, key, _alert(note + shapes_note(result), "warning")
    note = f"Computed at IoU ≥ {level:.2f} on {result.images:,} image(s) with 2+ annotators."
    if accepted:
        how = "left out" if without_suggestions else "counted"
        note += f" {accepted:,} shape(s) accepted unchanged from suggestions, {how}."
    return (
        data,
        key,
        _alert(note + shapes_note(result), "warning" if result.left_out else "success"),
    )


def shapes_note(result: AgreementReport) -> str:
    """What the report says of stored shapes not compared as drawn ('' when none)."""
    note = f" {skipped_summary(result.left_out)}." if result.left_out else ""
    if result.approximated:
        note += (
            f" {len(result.approximated):,} shape(s) with an outline that crosses itself "
            "too often were compared as their convex hull."
        )
    return note


@callback(
    Output(ids.AGREEMENT_REPORT, "data"),
    Output(ids.AGREEMENT_CACHE_KEY, "data"),
    Output(ids.AGREEMENT_STATUS, "children"),
    Input(ids.AGREEMENT_COMPUTE, "n_clicks"),
    State(ids.AGREEMENT_THRESHOLD, "value"),
    State(ids.AGREEMENT_CACHE_KEY, "data"),
    State(ids.AGREEMENT_WITHOUT_SUGGESTIONS, "value"),
    background=True,
    progress=[Output(ids.AGREEMENT_PROGRESS, "value"), Output(ids.AGREEMENT_PROGRESS, "label")],
    running=[
        (Output(ids.AGREEMENT_COMPUTE, "disabled"), True, False),
        (Output(ids.AGREEMENT_PROGRESS, "style"), {"display": "flex"}, {"display": "none"}),
    ],
    prevent_initial_call=True,
)
def compute_agreement(
    set_progress: Callable[[tuple[int, str]], None],
    clicks: int | None,
    threshold: float | None,
    cached: dict[str, Any] | None,
    without_suggestions: bool | None = False,
) -> tuple[object, object, object]:
    """Compute the report in a background job (skipped when nothing changed)."""
    if not clicks:
        raise PreventUpdate
    # A background job runs in a forked process: its pooled connections are the parent's.
    detach_after_fork()
    return agreement_job(
        threshold,
        cached,
        lambda done, what: set_progress((done, what)),
        bool(without_suggestions),
    )


@callback(
    Output(ids.AGREEMENT_RESULTS, "style"),
    Output(ids.AGREEMENT_CARDS, "children"),
    Output(ids.AGREEMENT_AREA, "figure"),
    Output(ids.AGREEMENT_EDGES, "figure"),
    Output(ids.AGREEMENT_MISSES, "figure"),
    Output(ids.AGREEMENT_IMAGES, "rowData"),
    Output(ids.AGREEMENT_CONFUSION_WHO, "options"),
    Output(ids.AGREEMENT_CONFUSION_WHO, "value"),
    Output(ids.AGREEMENT_DOWNLOAD_BUTTON, "disabled"),
    Input(ids.AGREEMENT_REPORT, "data"),
    State(ids.AGREEMENT_CONFUSION_WHO, "value"),
    prevent_initial_call=True,  # nothing to show before a report is computed
)
def show_report(data: dict[str, Any] | None, who: str | None) -> tuple[object, ...]:
    """Cards, bias plots, the disagreement table and the confusion choices of a report."""
    if not data:
        raise PreventUpdate
    return (
        {},
        tab.summary_cards(data),
        tab.area_figure(data),
        tab.edges_figure(data),
        tab.misses_figure(data),
        tab.ranking_rows(data),
        *tab.confusion_choices(data, who),
        False,
    )


@callback(
    Output(ids.AGREEMENT_HEATMAP, "figure"),
    Input(ids.AGREEMENT_REPORT, "data"),
    Input(ids.AGREEMENT_METRIC, "value"),
    prevent_initial_call=True,
)
def show_heatmap(data: dict[str, Any] | None, metric: str | None) -> object:
    """The annotator x annotator heatmap of the chosen measure."""
    if not data:
        raise PreventUpdate
    return tab.pair_heatmap(data, metric or "f1")


@callback(
    Output(ids.AGREEMENT_CONFUSION, "figure"),
    Input(ids.AGREEMENT_REPORT, "data"),
    Input(ids.AGREEMENT_CONFUSION_WHO, "value"),
    prevent_initial_call=True,
)
def show_confusion(data: dict[str, Any] | None, who: str | None) -> object:
    """The chosen annotator's label confusion against the consensus."""
    if not data:
        raise PreventUpdate
    return tab.confusion_figure(data, who)


@callback(
    Output(ids.AGREEMENT_COMPARE, "children"),
    Input(ids.AGREEMENT_IMAGES, "selectedRows"),
    State(ids.AGREEMENT_REPORT, "data"),
    prevent_initial_call=True,
)
def show_comparison(selected: list[dict[str, Any]] | None, data: dict[str, Any] | None) -> object:
    """Every annotator's shapes on the clicked image, read from the store now."""
    if not selected or not data or not may(Role.REVIEWER):
        raise PreventUpdate  # reviewers only (the request guard refuses others first)
    row = selected[0]
    return comparison_of(row["image"], row["annotators"].split(", "), data["annotators"])


def comparison_of(key: str, shown: list[str], annotators: list[str]) -> object:
    """The comparison view of one image, or why it cannot be shown."""
    services = current()
    try:
        records = [r for who in shown for r in services.store.annotations_for(key, who)]
    except StorageError as exc:
        return _alert(f"Could not read the shapes of {key}: {exc}", "danger")
    try:
        info = services.images.info(key)
        url, size, problem = services.images.url(key), (info.width, info.height), None
    except StorageError as exc:  # the shapes are still worth seeing, on a blank canvas
        extent = [v for r in records for v in (*r.coords, *(c for p in r.points for c in p))]
        top = int(max(extent, default=100)) + 1
        url, size, problem = None, (top, top), str(exc)
    return tab.comparison_view(key, url, size, records, annotators, shown, problem)


def metrics_archive(data: dict[str, Any]) -> bytes:
    """A zip of summary.csv, pairwise.csv, annotators.csv (one row per annotator, with its
    scores against gold as gold_* columns), models.csv when the report has models, and
    report.json (the report's JSON, as cli.py agreement --json prints it: every key of
    docs/agreement-report.schema.json); names a spreadsheet would run as a formula are
    quoted (formats.spreadsheet)."""
    import pandas as pd  # for this download only: web workers do not load it otherwise

    threshold = data["iou_threshold"]
    alpha = data["label_alpha"]
    summary = pd.DataFrame(
        [
            {
                "iou_threshold": threshold,
                "images_with_2plus_annotators": data["images"],
                "annotators": len(data["annotators"]),
                "label_alpha": alpha["value"],
                "label_alpha_ci_low": alpha["ci_low"],
                "label_alpha_ci_high": alpha["ci_high"],
                "presence_alpha": data["presence_alpha"],
                "presence_alpha_ci_low": data["presence_alpha_ci"]["ci_low"],
                "presence_alpha_ci_high": data["presence_alpha_ci"]["ci_high"],
            }
        ]
    )
    pairwise = pd.DataFrame(
        [{"iou_threshold": threshold, **pair} for pair in data["pairwise"]],
        columns=[
            "iou_threshold",
            *("a", "b", "images", "matched", "drawn_a", "drawn_b"),
            *("f1", "mean_iou", "label_kappa", "f1_over_thresholds"),
        ],
    )
    annotators = pd.DataFrame([_annotator_row(threshold, row) for row in data["per_annotator"]])
    tables = [("summary", summary), ("pairwise", pairwise), ("annotators", annotators)]
    if data.get("models"):
        models = pd.DataFrame([_model_row(threshold, row) for row in data["models"]])
        tables.append(("models", models))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables:
            archive.writestr(f"{name}.csv", frame.map(neutralise).to_csv(index=False))
        report = {k: v for k, v in data.items() if k not in BROWSER_ONLY}
        archive.writestr("report.json", json.dumps(report, indent=2, allow_nan=False))
    return buffer.getvalue()


# keys of the report data that only the page's plots use (not in the JSON schema)
BROWSER_ONLY = ("distributions", "ranking")


def _model_row(threshold: float, row: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in row.items() if k not in ("per_label", "vs_gold", "null_reasons")}
    return {"iou_threshold": threshold, **flat, **gold_columns(row.get("vs_gold"))}


def _annotator_row(threshold: float, row: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in row.items() if k not in ("edges", "confusion", "vs_gold")}
    edges = {f"edge_{edge}": value for edge, value in row["edges"].items()}
    return {"iou_threshold": threshold, **flat, **edges, **gold_columns(row.get("vs_gold"))}


GOLD_COLUMNS = (
    "images",
    "objects",
    "gold_objects",
    "objects_matched",
    "precision",
    "recall",
    "f1",
    "mean_iou",
    "label_accuracy",
)


def gold_columns(gold: dict[str, Any] | None) -> dict[str, Any]:
    """An annotator's vs_gold numbers as gold_* columns (empty cells without gold; the
    per-label scores stay in the JSON)."""
    return {f"gold_{key}": (gold or {}).get(key) for key in GOLD_COLUMNS}


@callback(
    Output(ids.AGREEMENT_DOWNLOAD, "data"),
    Input(ids.AGREEMENT_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.AGREEMENT_REPORT, "data"),
    prevent_initial_call=True,
)
def download_metrics(clicks: int | None, data: dict[str, Any] | None) -> object:
    """The pairwise and per-annotator tables of the report shown, as CSV files in a zip."""
    if not clicks or not data:
        raise PreventUpdate
    name = f"concord-agreement-iou{data['iou_threshold']:.2f}.zip"
    return dcc.send_bytes(metrics_archive(data), name)


@callback(
    Output(ids.AGREEMENT_INTRA, "children"),
    Input(ids.AGREEMENT_REPORT, "data"),
    prevent_initial_call=True,
)
def show_intra_rater(data: dict[str, Any] | None) -> object:
    """The intra-rater table, when any images came back to their annotators."""
    if not data or not may(Role.REVIEWER):
        raise PreventUpdate
    return tab.intra_rater_table(data.get("intra_rater") or [])


@callback(
    Output(ids.AGREEMENT_MODELS, "children"),
    Input(ids.AGREEMENT_REPORT, "data"),
    prevent_initial_call=True,
)
def show_models(data: dict[str, Any] | None) -> object:
    """Scores against gold, when a reviewer accepted (or someone imported) gold, and the
    models table, when a detector's shapes are stored (cli.py predict)."""
    if not data or not may(Role.REVIEWER):
        raise PreventUpdate
    return [tab.gold_table(data), tab.models_table(data.get("models") or [])]
