"""The Admin tab's model card: the detector's version now, pre-annotating a batch and
training the label head, each a background job with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids

ALL = "*all*"  # the "every batch" choice (components.exchange_panel's, no batch is named so)
MIN_SCORE_DEFAULT = 0.35  # workflows.suggest.SUGGEST_MIN_SCORE, `cli.py predict`'s default
SHOWN_PROBLEMS = 50


def _progress(component_id: str) -> dbc.Progress:
    return dbc.Progress(id=component_id, value=0, className="mt-2", style={"display": "none"})


def model_jobs_card() -> dbc.Card:
    """Version, batch picker, min score, Pre-annotate and Train, with their results."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Detector", className="card-title"),
                html.Div(id=ids.ADMIN_MODEL_VERSION, className="small mb-2"),
                html.P(
                    "Pre-annotate runs the detector over a batch and stores its shapes as "
                    "model:<name> (with scores and the model's version), so Suggest shows "
                    "them at once; running it again replaces them. Train learns a label head "
                    "from people's finished shapes and the stored ones (python cli.py train).",
                    className="small text-muted",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Batch", className="small mb-0"),
                                dcc.Dropdown(
                                    id=ids.ADMIN_MODEL_BATCH, options=[], value=ALL, clearable=False
                                ),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Min score", className="small mb-0"),
                                dbc.Input(
                                    id=ids.ADMIN_MODEL_MIN_SCORE,
                                    type="number",
                                    min=0,
                                    max=1,
                                    step=0.05,
                                    value=MIN_SCORE_DEFAULT,
                                ),
                            ],
                            md=3,
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(
                    [
                        dbc.Button(
                            "Pre-annotate", id=ids.ADMIN_MODEL_PREDICT, color="primary", size="sm"
                        ),
                        dbc.Button(
                            "Train",
                            id=ids.ADMIN_MODEL_TRAIN,
                            color="secondary",
                            outline=True,
                            size="sm",
                            className="ms-2",
                        ),
                    ],
                    className="mt-2",
                ),
                _progress(ids.ADMIN_MODEL_PREDICT_PROGRESS),
                _progress(ids.ADMIN_MODEL_TRAIN_PROGRESS),
                html.Div(id=ids.ADMIN_MODEL_PREDICT_RESULT, className="small mt-2"),
                html.Div(id=ids.ADMIN_MODEL_TRAIN_RESULT, className="small mt-2"),
            ]
        ),
        className="mt-3",
    )


def batch_options(batches: Sequence[str]) -> list[dict[str, str]]:
    """Every batch, then each one the catalog lists."""
    return [{"label": "All batches", "value": ALL}] + [
        {"label": b or "(top level)", "value": b} for b in batches
    ]


def job_result(title: str, lines: Sequence[str], problems: Sequence[str], ok: bool) -> dbc.Alert:
    """A job's outcome: a bold first line, the details, and the images it failed on."""
    items = [html.Li(p) for p in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        items.append(html.Li(f"... and {len(problems) - SHOWN_PROBLEMS} more"))
    body: list[object] = [html.Strong(title)]
    body += [html.Div(line) for line in lines]
    if items:
        body += [html.Div("Images that failed:"), html.Ul(items, className="mb-0")]
    color = ("warning" if problems else "success") if ok else "danger"
    return dbc.Alert(body, color=color, className="py-2 mb-0")
