"""The Admin tab's Projects card: the projects an admin may change, and a form to make one
or change the chosen one (name, slug, image source, labels, work settings, members)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from domain.accounts import Role
from domain.projects import NUMBERS, SUGGESTION_MODES, Member, Project

NEW = ""  # the pick that means "a new project"
MEMBER_ROWS = 3  # empty member rows a new form starts with


def source_text(project: Project) -> str:
    """Where a project's images come from, for the list ('environment' when unset)."""
    return project.image_source or "IMAGE_SOURCE (environment)"


def labels_text(project: Project) -> str:
    """The project's labels as the form's comma list ('' when the environment's)."""
    return ", ".join(label.name for label in project.labels or ())


def members_text(project: Project) -> str:
    """Who works in a project, for the list."""
    people = ", ".join(f"{m.account} ({m.role.value})" for m in project.members)
    if project.open_to_all:
        return f"every account{'; ' + people if people else ''}"
    return people or "admins only"


def projects_table(projects: Sequence[Project]) -> html.Div:
    """The projects with their slug, image source, labels and members."""
    if not projects:
        return html.Div("No project you may change.", className="text-muted")
    head = html.Thead(
        html.Tr([html.Th(t) for t in ("Name", "Slug", "Images", "Labels", "Members")])
    )
    body = [
        html.Tr(
            [
                html.Td(p.name),
                html.Td(p.slug, className="font-monospace"),
                html.Td(source_text(p), className="text-break"),
                html.Td(labels_text(p) or "LABELS (environment)"),
                html.Td(members_text(p)),
            ]
        )
        for p in projects
    ]
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm mb-0"))


def pick_options(projects: Sequence[Project], may_create: bool) -> list[dict[str, str]]:
    """The form's choice: a new project (global admins only), or one to change."""
    new = [{"label": "New project", "value": NEW}] if may_create else []
    return new + [{"label": f"{p.name} ({p.slug})", "value": p.slug} for p in projects]


def member_row(index: int, account: str = "", role: str = Role.ANNOTATOR.value) -> dbc.Row:
    """One member: an account name (suggested from the known accounts) and a role."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.Input(
                    id={"type": ids.ADMIN_PROJECT_MEMBER_ACCOUNT, "index": index},
                    value=account,
                    placeholder="Account",
                    list=ids.ADMIN_PROJECT_ACCOUNTS,
                    autoComplete="off",
                    size="sm",
                )
            ),
            dbc.Col(
                dbc.Select(
                    id={"type": ids.ADMIN_PROJECT_MEMBER_ROLE, "index": index},
                    options=[{"label": r.value, "value": r.value} for r in Role],
                    value=role,
                    size="sm",
                )
            ),
        ],
        className="g-2 mb-1",
    )


def member_rows(members: Sequence[Member], spare: int = 1) -> list[dbc.Row]:
    """A row per member, then `spare` empty ones to add people in."""
    rows = [member_row(n, m.account, m.role.value) for n, m in enumerate(members)]
    return rows + [member_row(len(members) + n) for n in range(spare)]


def form_values(project: Project | None) -> tuple[Any, ...]:
    """What the form shows for a project (None: a new one): name, slug, slug locked, image
    source, labels, per image, claim minutes, repeats, suggestions, open to all, members
    may upload, member rows, version. A setting the project leaves to the environment
    shows blank."""
    if project is None:
        return (
            "",
            "",
            False,
            "",
            "",
            None,
            None,
            None,
            "",
            False,
            False,
            member_rows((), MEMBER_ROWS),
            None,
        )
    return (
        project.name,
        project.slug,
        True,
        project.image_source or "",
        labels_text(project),
        project.annotators_per_image,
        project.claim_minutes,
        project.repeat_percent,
        project.suggestions or "",
        project.open_to_all,
        project.members_upload,
        member_rows(project.members),
        project.version,
    )


def _field(label: str, control: object, width: int | None = None) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-0"), control], md=width)


def _number_input(component_id: str, key: str) -> dbc.Input:
    """A whole-number setting's input, within the range the project's checks allow."""
    low, high = next((low, high) for name, _what, low, high in NUMBERS if name == key)
    return dbc.Input(
        id=component_id, type="number", min=low, max=high, step=1, placeholder="environment's"
    )


def projects_card() -> dbc.Card:
    """The list of projects and the form that makes or changes one."""
    settings_row = dbc.Row(
        [
            *(
                _field(title, _number_input(component, key))
                for title, component, key in (
                    (
                        "Annotators per image (0: all)",
                        ids.ADMIN_PROJECT_PER_IMAGE,
                        "annotators_per_image",
                    ),
                    ("Claim lasts (minutes)", ids.ADMIN_PROJECT_CLAIM, "claim_minutes"),
                    ("Repeats (% of Next)", ids.ADMIN_PROJECT_REPEATS, "repeat_percent"),
                )
            ),
            _field(
                "Suggestions",
                dbc.Select(
                    id=ids.ADMIN_PROJECT_SUGGESTIONS,
                    options=[{"label": "environment's", "value": ""}]
                    + [{"label": m, "value": m} for m in SUGGESTION_MODES],
                    value="",
                ),
            ),
        ],
        className="g-2 mb-2",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6("Projects", className="card-title"),
                dcc.Store(id=ids.ADMIN_PROJECT_CHANGED),
                dcc.Store(id=ids.ADMIN_PROJECT_VERSION),
                html.Div(id=ids.ADMIN_PROJECTS, className="small"),
                html.Hr(),
                _field(
                    "Make or change",
                    dbc.Select(id=ids.ADMIN_PROJECT_PICK, options=[], value=NEW),
                    6,
                ),
                dbc.Row(
                    [
                        _field(
                            "Name",
                            dbc.Input(id=ids.ADMIN_PROJECT_NAME, maxLength=80, autoComplete="off"),
                        ),
                        _field(
                            "Slug (its address; fixed once made)",
                            dbc.Input(
                                id=ids.ADMIN_PROJECT_SLUG,
                                maxLength=40,
                                placeholder="e.g. street-scenes",
                                autoComplete="off",
                            ),
                        ),
                    ],
                    className="g-2 my-2",
                ),
                _field(
                    "Images: a folder below the image root, or s3://bucket/prefix",
                    dbc.Input(
                        id=ids.ADMIN_PROJECT_SOURCE,
                        placeholder="e.g. street/2026 or s3://bucket/street",
                        autoComplete="off",
                    ),
                ),
                _field(
                    "Labels (comma separated, in button order)",
                    dbc.Input(
                        id=ids.ADMIN_PROJECT_LABELS,
                        placeholder="e.g. car, person, bicycle",
                        autoComplete="off",
                    ),
                ),
                html.P(
                    "A blank setting follows the environment: the default project keeps "
                    "following it, another project takes the environment's value of now. "
                    "The Image assignment card above sets the same three values for the "
                    "project the page is in.",
                    className="small text-muted mt-2 mb-1",
                ),
                settings_row,
                dbc.Checkbox(
                    id=ids.ADMIN_PROJECT_OPEN,
                    label="Open to every account (each with their own role)",
                    value=False,
                ),
                dbc.Checkbox(
                    id=ids.ADMIN_PROJECT_UPLOAD,
                    label="Members may upload images (else only its admins)",
                    value=False,
                ),
                dbc.Label("Members (empty the name to remove one)", className="small mb-0 mt-2"),
                html.Datalist(id=ids.ADMIN_PROJECT_ACCOUNTS),
                html.Div(id=ids.ADMIN_PROJECT_MEMBERS, children=member_rows((), MEMBER_ROWS)),
                dbc.Button(
                    "Add member row",
                    id=ids.ADMIN_PROJECT_ADD_MEMBER,
                    color="secondary",
                    outline=True,
                    size="sm",
                ),
                html.Div(
                    dbc.Button(
                        "Save project", id=ids.ADMIN_PROJECT_SAVE, color="primary", size="sm"
                    ),
                    className="mt-2",
                ),
                html.Div(id=ids.ADMIN_PROJECT_RESULT, className="small mt-2"),
            ]
        ),
        className="mb-3",
    )


def account_options(names: Sequence[str]) -> list[html.Option]:
    """The datalist of accounts a member row suggests."""
    return [html.Option(value=name) for name in names]
