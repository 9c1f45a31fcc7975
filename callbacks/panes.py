"""When the browser builds what the page holds (components/lazy_pane.py), in the browser
only: a tab's content the first time the tab is opened, the Annotate view's side column
(suggestions, the shapes table, history, progress) once the first picture shows."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback

from components import ids

clientside_callback(
    ClientsideFunction(namespace="concord", function_name="showOpenedPane"),
    Output({"type": ids.LAZY_PANE, "tab": ALL}, "shown"),
    Input(ids.TABS, "active_tab"),
    State({"type": ids.LAZY_PANE, "tab": ALL}, "shown"),
    prevent_initial_call=True,
)

# The side column is built once the first picture is on screen (at once for a figure with
# no picture, at the latest 1.5 s after the figure arrived).
clientside_callback(
    ClientsideFunction(namespace="concord", function_name="showAfterPicture"),
    Output(ids.SIDE_PANE, "shown"),
    Input(ids.GRAPH, "figure"),
    State(ids.SIDE_PANE, "shown"),
    prevent_initial_call=True,
)
