"""The Gallery tab's "Upload images" card: a batch, what to do with duplicate names, the
files, and a progress bar per file. assets/upload.js makes the file input and the rows and
sends the files (straight to S3, or to the app for a local folder); no callback is involved."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from components import ids
from domain.uploads import REFUSE, RENAME

DUPLICATE_OPTIONS = [
    {"label": "refuse them", "value": REFUSE},
    {"label": "rename them (name-1.jpg, ...)", "value": RENAME},
]


def upload_card(project_slug: str, may_upload: bool) -> html.Details | None:
    """The card for someone who may upload into the project (None for anyone else)."""
    if not may_upload:
        return None
    data: dict[str, Any] = {"data-project": project_slug}  # read by assets/upload.js
    return html.Details(
        [
            html.Summary("Upload images", className="fw-semibold"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label("Into batch", htmlFor=ids.UPLOAD_BATCH, className="small"),
                            dcc.Input(
                                id=ids.UPLOAD_BATCH,
                                type="text",
                                list=ids.UPLOAD_BATCHES,
                                placeholder="(top level)",
                                maxLength=200,
                                autoComplete="off",
                                className="form-control form-control-sm",
                            ),
                            html.Datalist(id=ids.UPLOAD_BATCHES),
                        ],
                        className="me-3 mb-2",
                        style={"minWidth": "14rem"},
                    ),
                    html.Div(
                        [
                            html.Div("Names already in the batch:", className="small"),
                            dcc.RadioItems(
                                id=ids.UPLOAD_DUPLICATES,
                                options=DUPLICATE_OPTIONS,
                                value=REFUSE,
                                inline=True,
                                inputClassName="me-1",
                                labelClassName="me-3 small",
                            ),
                        ],
                        className="me-3 mb-2",
                    ),
                    html.Div(
                        [
                            html.Label("Images", htmlFor=ids.UPLOAD_FILES, className="small"),
                            html.Div(id=ids.UPLOAD_PICKER),
                        ],
                        className="mb-2",
                    ),
                ],
                className="d-flex flex-wrap align-items-end mt-2",
            ),
            html.Div(
                "JPEG, PNG, TIFF, BMP, WebP or GIF images; each is checked when it arrives.",
                id=ids.UPLOAD_HINT,
                className="small text-muted",
            ),
            html.Div(id=ids.UPLOAD_STATUS, className="small mt-1", role="status"),
            html.Div(id=ids.UPLOAD_LIST, className="mt-1"),
        ],
        id=ids.UPLOAD_CARD,
        className="border rounded p-2 mb-2",
        **data,
    )
