"""HTTP hygiene at the edge of the server, with or without accounts: security headers on
every answer, a cap on request bodies, short plain-text error answers (never a traceback
or a server path), and a check of a Dash callback request's shape before Dash reads it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("concord.http")

CALLBACK_PATH = "/_dash-update-component"
MEGABYTE = 1024 * 1024
# An admin's import arrives base64 inside a callback body (4/3 of the file, plus JSON):
# 150 MB takes a dataset archive of about 110 MB; bigger ones go through `cli.py import`.
MAX_REQUEST_BYTES = 150 * MEGABYTE

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",  # no page of Concord inside another site's frame
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",  # an image or text answer is never run as script
    # The page's full address goes with its own requests only (the layout reads its
    # ?project= from it), never to another site.
    "Referrer-Policy": "same-origin",
}

CallbackMap = Mapping[str, Mapping[str, Any]]
SERVER_FAULT = "something went wrong on the server; it was logged. Try again."


def _text(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _entry_problem(entry: Any, where: str) -> str | None:
    """Why one output/input/state entry is malformed: {"id": ..., "property": ...}, or a
    list of such entries (pattern-matching ALL)."""
    if isinstance(entry, list):
        for item in entry:
            if isinstance(item, list) or _entry_problem(item, where):
                return f"each entry of {where} is an object with an id and a property"
        return None
    if not isinstance(entry, dict):
        return f"each entry of {where} is an object with an id and a property"
    if not isinstance(entry.get("id"), str | dict) or not isinstance(entry.get("property"), str):
        return f"each entry of {where} is an object with an id and a property"
    return None


def _same_component(entry: Any, spec: Mapping[str, Any]) -> bool:
    """True when a request's entry names the component and property the callback has."""
    declared = spec.get("id")
    # pattern-matching ids are declared as JSON text ('{"index":["ALL"],...}'); the request
    # sends one entry or a list of them, with dict ids
    if isinstance(declared, dict) or str(declared).startswith("{"):
        found = entry if isinstance(entry, list) else [entry]
        return all(
            isinstance(e, dict)
            and isinstance(e.get("id"), dict)
            and e.get("property") == spec.get("property")
            for e in found
        )
    return (
        isinstance(entry, dict)
        and entry.get("id") == declared
        and entry.get("property") == spec.get("property")
    )


def _names(entry: Any, name: str) -> bool:
    """True when an outputs entry is the output `name` ("id.property", "@..." ignored;
    a pattern-matching one, "{...}.property", is matched by the kind of its id)."""
    if name.startswith("{"):
        found = entry if isinstance(entry, list) else [entry]
        return all(isinstance(e, dict) and isinstance(e.get("id"), dict) for e in found)
    if not isinstance(entry, dict):
        return False
    prop = str(entry.get("property", "")).split("@")[0]
    return f"{entry.get('id')}.{prop}" == name.split("@")[0]


def callback_body_problem(body: Any, callbacks: CallbackMap | None = None) -> str | None:
    """Why a Dash callback request cannot be run (None: it can): the JSON object Dash's
    renderer sends, naming a callback of this app with the inputs and state it declares."""
    if not isinstance(body, dict):
        return "a callback request is a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or not output:
        return 'a callback request names its "output"'
    outputs = body.get("outputs")
    parts = {
        # several outputs ("..a.p...b.q.."): a list of entries; one: the entry itself
        "outputs": outputs if output.startswith("..") else [outputs],
        "inputs": body.get("inputs"),
        "state": body.get("state", []),
    }
    for part, values in parts.items():
        if not isinstance(values, list):
            return f'"{part}" is a list'
        for entry in values:
            problem = _entry_problem(entry, f'"{part}"')
            if problem:
                return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return '"changedPropIds" is a list of "id.property" texts'
    named = output.strip(".").split("...") if output.startswith("..") else [output]
    if len(parts["outputs"]) != len(named) or not all(map(_names, parts["outputs"], named)):
        return f'the "outputs" are not the ones {output[:120]!r} names'
    if callbacks is None:
        return None
    spec = callbacks.get(output)
    if spec is None:
        return f"no callback of this app writes {output[:120]!r}"
    if spec.get("callback") is None:
        return f"the callback writing {output[:120]!r} runs in the browser"
    for part in ("inputs", "state"):
        sent, declared = body.get(part, []), spec.get(part, [])
        if len(sent) != len(declared) or not all(map(_same_component, sent, declared)):
            return f'the "{part}" are not the ones this callback reads'
    return None


def _this_apps_callbacks() -> CallbackMap | None:
    """The callbacks of the Dash app serving this Flask server (None: no Dash app)."""
    try:
        from dash import get_app

        dash_app = get_app()
    except Exception:  # no Dash app made in this process (a bare Flask server in tests)
        return None
    if getattr(dash_app, "server", None) is not current_app._get_current_object():  # type: ignore[attr-defined]
        return None
    callbacks: CallbackMap = dash_app.callback_map
    return callbacks


def check_callback_request() -> Response | None:
    """Refuse a malformed Dash callback request with 400 and its reason, before Dash runs
    it (Dash answers those with a 500 and a traceback in the log)."""
    if request.path != CALLBACK_PATH or request.method != "POST":
        return None
    try:
        body = request.get_json(silent=True)  # cached: Dash reads the same parsed body
    except RecursionError:
        return _text("Bad request: the JSON is nested too deeply.", 400)
    problem = callback_body_problem(body, _this_apps_callbacks())
    if problem:
        log.warning("callback request refused: %s", problem)
        return _text(f"Bad request: {problem}.", 400)
    return None


# What a callback raises when the browser sent values of the wrong type or shape (a text
# where a number belongs, a list for a record...): the request's fault, answered with 400.
VALUE_FAULTS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)


def _value_fault(exc: Exception) -> Response:
    """400 for a callback that could not use the values sent; elsewhere a short 500. The
    traceback goes to the log either way."""
    if request.path == CALLBACK_PATH:
        log.warning("a callback could not use the values sent: %r", exc, exc_info=exc)
        return _text("Bad request: the values sent do not fit this callback.", 400)
    log.error("Exception on %s %s", request.method, request.path, exc_info=exc)
    return _text(f"500 Internal Server Error: {SERVER_FAULT}", 500)


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _short_error(exc: HTTPException) -> HTTPException | Response:
    """Error answers as one line of plain text: the status and what it means, no paths."""
    if exc.code is None or exc.code < 400:
        return exc  # redirects raised by routing pass as they are
    if isinstance(exc, InternalServerError):
        log.error("500 on %s %s", request.method, request.path)
        text = SERVER_FAULT
    else:
        text = exc.description or ""
    return _text(f"{exc.code} {exc.name}: {text}", exc.code)


def install_boundary(server: Flask) -> None:
    """Headers, the body cap and short errors on every answer. `check_callback_request` is
    installed by auth/web.py, after its sign-in guard (no body is read before that)."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.after_request(_add_headers)
    server.register_error_handler(HTTPException, _short_error)
    for fault in VALUE_FAULTS:
        server.register_error_handler(fault, _value_fault)
