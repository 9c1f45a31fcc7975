"""The page: header with identity, then tabs: Annotate (label picker, figure, grid,
navigation, feedback), Gallery, Label QA, and for reviewers Review and Agreement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.admin_tab import admin_tab
from components.agreement_tab import agreement_tab
from components.exchange_panel import exchange_panel
from components.figure import GRAPH_CONFIG, WAITING_FIGURE
from components.gallery_tab import gallery_tab
from components.grid import SINGLE_ROW_SELECTION, column_defs
from components.lazy_pane import after_picture, tab_pane
from components.qa_tab import qa_tab
from components.review_tab import review_tab
from components.suggestions import suggestions_panel
from domain.accounts import LOCAL, Role, Viewer
from domain.labels import Label, hotkeys, offered


def _identity(viewer: Viewer) -> list[object]:
    """Signed in: the name, role and Sign out. Local mode: says so, and Change name."""
    if viewer.signed_in:
        return [
            html.Span(
                f"Signed in as {viewer.name} · {viewer.role.value}",
                id=ids.SIGNED_IN_AS,
                className="me-2 text-light",
            ),
            # A form, not a link: sign-out is a POST carrying the session's token, so
            # another site (or a prefetching browser) cannot sign anyone out.
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=viewer.csrf_token),
                    html.Button(
                        "Sign out",
                        type="submit",
                        id=ids.SIGN_OUT,
                        className="btn btn-sm btn-outline-light",
                    ),
                ],
                action="/logout",
                method="POST",
                className="m-0",
            ),
        ]
    return [
        html.Span(
            "Local mode: no sign-in",
            id=ids.LOCAL_MODE,
            className="badge text-bg-secondary me-2",
            title="Anyone who can open this page can annotate under any name. Set USERS_FILE "
            "(python cli.py add-user) to require sign-in.",
        ),
        html.Span(id=ids.ANNOTATOR_BADGE, className="me-2 text-light"),
        dbc.Button("Change name", id=ids.CHANGE_NAME, size="sm", outline=True, color="light"),
    ]


@dataclass(frozen=True)
class PageProject:
    """The project a page works in, the others its viewer may switch to, and a note when
    the address asked for one they may not open."""

    slug: str = "default"
    name: str = "Default project"
    choices: tuple[tuple[str, str], ...] = field(default=())  # (slug, name), in order
    note: str = ""
    image: str | None = None  # the image the page's address names (?image=key)
    members_upload: bool = False  # its members, not only admins, may upload images


def project_link(slug: str, image: str | None = None) -> str:
    """The address of a project's page (opened on an image, if given)."""
    query = {"project": slug} | ({"image": image} if image else {})
    return "/?" + urlencode(query)


def _project_switcher(project: PageProject) -> object:
    """The project's name; a menu of the viewer's other projects when they have some
    (each a link: the page is built anew for the project)."""
    if len(project.choices) <= 1:
        return html.Span(project.name, id=ids.PROJECT_NAME, className="text-light me-3")
    items = [
        dbc.DropdownMenuItem(
            name,
            href=project_link(slug),
            external_link=True,
            active=slug == project.slug,
            id={"type": ids.PROJECT_CHOICE, "index": slug},
        )
        for slug, name in project.choices
    ]
    return dbc.DropdownMenu(
        items,
        label=project.name,
        id=ids.PROJECT_MENU,
        size="sm",
        color="dark",
        className="me-3",
        toggle_class_name="text-light",
    )


def _header(viewer: Viewer, project: PageProject) -> dbc.Navbar:
    exchange = dbc.Button(
        "Import / Export" if viewer.may(Role.ADMIN) else "Export",
        id=ids.EXCHANGE_OPEN,
        size="sm",
        outline=True,
        color="light",
        className="me-3",
    )
    return dbc.Navbar(
        dbc.Container(
            [
                html.Div(
                    [dbc.NavbarBrand("Concord", className="fw-bold"), _project_switcher(project)],
                    className="d-flex align-items-center",
                ),
                html.Div(
                    [exchange] * viewer.may(Role.REVIEWER) + _identity(viewer),
                    className="d-flex align-items-center",
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-2",
    )


def _name_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Who is annotating?"), close_button=False),
            dbc.ModalBody(
                [
                    html.P(
                        "Your name is stored with every shape you draw, so agreement "
                        "between annotators can be measured. You only see your own shapes."
                    ),
                    dbc.Input(
                        id=ids.NAME_INPUT,
                        placeholder="Your name or initials",
                        maxLength=64,
                        autoFocus=True,
                        debounce=False,
                    ),
                    html.Div(id=ids.NAME_ERROR, className="text-danger small mt-1"),
                ]
            ),
            dbc.ModalFooter(dbc.Button("Start annotating", id=ids.NAME_SAVE, color="primary")),
        ],
        id=ids.NAME_MODAL,
        is_open=False,
        backdrop="static",
        keyboard=False,
    )


def _label_title(label: Label, key: str | None) -> str | None:
    """A label button's tooltip: its description (annotation guidelines) and its key."""
    parts = [label.description] if label.description else []
    if key:
        parts.append(f"Key {key}")
    return " · ".join(parts) or None


def _label_picker(labels: tuple[Label, ...]) -> html.Div:
    keys = hotkeys(labels)
    buttons = [
        dbc.Button(
            [
                html.Span(f"{keys.get(label.name, '')} ", className="opacity-75 small label-key"),
                label.name,
            ],
            id={"type": ids.LABEL_BUTTON, "index": label.name},
            className="label-button me-1 mb-1",
            size="sm",
            outline=True,
            style={"borderColor": label.color, "--label-color": label.color},
            title=_label_title(label, keys.get(label.name)),
        )
        for label in offered(labels)  # a retired label stays on old shapes, offered no more
    ]
    return html.Div(
        [html.Span("Label: ", className="me-2 fw-semibold"), *buttons],
        className="d-flex flex-wrap align-items-center",
    )


def _selector(component_id: str, placeholder: str, min_width: str) -> dcc.Dropdown:
    """A searchable dropdown whose options a callback fills in."""
    return dcc.Dropdown(
        id=component_id,
        options=[],
        clearable=False,
        searchable=True,
        placeholder=placeholder,
        style={"minWidth": min_width},
    )


def _batch_bar() -> html.Div:
    return html.Div(
        [
            html.Span("Batch: ", className="me-2 fw-semibold"),
            _selector(ids.BATCH, "Batch…", "14rem"),
            dbc.Button(
                "Refresh",
                id=ids.REFRESH,
                size="sm",
                color="secondary",
                outline=True,
                className="ms-2",
                title="List the source again (new or removed images)",
            ),
        ],
        className="d-flex align-items-center mb-2",
    )


def _navigation() -> html.Div:
    return html.Div(
        [
            dbc.ButtonGroup(
                [
                    dbc.Button("◀ Previous", id=ids.PREV, color="secondary", title="← or p"),
                    dbc.Button("Next ▶", id=ids.NEXT, color="primary", title="→ or n"),
                ],
                className="me-2",
            ),
            html.Span(id=ids.POSITION_TEXT, className="me-3 fw-semibold"),
            dbc.Button(
                "No objects",
                id=ids.NO_OBJECTS,
                color="info",
                outline=True,
                className="me-1",
                title="I looked and there is nothing to label",
            ),
            dbc.Button("Skip", id=ids.SKIP, color="warning", outline=True, className="me-3"),
            _selector(ids.JUMP, "Jump: name or number…", "16rem"),
        ],
        className="d-flex flex-wrap align-items-center gap-1 mt-2",
    )


def _history() -> html.Div:
    """Undo and the image's history of your changes (read only while it is open)."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "↶ Undo my last change",
                        id=ids.HISTORY_UNDO,
                        size="sm",
                        color="secondary",
                        outline=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "History", id=ids.HISTORY_OPEN, size="sm", color="link", className="p-0"
                    ),
                ],
                className="mt-2",
            ),
            dbc.Collapse(
                html.Div(id=ids.HISTORY_LIST, className="small mt-1 history-list"),
                id=ids.HISTORY_COLLAPSE,
                is_open=False,
            ),
        ]
    )


GRAPH_HEIGHT = "68vh"  # the figure's; the side column keeps it while it waits


def _annotate_view(labels: tuple[Label, ...]) -> dbc.Row:
    """The Annotate tab: batch, label picker, figure and navigation beside the grid."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    _batch_bar(),
                    dbc.Alert(id=ids.REWORK_NOTICE, color="warning", is_open=False),
                    _label_picker(labels),
                    dcc.Graph(
                        id=ids.GRAPH,
                        figure=WAITING_FIGURE,
                        config=GRAPH_CONFIG,
                        style={"height": GRAPH_HEIGHT},
                        className="border",
                    ),
                    _navigation(),
                ],
                lg=7,
            ),
            dbc.Col(
                # The side column (suggestions, the shapes table, history, progress) is
                # built once the first picture is on screen: the picture comes first.
                after_picture(
                    ids.SIDE_PANE,
                    [
                        suggestions_panel(),
                        html.H6("Your annotations on this image"),
                        dag.AgGrid(
                            id=ids.GRID,
                            columnDefs=column_defs(labels),
                            rowData=[],
                            getRowId="params.data.id",
                            columnSize="responsiveSizeToFit",
                            defaultColDef={
                                "resizable": True,
                                "sortable": False,
                                "suppressMovable": True,
                            },
                            dashGridOptions={
                                "rowSelection": SINGLE_ROW_SELECTION,
                                "stopEditingWhenCellsLoseFocus": True,
                                "singleClickEdit": False,
                                "localeText": {"noRowsToShow": "Draw a shape on the image"},
                                "tooltipShowDelay": 300,
                            },
                            style={"height": "48vh"},
                        ),
                        html.Div(
                            [
                                dbc.Button(
                                    "Delete selected",
                                    id=ids.DELETE_ROWS,
                                    color="danger",
                                    outline=True,
                                    size="sm",
                                ),
                                html.Div(
                                    [
                                        html.Span(id=ids.SAVE_STATUS, className="small"),
                                        dbc.Button(
                                            "Retry",
                                            id=ids.RETRY,
                                            size="sm",
                                            color="danger",
                                            className="ms-2",
                                            style={"display": "none"},
                                        ),
                                    ]
                                ),
                            ],
                            className="d-flex justify-content-between align-items-center mt-2",
                        ),
                        _history(),
                        html.Hr(),
                        html.H6("Your progress"),
                        html.Div(id=ids.PROGRESS),
                        html.Div(id=ids.PROGRESS_TEXT, className="small text-muted"),
                    ],
                    GRAPH_HEIGHT,
                ),
                lg=5,
            ),
        ]
    )


def _lazy_tab(content: Any, label: str, tab_id: str) -> dbc.Tab:
    """A tab other than Annotate: its content is mounted when the tab is first opened."""
    return dbc.Tab(tab_pane(tab_id, content), label=label, tab_id=tab_id)


def build_layout(
    labels: tuple[Label, ...], viewer: Viewer = LOCAL, project: PageProject | None = None
) -> html.Div:
    """The whole page for this viewer; nothing in it depends on the image source, which
    callbacks list. Parts the viewer's role may not use are left out (the server refuses
    their callbacks anyway)."""
    project = project or PageProject()
    gallery = gallery_tab(viewer, project.slug, project.members_upload)
    tabs = [
        dbc.Tab(_annotate_view(labels), label="Annotate", tab_id=ids.TAB_ANNOTATE),
        _lazy_tab(gallery, "Gallery", ids.TAB_GALLERY),
        _lazy_tab(qa_tab(viewer, labels), "Label QA", ids.TAB_QA),
    ]
    if viewer.may(Role.REVIEWER):
        tabs.append(_lazy_tab(review_tab(labels), "Review", ids.TAB_REVIEW))
        tabs.append(_lazy_tab(agreement_tab(), "Agreement", ids.TAB_AGREEMENT))
    if viewer.may(Role.ADMIN):
        admin = admin_tab(viewer.manages_deployment)
        tabs.append(_lazy_tab(admin, "Admin", ids.TAB_ADMIN))
    if viewer.signed_in:  # the name is the session's; the browser cannot change it
        who = dcc.Store(id=ids.ANNOTATOR, storage_type="memory", data=viewer.name)
    else:
        who = dcc.Store(id=ids.ANNOTATOR, storage_type="local")
    return html.Div(
        [
            dcc.Store(id=ids.PROJECT, data=project.slug),
            dcc.Store(id=ids.LINK, data={"key": project.image} if project.image else None),
            who,
            dcc.Store(id=ids.POSITION, storage_type="local"),
            dcc.Store(id=ids.LABEL, storage_type="local", data=offered(labels)[0].name),
            dcc.Store(id=ids.IMAGE),
            dcc.Store(id=ids.RECORDS, storage_type="local"),
            dcc.Store(id=ids.TAB_ID, data=uuid.uuid4().hex),
            dcc.Store(id=ids.PREFETCH),
            dcc.Store(id=ids.PREFETCHED),
            dcc.Store(id=ids.FITTED),
            dcc.Store(id=ids.TIME_SPENT),
            dcc.Store(id=ids.PROGRESS_SEEN),
            dcc.Store(id=ids.PROGRESS_ASK),
            dcc.Store(id=ids.HISTORY_ASK),
            dcc.Store(id=ids.GRAPH_EDIT),
            dcc.Store(id=ids.RENDER_ASK),
            dcc.Store(id=ids.RENDERED),
            dcc.Store(id=ids.OPEN_IMAGE),
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Interval(id=ids.RETRY_TIMER, interval=5000, disabled=True),
            _header(viewer, project),
            *([] if viewer.signed_in else [_name_modal()]),
            *(
                [exchange_panel(with_import=viewer.may(Role.ADMIN))]
                if viewer.may(Role.REVIEWER)
                else []
            ),
            dbc.Container(
                [
                    dbc.Alert(
                        project.note,
                        id=ids.PROJECT_NOTE,
                        color="warning",
                        is_open=bool(project.note),
                        dismissable=True,
                    ),
                    dbc.Alert(id=ids.SOURCE_WARNING, color="warning", is_open=False),
                    dbc.Alert(id=ids.MESSAGE, color="danger", is_open=False, dismissable=True),
                    dbc.Tabs(
                        tabs,
                        id=ids.TABS,
                        active_tab=ids.TAB_ANNOTATE,
                        class_name="mb-2",
                    ),
                ],
                fluid=True,
            ),
        ]
    )


def no_project_page(viewer: Viewer, note: str) -> html.Div:
    """The page for someone who may open no project: says so, and lets them sign out."""
    return html.Div(
        [
            dcc.Store(id=ids.PROJECT, data=None),
            _header(viewer, PageProject("", "No project")),
            dbc.Container(
                dbc.Alert(
                    [
                        html.P(note, className="mb-1") if note else None,
                        html.P(
                            "You are not a member of any project yet. Ask an admin to add "
                            "you to one.",
                            className="mb-0",
                        ),
                    ],
                    id=ids.PROJECT_NOTE,
                    color="warning",
                ),
                fluid=True,
            ),
        ]
    )
