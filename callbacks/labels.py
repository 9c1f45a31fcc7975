"""The label picker: buttons (and keys 1-9, via assets/keyboard.js) choose the drawing label.

Both run in the browser (assets/label_picker.js): a label click asks nothing of the server,
and the page's load one request less."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback

from components import ids

BUTTONS = {"type": ids.LABEL_BUTTON, "index": ALL}

# The clicked button's label.
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="pickLabel"),
    Output(ids.LABEL, "data"),
    Input(BUTTONS, "n_clicks"),
    prevent_initial_call=True,
)

# Fill the selected label's button with its colour (its border's); outline the others.
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="markLabel"),
    Output(BUTTONS, "outline"),
    Output(BUTTONS, "style"),
    Input(ids.LABEL, "data"),
    State(BUTTONS, "id"),
    State(BUTTONS, "style"),
)
