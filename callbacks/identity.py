"""Who is annotating: asked once, remembered in the browser's local storage, changeable."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, clientside_callback, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import sign_in_required
from components import ids
from domain.errors import AnnotatorNameError
from domain.identity import clean_annotator_name

# The name dialog opens while no name is known, or on "Change name" (in the browser:
# assets/label_picker.js; the id "change-name" is ids.CHANGE_NAME).
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="nameDialog"),
    Output(ids.NAME_MODAL, "is_open"),
    Output(ids.NAME_INPUT, "value"),
    Input(ids.ANNOTATOR, "data"),
    Input(ids.CHANGE_NAME, "n_clicks"),
)


@callback(
    Output(ids.ANNOTATOR, "data"),
    Output(ids.NAME_ERROR, "children"),
    Input(ids.NAME_SAVE, "n_clicks"),
    Input(ids.NAME_INPUT, "n_submit"),
    State(ids.NAME_INPUT, "value"),
    prevent_initial_call=True,
)
def save_name(_clicks: int | None, _submit: int | None, value: str | None) -> tuple[object, str]:
    """Store a valid name, or explain what is wrong with it."""
    if not (_clicks or _submit) or sign_in_required():
        raise PreventUpdate  # with sign-in on, the name is the account's
    try:
        return clean_annotator_name(value), ""
    except AnnotatorNameError as exc:
        return no_update, str(exc)


# The header's "annotating as" text.
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="annotatorBadge"),
    Output(ids.ANNOTATOR_BADGE, "children"),
    Input(ids.ANNOTATOR, "data"),
)
