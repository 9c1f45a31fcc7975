"""How the page's files reach the browser: compressed when it accepts that, and kept in its
cache for a year when their URL names their version (issue 17, the first page load)."""

from __future__ import annotations

import os
import re

import flask
from dash.fingerprint import check_fingerprint
from flask_compress import Compress
from werkzeug.security import safe_join

YEAR = 31_536_000  # seconds
# Dash's own routes: scripts, the page, its layout and callbacks. Nothing else is compressed:
# the sign-in pages put the request's input next to a CSRF token (BREACH), and the JPEGs of
# /images would not shrink.
COMPRESSED_ENDPOINTS = frozenset(
    {
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "_dash_assets.static",
        "/",
        "/<path:path>",
        "/_dash-layout",
        "/_dash-dependencies",
        "/_dash-update-component",
    }
)
SUITES = "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"
ASSETS = "_dash_assets.static"
# An asset whose file name carries its version (plotly-cartesian-4.1.1.min.js), or whose
# URL carries the file's modification time (Dash's `?m=`): a new version is a new URL, so
# browsers may keep it for a year. Anything else is revalidated.
VERSIONED_ASSET = re.compile(r"-\d+\.\d+\.\d+(?:\.min)?\.(?:js|css)$")
UNCACHED = "-"


def cache_key(request: flask.Request) -> str:
    """What a compressed body is cached under: a package's file (the same bytes whatever
    fingerprint the URL carries), or UNCACHED for anything that may change."""
    if request.endpoint != SUITES or request.view_args is None:
        return UNCACHED
    path, _ = check_fingerprint(str(request.view_args["fingerprinted_path"]))
    return f"{request.view_args['package_name']}/{path}"


class PackageFileCache:
    """Compressed package scripts, one per file and encoding (a bounded set: the files
    Dash registered); bodies that may change are never kept."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";" + UNCACHED):
            self.data[key] = value


def long_lived(request: flask.Request) -> bool:
    """True for a file whose URL changes with its content."""
    if request.endpoint == SUITES and request.view_args is not None:
        return check_fingerprint(str(request.view_args["fingerprinted_path"]))[1]
    if request.endpoint != ASSETS:
        return False
    return bool(VERSIONED_ASSET.search(request.path)) or _stamped_now(request)


def _stamped_now(request: flask.Request) -> bool:
    """True when an asset's URL carries the modification time Dash stamps on it (`?m=`)
    and that is the file's time now: the page links the file by its time, so a changed
    file gets a new URL (an old stamp is answered, but revalidated)."""
    stamp = request.args.get("m")
    folder = flask.current_app.blueprints[ASSETS.split(".")[0]].static_folder
    if not stamp or request.view_args is None or folder is None:
        return False
    path = safe_join(folder, str(request.view_args.get("filename", "")))
    try:
        return path is not None and str(os.path.getmtime(path)) == stamp
    except OSError:
        return False


def install(server: flask.Flask) -> Compress:
    """Compress Dash's responses (zstd, br or gzip, as the browser prefers), keep compressed
    package scripts in memory, and let browsers cache versioned files for a year."""
    server.config.update(
        COMPRESS_REGISTER=False,  # only Dash's routes, by the hook below
        COMPRESS_ALGORITHM=["zstd", "br", "gzip", "deflate"],
        COMPRESS_CACHE_BACKEND=PackageFileCache,
        COMPRESS_CACHE_KEY=cache_key,
        # Assets are streamed from disk: their ETag gets the encoding appended, so the
        # conditional request is answered after compressing (304 stays 304).
        COMPRESS_STREAMING_ENDPOINT_CONDITIONAL=[ASSETS],
    )
    compress = Compress(server)

    @server.after_request
    def deliver(response: flask.Response) -> flask.Response:
        if long_lived(flask.request) and response.status_code in (200, 304):
            response.cache_control.no_cache = None
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        if flask.request.endpoint in COMPRESSED_ENDPOINTS:
            return compress.after_request(response)
        return response

    return compress


# The script chunks Dash's components fetch once they are drawn (the Annotate view's
# graph, dropdowns and slider, and the grid's community chunk). Their URLs carry no
# version, so each is revalidated; preloaded, that happens while the page's scripts run
# instead of after the layout is drawn. tests/e2e/test_first_load.py checks the page
# uses each of them.
ANNOTATE_CHUNKS = (
    "_dash-component-suites/dash/dcc/async-graph.js",
    "_dash-component-suites/dash/dcc/async-dropdown.js",
    "_dash-component-suites/dash/dcc/async-slider.js",
    "_dash-component-suites/dash_ag_grid/async-community.js",
)


def with_preloads(index: str, prefix: str) -> str:
    """Dash's page template asking at once for the layout, the callback map and the Annotate
    view's script chunks, while the page's scripts load: the renderer's own requests for
    them (made once the scripts have run, or the layout is drawn) are then answered from
    the preload."""
    if "{%css%}" not in index:
        raise ValueError("the page template has no {%css%}")
    links = "".join(
        f'<link rel="preload" href="{prefix}{route}" as="fetch" crossorigin="anonymous">'
        for route in ("_dash-layout", "_dash-dependencies")
    ) + "".join(
        f'<link rel="preload" href="{prefix}{chunk}" as="script">' for chunk in ANNOTATE_CHUNKS
    )
    return index.replace("{%css%}", "{%css%}" + links, 1)
