"""The routes the browser uploads images through (assets/upload.js drives them), each in the
project its `?project=` names (auth/project_access.py checked membership before):

- GET  /uploads/batches: the batches one may upload into, and the size limit;
- POST /uploads/plan: which of the chosen files are taken, under which keys, and how each
  is sent: a presigned POST straight to S3, or a PUT of the raw file to /uploads/file;
- PUT  /uploads/file?key=...: a local folder's file, checked and stored (never replacing);
- POST /uploads/done: S3 objects checked on arrival; the listing refreshed.

Only admins of the project may upload, or its members when the project allows it. JSON
bodies and PUT need a same-site script (another site's form can send neither).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from auth.session import may
from auth.web import UPLOAD_FILE_PATH as FILE_PATH
from domain.accounts import Role
from domain.uploads import (
    REFUSE,
    UploadError,
    clean_batch,
    clean_duplicates,
    may_upload,
    offered_files,
    plan_uploads,
    size_text,
    summary,
)
from storage.errors import ImageNotFound, StorageError
from storage.images import LocalFolderSource
from storage.runtime import Services, current
from storage.s3_source import S3Source
from storage.uploads import (
    Arrival,
    check_s3_arrival,
    exists_in,
    presigned_post,
    receive_local,
)

log = logging.getLogger("concord.uploads")

BODY_MARGIN = 64 * 1024  # a body a little over the limit is read no further than this
MAX_DONE_KEYS = 1000


def _answer(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"message": message, **extra})
    response.status_code = status
    return response


def _role() -> Role | None:
    """The role the request's project gives the person asking."""
    for role in (Role.ADMIN, Role.REVIEWER, Role.ANNOTATOR):
        if may(role):
            return role
    return None


def _refusal(services: Services) -> Response | None:
    """403 unless the person asking may upload into the project."""
    if may_upload(_role(), services.project.members_upload):
        return None
    return _answer(403, "Only the project's admins may upload images to it.")


def _json_request(what: str) -> tuple[Services, dict[str, Any]] | Response:
    """The project's services and the request's JSON object; or the answer refusing it
    (403 for someone who may not upload here, 400 for a body that is not an object)."""
    services = current()
    refused = _refusal(services)
    if refused:
        return refused
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _answer(400, f"Send {what} as JSON.")
    return services, body


def batches() -> Response:
    """The batches of the project's source, and the upload limit."""
    services = current()
    refused = _refusal(services)
    if refused:
        return refused
    try:
        names = [name for name in services.images.catalog.batches().names if name]
    except StorageError as exc:
        return _answer(503, f"The batches cannot be listed now: {exc}.")
    limit = services.settings.upload_max_bytes
    return jsonify({"batches": names, "max_bytes": limit})


def plan() -> Response:
    """Which files are taken and how each is sent (JSON: batch, duplicates, files)."""
    asked = _json_request("the upload's plan")
    if isinstance(asked, Response):
        return asked
    services, body = asked
    try:
        batch = clean_batch(body.get("batch"))
        duplicates = clean_duplicates(body.get("duplicates"))
        offers = offered_files(body.get("files"))
    except UploadError as exc:
        return _answer(400, str(exc))
    source = services.images.source
    limit = services.settings.upload_max_bytes
    token = secrets.token_urlsafe(18)
    try:
        plans = plan_uploads(offers, batch, duplicates, limit, exists_in(source))
        files = []
        for planned in plans:
            item: dict[str, Any] = {"name": planned.name, "ok": planned.accepted}
            if not planned.accepted:
                item["problem"] = planned.problem
            else:
                item.update(key=planned.key, renamed=planned.renamed)
                if isinstance(source, S3Source):
                    item["upload"] = presigned_post(
                        source, planned.key, planned.content_type, limit, token
                    )
                else:
                    query = {"project": services.project.slug, "key": planned.key}
                    query["duplicates"] = duplicates
                    item["upload"] = {"method": "PUT", "url": f"{FILE_PATH}?{urlencode(query)}"}
            files.append(item)
    except StorageError as exc:
        return _answer(503, f"The upload cannot be prepared now: {exc}.")
    return jsonify(
        {
            "message": summary(plans),
            "batch": batch,
            "token": token,
            "max_bytes": limit,
            "files": files,
        }
    )


def receive() -> Response:
    """One file of a local folder, the raw body of a PUT: checked, then stored."""
    services = current()
    refused = _refusal(services)
    if refused:
        return refused
    source = services.images.source
    if not isinstance(source, LocalFolderSource):
        return _answer(409, "This project's images are in S3: send them with the plan's form.")
    key = request.args.get("key", "")
    duplicates = request.args.get("duplicates") or REFUSE
    limit = services.settings.upload_max_bytes
    length = request.content_length
    if length is None:
        return _answer(411, "Send the file with its length (Content-Length).", key=key)
    if length > limit:  # refused unread
        text = f"The file is {size_text(length)}, over the upload limit of {size_text(limit)}."
        return _answer(413, text, key=key)
    request.max_content_length = limit + BODY_MARGIN  # never read further than this
    try:
        duplicates = clean_duplicates(duplicates)
        arrival = receive_local(
            source,
            key,
            request.stream,
            length,
            limit,
            services.settings.max_image_pixels,
            duplicates,
        )
    except (UploadError, ImageNotFound) as exc:
        return _answer(400, str(exc).rstrip(".") + ".", key=key)
    except StorageError as exc:
        return _answer(503, f"The file cannot be stored now: {exc}.", key=key)
    except OSError as exc:
        log.warning("upload of %r not stored: %s", key, exc)
        return _answer(507, "The file could not be stored: the image folder refused it.", key=key)
    answer = arrival.as_json()
    return _answer(arrival.status, arrival.problem or "Stored.", **answer)


def done() -> Response:
    """The browser finished sending: S3 objects are checked (a bad one deleted), and the
    listing is refreshed so every worker shows the new images."""
    asked = _json_request("the finished upload")
    if isinstance(asked, Response):
        return asked
    services, body = asked
    keys, token = body.get("keys") or [], body.get("token")
    if not isinstance(keys, list) or len(keys) > MAX_DONE_KEYS:
        return _answer(400, f"List at most {MAX_DONE_KEYS} keys.")
    source = services.images.source
    files = []
    try:
        if isinstance(source, S3Source):
            if not isinstance(token, str) or not token:
                return _answer(400, "The upload's token is missing.")
            limit = services.settings.upload_max_bytes
            pixels = services.settings.max_image_pixels
            for key in keys:
                if not isinstance(key, str):
                    return _answer(400, "Each key is a text.")
                try:
                    arrival = check_s3_arrival(source, key, token, limit, pixels)
                except ImageNotFound:
                    arrival = Arrival(key, f"{key[:100]!r} is not an image's key.", 400)
                files.append(arrival.as_json())
    except StorageError as exc:
        services.images.catalog.refresh()
        return _answer(503, f"The uploaded images cannot be checked now: {exc}.", files=files)
    services.images.catalog.refresh()
    stored = sum(1 for item in files if item["ok"])
    refused_count = len(files) - stored
    message = "The listing is up to date."
    if refused_count:
        message = (
            f"{refused_count} uploaded file{'s were' if refused_count > 1 else ' was'} refused."
        )
    return _answer(200, message, files=files)


def install_upload_routes(server: Flask) -> None:
    """Add the upload routes to the app's server."""
    server.add_url_rule("/uploads/batches", "concord_upload_batches", batches, methods=["GET"])
    server.add_url_rule("/uploads/plan", "concord_upload_plan", plan, methods=["POST"])
    server.add_url_rule(FILE_PATH, "concord_upload_file", receive, methods=["PUT"])
    server.add_url_rule("/uploads/done", "concord_upload_done", done, methods=["POST"])
