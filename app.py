"""Concord: build the Dash app. `server` is the WSGI app for gunicorn; `python app.py` runs it."""

from __future__ import annotations

import faulthandler
import logging
from collections.abc import Callable

import diskcache
import flask
from dash import CeleryManager, Dash, DiskcacheManager

import callbacks  # noqa: F401  (registers every @callback)
import delivery
from auth import web as sign_in
from auth.project_access import enterable, page_param
from auth.session import viewer
from components.layout import PageProject, build_layout, no_project_page
from config import load_settings
from deploy_guard import guard_start
from storage import crops
from storage.caches import make_caches
from storage.database_file import database_problem
from storage.errors import ImageNotFound, SourceUnavailable, UnreadableImage
from storage.runtime import build_services, current, install
from storage.thumbnails import Thumbnails
from uploads_web import install_upload_routes

# Source, cache and database trouble is logged as warnings (to stderr: gunicorn's log).
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
faulthandler.enable()  # a fatal signal (SIGBUS, SIGSEGV) leaves a traceback in the log
settings = load_settings()
if __name__ == "__main__":  # gunicorn checks its own binds (gunicorn.conf.py)
    guard_start(settings)  # open to the network with no accounts, or a lost database: exit


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
app.index_string = delivery.with_preloads(app.index_string, app.config.requests_pathname_prefix)
# Scripts, page and callbacks compressed, versioned files cached for a year; plotly.js is
# the cartesian bundle in assets/ (dcc.Graph uses a window.Plotly it finds), not the full one.
delivery.install(server)
caches = make_caches(server, settings)
install(build_services(settings, *caches))
sign_in.install(server, settings, current().accounts)
install_upload_routes(server)  # images uploaded from the browser (uploads_web.py)


def serve_layout() -> object:
    """The page for whoever asks, in the project its address names (auth/project_access.py
    chose it, or the viewer's first): parts their role there may not use are left out."""
    if not flask.has_request_context() or "concord_project" not in flask.g:
        return build_layout(current().settings.labels, viewer())  # Dash checking the layout
    project = flask.g.concord_project
    note = flask.g.get("concord_project_note", "")
    if project is None:
        return no_project_page(viewer(), note)
    services = current()
    choices = tuple((p.slug, p.name) for p, _ in enterable(services.projects.all()))
    page = PageProject(
        project.slug,
        project.name,
        choices,
        note,
        image=page_param("image"),
        members_upload=project.members_upload,
    )
    return build_layout(services.settings.labels, viewer(), page)


app.layout = serve_layout
# Dash finishes its set-up (script registry, callback map) on the first request, and under
# gunicorn's threads a concurrent first request could be served before it was done: script
# bundles answered 500 ("dash" is not a registered library) and the page stayed blank
# (plotly/dash#3971). Doing it now, before any request, leaves nothing to race.
app._setup_server()


@server.route("/healthz")
def health() -> flask.Response:
    """For the platform's health check (no sign-in needed): the process answers and the
    database does (a cheap read; on SQLite, still the file it opened); 503 with why if not."""
    problem = database_problem(current().store.engine)
    if problem:
        server.logger.error("health check: %s", problem.detail)
        return flask.Response(problem.reason, status=503, mimetype="text/plain")
    return flask.Response("ok", mimetype="text/plain")


IMAGE_TROUBLE = {
    ImageNotFound: (404, "{key}: no such image in the image source."),
    UnreadableImage: (422, "{key} cannot be read: the file is damaged or not an image."),
    SourceUnavailable: (503, "{key}: the image source cannot be reached now; try again soon."),
}


def picture_response(
    route: str, key: str, etag_of: Callable[[], str], make: Callable[[], tuple[bytes, str]]
) -> flask.Response:
    """A picture made from an image in the source (`make` gives bytes and mimetype), cached
    privately for a day and validated by its ETag; a clear 4xx/503 when the image cannot be
    had (400 for a region outside it). The details (folder paths, decoder messages) go to
    the log, never to the browser."""
    try:
        etag = etag_of()
        if etag in flask.request.if_none_match:
            response = flask.Response(status=304)
        else:
            data, mimetype = make()
            response = flask.Response(data, mimetype=mimetype)
    except ValueError as exc:  # a region outside the image (crops)
        return flask.Response(f"{exc}.", status=400, mimetype="text/plain")
    except (ImageNotFound, UnreadableImage, SourceUnavailable) as exc:
        server.logger.warning("%s%r: %s", route, key, exc)
        status, text = next(v for k, v in IMAGE_TROUBLE.items() if isinstance(exc, k))
        text = text.format(key=repr(key[:200]))
        return flask.Response(text, status=status, mimetype="text/plain")
    response.set_etag(etag)
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response


@server.route("/images/<path:key>")
def serve_image(key: str) -> flask.Response:
    """A display rendition of an image in the source: cached, validated by ETag."""
    images = current().images

    def make() -> tuple[bytes, str]:
        rendition = images.rendition(key)
        return rendition.data, rendition.mimetype

    return picture_response("/images/", key, lambda: images.etag(key), make)


@server.route("/thumbs/<path:key>")
def serve_thumbnail(key: str) -> flask.Response:
    """The gallery's small rendition of an image: cached, validated by ETag, signed-in only
    like /images."""
    thumbs = Thumbnails(current().images)

    def make() -> tuple[bytes, str]:
        made = thumbs.rendition(key)
        return made.data, made.mimetype

    return picture_response("/thumbs/", key, lambda: thumbs.etag(key), make)


@server.route("/crops/<path:key>")
def serve_crop(key: str) -> flask.Response:
    """A small JPEG of an image around ?box=x0,y0,x1,y1 (original pixels, plus a margin),
    for the label QA grid: cached, validated by ETag, signed-in only like /images."""
    images = current().images
    try:
        box = crops.parse_box(flask.request.args.get("box"))
    except ValueError as exc:
        return flask.Response(f"{exc}.", status=400, mimetype="text/plain")
    return picture_response(
        "/crops/",
        key,
        lambda: crops.crop_tag(images, key, box),
        lambda: (crops.crop(images, key, box).data, "image/jpeg"),
    )


if __name__ == "__main__":
    print(f"Concord on http://{settings.host}:{settings.port} (images: {settings.image_source})")
    app.run(host=settings.host, port=settings.port, debug=False)
