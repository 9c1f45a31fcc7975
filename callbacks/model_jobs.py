"""The Admin tab's detector card: the model's version now, pre-annotating a batch
(workflows.predict, as `cli.py predict` does) and training its label head
(workflows.training, as `cli.py train`), each a Dash background job with a progress bar:
in a forked process on this machine (diskcache), or on the Celery worker with REDIS_URL.

Admins only: every id here starts `admin-`, so the request guard refuses anyone else with
403 before a job is queued (a job's process has no request to check again); the tab's
listing checks the role itself too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State
from dash.exceptions import PreventUpdate
from redis.exceptions import RedisError

from auth.scoped import callback
from auth.session import may
from components import ids
from components.model_jobs import ALL, batch_options, job_result
from domain.accounts import Role
from jobs.fanout_tasks import HELPERS, launcher
from models.detector import Detector, DetectorError
from models.head import current_version
from models.learning import TrainingError
from storage.errors import StorageError
from storage.fanout_board import redis_board
from storage.runtime import Services, current, detach_after_fork
from workflows.fanout import fan_out
from workflows.predict import PredictReport, batch_keys, predict_with
from workflows.suggest import detector_for

PREDICT_TIMEOUT_S = 60.0  # per image, as `cli.py predict --timeout`
Report = Callable[[int, int, str], None]
SetProgress = Callable[[tuple[int, str]], None]


def model_version(services: Services) -> str:
    """'nanodet g-416-… (+head<n> when trained)', or why there is no usable detector. Loads
    the detector's description (onnxruntime for the built-in one), never runs it."""
    try:
        detector = detector_for(services.settings.detector)
    except DetectorError as exc:
        return f"No usable detector: {exc}."
    version = current_version(services.settings.data_dir, detector.name, detector.version)
    return f"Model: {detector.name} {version} (shapes stored as model:{detector.name})"


@callback(
    Output(ids.ADMIN_MODEL_BATCH, "options"),
    Output(ids.ADMIN_MODEL_BATCH, "value"),
    Output(ids.ADMIN_MODEL_VERSION, "children"),
    Input(ids.TABS, "active_tab"),
    Input(ids.ADMIN_MODEL_PREDICT_RESULT, "children"),
    Input(ids.ADMIN_MODEL_TRAIN_RESULT, "children"),
    State(ids.ADMIN_MODEL_BATCH, "value"),
    prevent_initial_call=True,  # the page opens on Annotate: listed when the tab opens
)
def show_model_card(active: str | None, _predicted: Any, _trained: Any, batch: Any):
    """The catalog's batches and the model's version, when the tab opens and after a job."""
    if active != ids.TAB_ADMIN or not may(Role.ADMIN):
        raise PreventUpdate
    services = current()
    try:
        batches = services.images.catalog.batches().names
    except StorageError:
        batches = ()
    options = batch_options(batches)
    kept = batch if any(o["value"] == batch for o in options) else ALL
    return options, kept, model_version(services)


def min_score_of(value: Any) -> float:
    """The min score typed in, or ValueError saying what it must be."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"the min score is a number from 0 to 1, not {value!r}")
    return float(value)


def preannotate_job(batch: Any, min_score: Any, report: Report) -> dbc.Alert:
    """Run the detector over a batch (ALL: every batch) and store its shapes; what it did,
    or why nothing was done. With Celery (REDIS_URL) the batch is fanned out in chunks over
    the workers (workflows.fanout); otherwise it runs here."""
    services = current()
    try:
        score = min_score_of(min_score)
        detector = detector_for(services.settings.detector)
        keys = batch_keys(services, None if batch in (None, ALL) else str(batch))
        launch = launcher()
        if services.settings.redis_url and launch is not None:
            board = redis_board(services.settings.redis_url)
            done = fan_out(services, board, keys, score, PREDICT_TIMEOUT_S, launch, HELPERS, report)
        else:
            done = _predict_here(services, detector, keys, score, report)
    except (ValueError, DetectorError, StorageError, RedisError) as exc:
        return job_result("Nothing pre-annotated:", [str(exc)], [], ok=False)
    title = f"Pre-annotated with {done.detector} {done.version}:"
    return job_result(title, [done.summary()], done.problems, ok=True)


def _predict_here(
    services: Services, detector: Detector, keys: list[str], score: float, report: Report
) -> PredictReport:
    """Pre-annotate in this process (no Celery: the local job runner)."""

    return predict_with(services, detector, keys, score, PREDICT_TIMEOUT_S, report)


def train_job(report: Report) -> dbc.Alert:
    """Train the detector's next label head; its version and held-out accuracy, or why not."""
    services = current()
    try:
        detector = detector_for(services.settings.detector)
        from workflows.training import train_from_corrections  # the analysis stack: jobs only

        done = train_from_corrections(services, detector, progress=report)
    except (TrainingError, DetectorError, StorageError) as exc:
        return job_result("Not trained:", [str(exc)], [], ok=False)
    lines = [
        f"Held-out label accuracy: before {done.before:.3f}, after {done.after:.3f} "
        f"({done.held_out_objects} object(s) on {done.held_out_images} image(s)).",
        *done.summary().splitlines()[:1],
    ]
    return job_result(f"Trained {done.detector} {done.version}.", lines, done.problems, ok=True)


def _detach_database() -> None:
    # A background job runs in a forked process: its pooled connections (the main
    # database's and every project space's) are the parent's; none is used before this.
    detach_after_fork()


def _reporter(set_progress: SetProgress) -> Report:
    def report(done: int, total: int, what: str) -> None:
        set_progress((int(100 * done / total) if total else 0, what))

    return report


@callback(
    Output(ids.ADMIN_MODEL_PREDICT_RESULT, "children"),
    Input(ids.ADMIN_MODEL_PREDICT, "n_clicks"),
    State(ids.ADMIN_MODEL_BATCH, "value"),
    State(ids.ADMIN_MODEL_MIN_SCORE, "value"),
    background=True,
    progress=[
        Output(ids.ADMIN_MODEL_PREDICT_PROGRESS, "value"),
        Output(ids.ADMIN_MODEL_PREDICT_PROGRESS, "label"),
    ],
    running=[
        (Output(ids.ADMIN_MODEL_PREDICT, "disabled"), True, False),
        (Output(ids.ADMIN_MODEL_TRAIN, "disabled"), True, False),
        (
            Output(ids.ADMIN_MODEL_PREDICT_PROGRESS, "style"),
            {"display": "flex"},
            {"display": "none"},
        ),
    ],
    prevent_initial_call=True,
)
def run_preannotate(
    set_progress: SetProgress, clicks: int | None, batch: Any, min_score: Any
) -> dbc.Alert:
    """Pre-annotate in a background job (admins: the guard refuses everyone else)."""
    if not clicks:
        raise PreventUpdate
    _detach_database()
    return preannotate_job(batch, min_score, _reporter(set_progress))


@callback(
    Output(ids.ADMIN_MODEL_TRAIN_RESULT, "children"),
    Input(ids.ADMIN_MODEL_TRAIN, "n_clicks"),
    background=True,
    progress=[
        Output(ids.ADMIN_MODEL_TRAIN_PROGRESS, "value"),
        Output(ids.ADMIN_MODEL_TRAIN_PROGRESS, "label"),
    ],
    running=[
        (Output(ids.ADMIN_MODEL_TRAIN, "disabled"), True, False),
        (Output(ids.ADMIN_MODEL_PREDICT, "disabled"), True, False),
        (Output(ids.ADMIN_MODEL_TRAIN_PROGRESS, "style"), {"display": "flex"}, {"display": "none"}),
    ],
    prevent_initial_call=True,
)
def run_train(set_progress: SetProgress, clicks: int | None) -> dbc.Alert:
    """Train the label head in a background job (admins: the guard refuses everyone else)."""
    if not clicks:
        raise PreventUpdate
    _detach_database()
    return train_job(_reporter(set_progress))
