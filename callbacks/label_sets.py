"""The Admin tab's Label set card: list the page's project's labels, and add, edit, rename,
retire or bring back, and reorder them (admins of the project; the request guard refuses
everyone else, and the callback checks again)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import acting_annotator, may
from components import ids
from components.label_set_editor import label_rows
from domain.accounts import Role
from domain.errors import DomainError
from storage.errors import StorageError
from storage.label_rename import stored_label_counts
from storage.runtime import Services, current
from workflows import label_sets

EDITABLE = ("color", "hotkey", "description")


def _said(text: str, ok: bool = True) -> html.Span:
    return html.Span(text, className="text-success" if ok else "text-danger")


def _selected(rows: Any) -> str | None:
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        name = rows[0].get("name")
        return name if isinstance(name, str) else None
    return None


def _moved(services: Services, name: str | None, step: int) -> dict[str, object]:
    """The order with the named label one place up (-1) or down (+1)."""
    names = [label.name for label in services.settings.labels]
    if name not in names:
        raise DomainError("select a label in the table first")
    at = names.index(name)
    to = min(max(at + step, 0), len(names) - 1)
    names.insert(to, names.pop(at))
    return {"names": names}


def label_change(
    services: Services,
    trigger: str,
    version: int,
    selected: str | None,
    new_name: Any,
    rename_to: Any,
    edits: Any,
) -> str:
    """Carry out the change the trigger asks for; the sentence saying what happened.
    Raises DomainError (or StorageError) with why it cannot be done."""
    if trigger == ids.ADMIN_LABELS_ADD:
        label_sets.change_labels(services, "add", version, {"name": new_name})
        return f"Added {str(new_name).strip()}."
    if trigger == ids.ADMIN_LABELS_GRID:
        edit = edits[0] if isinstance(edits, list) and edits else None
        if not isinstance(edit, dict) or edit.get("colId") not in EDITABLE:
            raise PreventUpdate
        row = edit.get("data") if isinstance(edit.get("data"), dict) else {}
        values = {key: row.get(key, "") for key in ("name", *EDITABLE)}
        label_sets.change_labels(services, "edit", version, values)
        return f"Saved {values['name']}."
    if selected is None:
        raise DomainError("select a label in the table first")
    if trigger == ids.ADMIN_LABELS_RENAME:
        actor = acting_annotator(None) or "admin"
        moved = label_sets.rename_label(services, selected, rename_to, version, actor)
        return f"Renamed {selected} to {str(rename_to).strip()}: {moved} stored shape(s) followed."
    if trigger == ids.ADMIN_LABELS_RETIRE:
        labels = services.settings.labels
        retired = next((lab.retired for lab in labels if lab.name == selected), False)
        label_sets.change_labels(
            services, "restore" if retired else "retire", version, {"name": selected}
        )
        return f"Brought back {selected}." if retired else f"Retired {selected}."
    step = -1 if trigger == ids.ADMIN_LABELS_UP else 1
    label_sets.change_labels(services, "order", version, _moved(services, selected, step))
    return f"Moved {selected} {'up' if step < 0 else 'down'}."


@callback(
    Output(ids.ADMIN_LABELS_GRID, "rowData"),
    Output(ids.ADMIN_LABELS_VERSION, "data"),
    Output(ids.ADMIN_LABELS_RESULT, "children"),
    Output(ids.ADMIN_LABELS_GRID, "selectedRows"),
    Input(ids.TABS, "active_tab"),
    Input(ids.ADMIN_LABELS_ADD, "n_clicks"),
    Input(ids.ADMIN_LABELS_RENAME, "n_clicks"),
    Input(ids.ADMIN_LABELS_RETIRE, "n_clicks"),
    Input(ids.ADMIN_LABELS_UP, "n_clicks"),
    Input(ids.ADMIN_LABELS_DOWN, "n_clicks"),
    Input(ids.ADMIN_LABELS_GRID, "cellValueChanged"),
    State(ids.ADMIN_LABELS_VERSION, "data"),
    State(ids.ADMIN_LABELS_GRID, "selectedRows"),
    State(ids.ADMIN_LABELS_NEW, "value"),
    State(ids.ADMIN_LABELS_RENAME_TO, "value"),
    prevent_initial_call=True,  # filled when the Admin tab opens
)
def edit_label_set(
    active: Any,
    _add: Any,
    _rename: Any,
    _retire: Any,
    _up: Any,
    _down: Any,
    edits: Any,
    version: Any,
    selected_rows: Any,
    new_name: Any,
    rename_to: Any,
) -> tuple[object, ...]:
    """Show the label set when the Admin tab opens; carry out a change and show the set
    as stored after it (a refused change leaves it as it was, with the reason)."""
    trigger = ctx.triggered_id
    if active != ids.TAB_ADMIN or not may(Role.ADMIN):
        raise PreventUpdate
    services = current()
    said: object = ""
    selected = _selected(selected_rows)
    if trigger != ids.TABS:
        if not isinstance(version, int):
            raise PreventUpdate  # the grid was never shown
        try:
            said = _said(
                label_change(services, trigger, version, selected, new_name, rename_to, edits)
            )
        except (DomainError, StorageError) as exc:
            said = _said(str(exc), ok=False)
        services = current()  # the set as stored now
    try:
        counts = stored_label_counts(services.store.engine)
    except StorageError as exc:
        return no_update, no_update, _said(str(exc), ok=False), no_update
    labels = services.settings.labels
    rows = label_rows(labels, counts)
    keep = [row for row in rows if row["name"] == selected] or no_update
    return rows, services.project.version, said, keep
