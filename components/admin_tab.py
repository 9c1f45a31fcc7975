"""The Admin tab: accounts (add, change role or password, remove), image assignment,
projects (components.admin_projects) and the detector (pre-annotate, train:
components.model_jobs)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.admin_projects import projects_card
from components.label_set_editor import label_set_card
from components.model_jobs import model_jobs_card
from domain.accounts import Account, Role


def _accounts_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Accounts", className="card-title"),
                html.Div(id=ids.ADMIN_USERS, className="small"),
                html.Hr(),
                html.P(
                    "Add an account, or give an existing one a new role or password (leave "
                    "the password empty to keep it). Accounts from USERS_FILE or USERS are "
                    "changed there, with python cli.py add-user.",
                    className="small text-muted",
                ),
                dbc.Form(
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Input(
                                    id=ids.ADMIN_USER_NAME,
                                    placeholder="Name",
                                    maxLength=64,
                                    autoComplete="off",
                                )
                            ),
                            dbc.Col(
                                dcc.Dropdown(
                                    id=ids.ADMIN_USER_ROLE,
                                    options=[{"label": r.value, "value": r.value} for r in Role],
                                    value=Role.ANNOTATOR.value,
                                    clearable=False,
                                    searchable=False,
                                )
                            ),
                            dbc.Col(
                                dbc.Input(
                                    id=ids.ADMIN_USER_PASSWORD,
                                    type="password",
                                    placeholder="Password (8+ characters)",
                                    autoComplete="new-password",
                                )
                            ),
                        ],
                        className="g-2",
                    ),
                    prevent_default_on_submit=True,
                ),
                html.Div(
                    [
                        dbc.Button(
                            "Save account", id=ids.ADMIN_USER_SAVE, color="primary", size="sm"
                        ),
                        dbc.Button(
                            "Remove account",
                            id=ids.ADMIN_USER_REMOVE,
                            color="danger",
                            outline=True,
                            size="sm",
                            className="ms-2",
                        ),
                    ],
                    className="mt-2",
                ),
                html.Div(id=ids.ADMIN_USER_RESULT, className="small mt-2"),
            ]
        ),
        className="mb-3",
    )


def _assignment_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Image assignment", className="card-title"),
                html.P(
                    "How many annotators each image gets: leave empty for everyone sees every "
                    "image; 1 means nobody is given an image someone else holds. Saved "
                    "values win over ANNOTATORS_PER_IMAGE and CLAIM_MINUTES and apply to the "
                    "next Next of every annotator. Repeats: that share of Next presses brings "
                    "back one of the annotator's finished images, unannounced, to measure how "
                    "well they agree with themselves (Agreement tab).",
                    className="small text-muted",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Annotators per image", className="small mb-0"),
                                dbc.Input(
                                    id=ids.ADMIN_PER_IMAGE,
                                    type="number",
                                    min=1,
                                    max=100,
                                    step=1,
                                    placeholder="everyone",
                                ),
                            ]
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Claim lasts (minutes)", className="small mb-0"),
                                dbc.Input(
                                    id=ids.ADMIN_CLAIM_MINUTES, type="number", min=1, max=1440
                                ),
                            ]
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Repeats (% of Next)", className="small mb-0"),
                                dbc.Input(
                                    id=ids.ADMIN_REPEAT_PERCENT, type="number", min=0, max=50
                                ),
                            ]
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Button(
                    "Save assignment",
                    id=ids.ADMIN_SETTINGS_SAVE,
                    color="primary",
                    size="sm",
                    className="mt-2",
                ),
                html.Div(id=ids.ADMIN_SETTINGS_RESULT, className="small mt-2"),
            ]
        )
    )


def admin_tab(manages_deployment: bool = True) -> html.Div:
    """Accounts beside assignment settings, the projects, the label set; the detector under
    them. Accounts and projects are for admins of the whole deployment only (an admin of
    one project manages that project)."""
    deployment = [_accounts_card()] if manages_deployment else []
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_CHANGED),
            dbc.Row(
                [dbc.Col(card, lg=7) for card in deployment] + [dbc.Col(_assignment_card(), lg=5)]
            ),
            *([projects_card()] if manages_deployment else []),
            label_set_card(),
            model_jobs_card(),
        ],
        className="mt-2",
    )


def accounts_table(rows: list[tuple[Account, str]], sign_in_on: bool) -> html.Div:
    """Every account with its role and where it is kept."""
    note = (
        []
        if sign_in_on
        else [
            dbc.Alert(
                "Sign-in is off (local mode): accounts take effect once USERS_FILE or USERS "
                "is set.",
                color="secondary",
                className="py-1 small",
            )
        ]
    )
    if not rows:
        return html.Div([*note, html.Span("No accounts yet.", className="text-muted")])
    body = [
        html.Tr([html.Td(a.name), html.Td(a.role.value), html.Td(origin, className="text-muted")])
        for a, origin in rows
    ]
    head = html.Thead(html.Tr([html.Th("Name"), html.Th("Role"), html.Th("Kept in")]))
    return html.Div([*note, html.Table([head, html.Tbody(body)], className="table table-sm mb-0")])
