"""Concord: build the Dash app. `server` is the WSGI app for gunicorn; `python app.py` runs it."""

from __future__ import annotations

import logging

import diskcache
import flask
from dash import CeleryManager, Dash, DiskcacheManager

import callbacks  # noqa: F401  (registers every @callback)
from auth import web as sign_in
from auth.session import viewer
from components.layout import build_layout
from config import load_settings
from storage.caches import make_caches
from storage.errors import ImageNotFound, SourceUnavailable, UnreadableImage
from storage.runtime import build_services, current, install

# Source, cache and database trouble is logged as warnings (to stderr: gunicorn's log).
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
settings = load_settings()


def background_jobs(redis_url: str) -> tuple[object | None, object]:
    """Celery on Redis when REDIS_URL is set (the Procfile's worker runs the jobs, so any
    web worker or dyno can follow them); otherwise diskcache on this machine's disk."""
    if not redis_url:
        return None, DiskcacheManager(diskcache.Cache(str(settings.data_dir / "jobs")))
    from celery import Celery

    queue = Celery("concord", broker=redis_url, backend=redis_url)
    # One unacknowledged task per worker slot: a long job never holds back a queued one
    # (a pre-annotation's chunk helpers spread over the idle workers).
    queue.conf.update(
        broker_connection_retry_on_startup=True, result_expires=3600, worker_prefetch_multiplier=1
    )
    from jobs import fanout_tasks

    fanout_tasks.register(queue)  # pre-annotation fans out over the workers
    return queue, CeleryManager(queue, expire=3600)


# `celery -A app:celery_app worker` runs the jobs when REDIS_URL is set.
celery_app, job_manager = background_jobs(settings.redis_url)
app = Dash(
    __name__,
    title="Concord",
    # Bootstrap's CSS is served from assets/ (no CDN: nothing is fetched at run time).
    update_title=None,
    # Exports, imports and agreement reports run as background jobs.
    background_callback_manager=job_manager,
)
server = app.server
caches = make_caches(server, settings)
install(build_services(settings, *caches))
sign_in.install(server, settings, current().accounts)


def serve_layout() -> object:
    """The page for whoever asks: parts a role may not use are left out."""
    return build_layout(settings.labels, viewer())


app.layout = serve_layout


@server.route("/healthz")
def health() -> flask.Response:
    """For the platform's health check: the process answers (no sign-in needed)."""
    return flask.Response("ok", mimetype="text/plain")


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
    except SourceUnavailable as exc:
        return flask.Response(str(exc), status=503, mimetype="text/plain")
    response.set_etag(etag)
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response


if __name__ == "__main__":
    print(f"Concord on http://{settings.host}:{settings.port} (images: {settings.image_source})")
    app.run(host=settings.host, port=settings.port, debug=False)
