"""Active time per image: the browser measures (assets/activity.js), the server adds up,
never more than the wall-clock time of the visit it noted (storage.visits)."""

from __future__ import annotations

import logging
from typing import Any

from dash import ClientsideFunction, Input, Output, clientside_callback, no_update
from dash.exceptions import PreventUpdate

from auth.scoped import callback
from auth.session import acts_as
from components import ids
from storage.errors import StorageError
from storage.runtime import current
from storage.visits import Visits

log = logging.getLogger("concord.activity")
MAX_SECONDS = 4 * 3600  # one visit; more is a page left open, not work

clientside_callback(
    ClientsideFunction(namespace="concord", function_name="timeSpent"),
    Output(ids.TIME_SPENT, "data"),
    Input(ids.IMAGE, "data"),
    Input(ids.ANNOTATOR, "data"),
)


def valid_time(spent: Any) -> tuple[str, str, float] | None:
    """(key, annotator, seconds) of a time report, or None when it is malformed."""
    if not isinstance(spent, dict):
        return None
    key, who, seconds = spent.get("key"), spent.get("annotator"), spent.get("seconds")
    if not (isinstance(key, str) and key and isinstance(who, str) and who):
        return None
    if not isinstance(seconds, int | float) or not 0 < seconds <= MAX_SECONDS:
        return None
    return key, who, float(seconds)


@callback(
    Output(ids.TIME_SPENT, "clear_data"),
    Input(ids.TIME_SPENT, "data"),
    prevent_initial_call=True,  # nothing is reported before an image is left
)
def record_time(spent: Any) -> object:
    """Add the seconds spent on the image just left, at most the time since the server
    served it (once per visit); a lost report costs only a statistic."""
    checked = valid_time(spent)
    if checked is None or not acts_as(checked[1]):
        raise PreventUpdate  # malformed, or a report in someone else's name
    key, who, claimed = checked
    seconds = Visits(current().images.cache).report(key, who, claimed)
    if seconds is None:
        log.info("time spent on %s not recorded: no visit of %s to it is open", key, who)
        raise PreventUpdate
    try:
        current().store.add_active_time(key, who, seconds)
    except StorageError as exc:
        log.warning("time spent on %s not recorded: %s", checked[0], exc)
    return no_update  # the report stays: clearing it would send this callback again
