"""A Label Studio ML backend as a Detector: the image goes to `<url>/predict` as a data: URI
(the backend may not reach our server) and the rectangles and polygons it answers, in percent
of the image, come back in pixels.

Request: {"tasks": [{"id": 1, "data": {"image": "data:image/jpeg;base64,..."}}],
"label_config": <a minimal labelling config>, "params": {}}. Answer: {"results": [{"result":
[{"type": "rectanglelabels", "value": {"x", "y", "width", "height", "rotation",
"rectanglelabels": [...]}, "score"}, {"type": "polygonlabels", "value": {"points": [[x, y],
...], "polygonlabels": [...]}}], "score", "model_version"}], "model_version"}, or the same
predictions as a bare list. Other result types (choices, keypoints, brushes) are not shapes
Concord suggests and are left out; with several predictions for the task the first counts.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import math
import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

import numpy as np
from PIL import Image

from models.detector import DetectorError, is_number

MAX_ANSWER_BYTES = 50_000_000
SNIPPET = 120
JPEG_QUALITY = 90
RECTANGLES = ("rectanglelabels", "rectangle")
POLYGONS = ("polygonlabels", "polygon")


class MLBackendDetector:
    """A Label Studio ML backend at `url`; each request may take timeout_s seconds."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        labels: Sequence[str] = (),
        image_format: str = "JPEG",
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise DetectorError(f"{url!r} is not an http(s):// URL of an ML backend")
        host = parts.netloc.rsplit("@", 1)[-1]  # user:password@ stays out of names and logs
        self.url = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username is not None:  # ML backends' BASIC_AUTH_USER / BASIC_AUTH_PASS
            pair = f"{parts.username}:{parts.password or ''}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.name = host or "ml-backend"
        self.version = "unknown"  # until /health, /setup or an answer tells
        self.labels: Sequence[str] = tuple(labels)
        self.timeout_s = float(timeout_s)
        if image_format.upper() not in ("JPEG", "PNG"):
            raise DetectorError(f"image_format {image_format!r}: use JPEG or PNG")
        self.image_format = image_format.upper()

    def probe(self) -> None:
        """Check the backend answers (GET /health) and learn its model version where it says
        (/health, else POST /setup); DetectorError when it cannot be reached or is not up."""
        health = self._call("GET", "/health", None, missing_ok=True)
        if isinstance(health, dict):
            status = health.get("status")
            if isinstance(status, str) and status.upper() not in ("UP", "OK"):
                raise DetectorError(f"the ML backend at {self.url} reports status {status!r}")
            self._learn_version(health)
        if self.version == "unknown":
            try:
                setup = self._call("POST", "/setup", self._setup_body(), missing_ok=True)
            except DetectorError:
                return  # /setup is optional; /predict's answers carry the version too
            if isinstance(setup, dict):
                self._learn_version(setup)

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        """The backend's shapes for image with at least min_score, in the image's pixels."""
        height, width = int(image.shape[0]), int(image.shape[1])
        body = {
            "tasks": [{"id": 1, "data": {"image": self._data_uri(image)}}],
            "label_config": self._label_config(),
            "params": {},
        }
        answer = self._call("POST", "/predict", body)
        prediction, version = _first_prediction(answer)
        if version:
            self.version = version
        if prediction is None:
            return []
        found = _shapes(prediction, width, height)
        return [item for item in found if not _below(item["score"], min_score)]

    # --- HTTP -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: object, missing_ok: bool = False) -> object:
        """The JSON a request answers (None for a 404/405 when missing_ok); DetectorError
        saying what went wrong."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=self._headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            with exc:  # the error carries the open answer; read what it says, then close it
                detail = _error_detail(exc)
            if missing_ok and exc.code in (404, 405):
                return None
            raise DetectorError(
                f"the ML backend answered HTTP {exc.code} to {path}"
                + (f": {detail}" if detail else "")
            ) from None
        except urllib.error.URLError as exc:
            raise DetectorError(self._unreachable(path, exc.reason)) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise DetectorError(self._unreachable(path, exc)) from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise DetectorError(
                f"the ML backend answered {path} with more than {MAX_ANSWER_BYTES:,} bytes"
            )
        try:
            return json.loads(raw)
        except ValueError:
            if missing_ok:
                return None  # e.g. a health check answering plain "OK"
            raise DetectorError(
                f"the ML backend answered {path} with something that is not JSON: "
                f"{_snippet(raw.decode('utf-8', 'replace'))!r}"
            ) from None

    def _unreachable(self, path: str, reason: object) -> str:
        if isinstance(reason, TimeoutError | socket.timeout):
            return f"the ML backend did not answer {path} within {self.timeout_s:g} s"
        if isinstance(reason, ConnectionRefusedError):
            why = "connection refused (is it running, and is the port right?)"
        elif isinstance(reason, socket.gaierror):
            why = "unknown host"
        elif isinstance(reason, http.client.RemoteDisconnected | ConnectionResetError):
            why = "it closed the connection without answering"
        else:
            why = str(reason) or type(reason).__name__
        return f"cannot reach the ML backend at {self.url} ({path}): {why}"

    # --- what we send ---------------------------------------------------------------------

    def _data_uri(self, image: np.ndarray) -> str:
        picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
        buffer = io.BytesIO()
        if self.image_format == "PNG":
            picture.save(buffer, "PNG")
        else:
            picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f"data:image/{self.image_format.lower()};base64,{encoded}"

    def _label_config(self) -> str:
        """The smallest labelling config naming an image and rectangle/polygon labels, for
        backends that read from_name/to_name from it."""
        labels = "".join(f"<Label value={quoteattr(label)}/>" for label in self.labels)
        return (
            '<View><Image name="image" value="$image"/>'
            f'<RectangleLabels name="label" toName="image">{labels}</RectangleLabels>'
            f'<PolygonLabels name="polygon" toName="image">{labels}</PolygonLabels></View>'
        )

    def _setup_body(self) -> dict[str, Any]:
        return {"project": "concord", "schema": self._label_config(), "hostname": ""}

    def _learn_version(self, answer: dict[str, Any]) -> None:
        version = answer.get("model_version")
        if isinstance(version, str | int | float) and str(version).strip():
            self.version = str(version)


# --- what we get back ---------------------------------------------------------------------


def _first_prediction(answer: object) -> tuple[dict[str, Any] | None, str]:
    """(the first prediction for our one task, or None when there is none; the model
    version the answer names, or "")."""
    version = ""
    if isinstance(answer, dict):
        if "results" not in answer:
            raise DetectorError(f"the ML backend's answer has no 'results': {_shown(answer)}")
        version = _version(answer.get("model_version"))
        results = answer["results"]
    elif isinstance(answer, list):
        results = answer
    else:
        raise DetectorError(
            f"the ML backend answered {type(answer).__name__}, not {{'results': [...]}}: "
            f"{_shown(answer)}"
        )
    if not isinstance(results, list):
        raise DetectorError(
            f"the ML backend's 'results' is {type(results).__name__}, not a list: {_shown(results)}"
        )
    if results and isinstance(results[0], dict) and "result" not in results[0]:
        if "type" in results[0] and "value" in results[0]:
            results = [{"result": results}]  # a bare list of shapes for the one task
    prediction: object = results[0] if results else None
    if isinstance(prediction, list):  # several predictions for the task: the first counts
        prediction = prediction[0] if prediction else None
    if prediction is None:
        return None, version
    if not isinstance(prediction, dict) or not isinstance(prediction.get("result"), list):
        raise DetectorError(
            f"the ML backend's prediction is not {{'result': [...]}}: {_shown(prediction)}"
        )
    return prediction, _version(prediction.get("model_version")) or version


def _shapes(prediction: dict[str, Any], width: int, height: int) -> list[dict[str, Any]]:
    """The prediction's rectangles and polygons as detector answers in pixels."""
    items = prediction["result"]
    default_score = prediction.get("score")
    # With separate Rectangle and Labels tags the label comes in a "labels" item of the same id.
    labels_by_id = {
        item.get("id"): item.get("value", {}).get("labels")
        for item in items
        if isinstance(item, dict)
        and item.get("type") == "labels"
        and isinstance(item.get("value"), dict)
    }
    found: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DetectorError(
                f"the ML backend's result {number} is not an object: {_shown(item)}"
            )
        kind = item.get("type")
        if kind not in RECTANGLES + POLYGONS:
            continue
        where = f"the ML backend's result {number} ({kind})"
        value = item.get("value")
        if not isinstance(value, dict):
            raise DetectorError(f"{where} has no 'value' object: {_shown(item)}")
        label = _label(value, str(kind), labels_by_id.get(item.get("id")), where)
        score = item.get("score", default_score)
        score = 1.0 if score is None else score
        if kind in RECTANGLES:
            found.append(
                {"label": label, "score": score, **_rectangle(value, width, height, where)}
            )
        else:
            found.append(
                {"label": label, "score": score, "points": _points(value, width, height, where)}
            )
    return found


def _label(value: dict[str, Any], kind: str, by_id: object, where: str) -> str:
    names = value.get(kind) if kind.endswith("labels") else None
    for candidate in (names, value.get("labels"), by_id):
        if isinstance(candidate, list) and candidate and isinstance(candidate[0], str):
            return candidate[0]
    raise DetectorError(f"{where} has no label: {_shown(value)}")


def _rectangle(value: dict[str, Any], width: int, height: int, where: str) -> dict[str, Any]:
    numbers = [value.get(key) for key in ("x", "y", "width", "height")]
    if not all(is_number(n) for n in numbers):
        raise DetectorError(
            f"{where}: x, y, width, height must be numbers (percent): {_shown(value)}"
        )
    x, y, w, h = (float(n) for n in numbers)  # type: ignore[arg-type]
    x0, y0, dx, dy = x * width / 100, y * height / 100, w * width / 100, h * height / 100
    rotation = value.get("rotation", 0) or 0
    if not is_number(rotation):
        raise DetectorError(f"{where}: rotation {rotation!r} is not a number of degrees")
    if float(rotation) % 360 == 0:
        return {"box": [x0, y0, x0 + dx, y0 + dy]}
    # Label Studio turns a rectangle clockwise about its top-left corner (y points down).
    angle = math.radians(float(rotation))
    cos, sin = math.cos(angle), math.sin(angle)
    corners = [(0.0, 0.0), (dx, 0.0), (dx, dy), (0.0, dy)]
    return {"points": [[x0 + cx * cos - cy * sin, y0 + cx * sin + cy * cos] for cx, cy in corners]}


def _points(value: dict[str, Any], width: int, height: int, where: str) -> list[list[float]]:
    raw = value.get("points")
    if not isinstance(raw, list):
        raise DetectorError(f"{where} has no 'points' list: {_shown(value)}")
    points = []
    for point in raw:
        if not isinstance(point, list | tuple) or len(point) != 2 or not all(map(is_number, point)):
            raise DetectorError(f"{where}: point {_shown(point)} is not [x, y] in percent")
        points.append([float(point[0]) * width / 100, float(point[1]) * height / 100])
    return points


def _below(score: object, min_score: float) -> bool:
    return is_number(score) and float(score) < min_score  # type: ignore[arg-type]


def _version(value: object) -> str:
    return (
        str(value).strip()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else ""
    )


def _shown(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return _snippet(text)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 3] + "..."


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """What an error answer says: its JSON message/error/detail, else its first line."""
    try:
        raw = exc.read(64_000)
    except (OSError, http.client.HTTPException):
        raw = b""
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ("message", "error", "detail"):
            if isinstance(parsed.get(key), str) and parsed[key].strip():
                return _snippet(parsed[key].strip().splitlines()[0])
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("<"):  # not an HTML error page
            return _snippet(line.strip())
        if line.strip():
            break
    return str(exc.reason or "")
