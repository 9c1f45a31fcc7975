"""Concord: build the Dash app. `server` is the WSGI app for gunicorn; `python app.py` runs it."""

from __future__ import annotations

import flask
from dash import Dash
from flask_caching import Cache

import callbacks  # noqa: F401  (registers every @callback)
from components.layout import build_layout
from config import load_settings
from storage.errors import ImageNotFound, StorageError, UnreadableImage
from storage.runtime import build_services, current, install

settings = load_settings()
app = Dash(
    __name__,
    title="Concord",
    # Bootstrap's CSS is served from assets/ (no CDN: nothing is fetched at run time).
    update_title=None,
)
server = app.server
cache = Cache(server, config={"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 200})
install(build_services(settings, cache))


def page() -> object:
    """The layout, built per page load so the image list is current."""
    services = current()
    warning = None
    try:
        keys = services.images.source.keys()
        if not keys:
            warning = (
                f"No images in {services.images.source.description}. Add .jpg, .png, .tif, "
                ".bmp, .webp or .gif files there (or set IMAGE_SOURCE) and reload."
            )
    except StorageError as exc:
        keys, warning = [], f"{exc}. Set IMAGE_SOURCE to a folder of images and restart."
    return build_layout(services.settings.labels, keys, warning)


app.layout = page


@server.route("/images/<path:key>")
def serve_image(key: str) -> flask.Response:
    """A display rendition of an image in the source: cached, validated by ETag."""
    images = current().images
    try:
        etag = images.etag(key)
        if etag in flask.request.if_none_match:
            response = flask.Response(status=304)
        else:
            rendition = images.rendition(key)
            response = flask.Response(rendition.data, mimetype=rendition.mimetype)
    except ImageNotFound as exc:
        return flask.Response(str(exc), status=404, mimetype="text/plain")
    except UnreadableImage as exc:
        return flask.Response(str(exc), status=422, mimetype="text/plain")
    response.set_etag(etag)
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response


if __name__ == "__main__":
    print(f"Concord on http://{settings.host}:{settings.port} (images: {settings.image_source})")
    app.run(host=settings.host, port=settings.port, debug=False)
