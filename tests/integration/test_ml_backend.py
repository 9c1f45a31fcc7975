"""A Label Studio ML backend as the detector, against a fake backend on 127.0.0.1: shapes in
percent come back in pixels, and every way the backend can fail is one clear DetectorError."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from PIL import Image

from models.detector import Detection, DetectorError
from models.loading import load_detector, run_detector
from models.ml_backend import MLBackendDetector
from tests.servers import free_port

WIDTH, HEIGHT = 400, 200  # a non-square image: x percent of 400, y percent of 200
IMAGE = np.random.default_rng(7).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)

RECT: dict[str, Any] = {
    "from_name": "label",
    "to_name": "image",
    "type": "rectanglelabels",
    "original_width": WIDTH,
    "original_height": HEIGHT,
    "value": {
        "x": 10,
        "y": 20,
        "width": 30,
        "height": 40,
        "rotation": 0,
        "rectanglelabels": ["car"],
    },
    "score": 0.9,
}
POLYGON: dict[str, Any] = {
    "type": "polygonlabels",
    "value": {"points": [[50, 10], [75, 90], [25, 90]], "polygonlabels": ["cat"]},
    "score": 0.8,
}
FAINT = {
    "type": "rectanglelabels",
    "value": {"x": 0, "y": 0, "width": 5, "height": 5, "rectanglelabels": ["kite"]},
    "score": 0.1,
}
CHOICE = {"type": "choices", "value": {"choices": ["outdoor"]}}
GOOD = {
    "results": [
        {"result": [RECT, POLYGON, FAINT, CHOICE], "score": 0.85, "model_version": "yolo-3"}
    ]
}


@dataclass
class Backend:
    """What the fake backend answers (status, body) per path, and what it was sent."""

    url: str = ""
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    delay_s: float = 0.0
    requests: list[tuple[str, str, Any, dict[str, str]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def backend() -> Iterator[Backend]:
    state = Backend(
        answers={
            "/health": (200, {"status": "UP", "model_class": "YOLO"}),
            "/setup": (200, {"model_version": "yolo-2"}),
            "/predict": (200, GOOD),
        }
    )

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            state.requests.append((method, self.path, body, dict(self.headers)))
            if self.path == "/predict" and state.delay_s:
                state.release.wait(state.delay_s)
            status, payload = state.answers.get(self.path, (404, {"detail": "Not Found"}))
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()  # wake a slow handler so the server can stop
        server.shutdown()
        server.server_close()
        thread.join(10)


def sent_image(data_uri: str) -> Image.Image:
    header, encoded = data_uri.split(",", 1)
    assert header in ("data:image/jpeg;base64", "data:image/png;base64")
    return Image.open(io.BytesIO(base64.b64decode(encoded)))


# --- a good answer ------------------------------------------------------------------------


def test_shapes_in_percent_come_back_in_pixels_of_a_non_square_image(backend: Backend) -> None:
    detector = MLBackendDetector(backend.url, timeout_s=5)

    found = run_detector(detector, IMAGE, 0.5, timeout_s=10)

    assert found == [
        Detection("car", 0.9, (40.0, 40.0, 160.0, 120.0)),
        Detection("cat", 0.8, None, ((200.0, 20.0), (300.0, 180.0), (100.0, 180.0))),
    ]  # the faint kite is below min_score; the "choices" result is not a shape
    assert detector.version == "yolo-3"


def test_the_image_travels_as_a_data_uri_in_label_studios_task_format(backend: Backend) -> None:
    MLBackendDetector(backend.url, timeout_s=5).detect(IMAGE, 0.5)

    method, path, body, headers = backend.requests[-1]
    assert (method, path) == ("POST", "/predict")
    assert headers["Content-Type"] == "application/json"
    picture = sent_image(body["tasks"][0]["data"]["image"])
    assert (picture.width, picture.height, picture.mode) == (WIDTH, HEIGHT, "RGB")
    assert "<RectangleLabels" in body["label_config"]


def test_png_keeps_the_pixels_exactly(backend: Backend) -> None:
    MLBackendDetector(backend.url, timeout_s=5, image_format="png").detect(IMAGE, 0.5)

    image_uri = backend.requests[-1][2]["tasks"][0]["data"]["image"]
    assert image_uri.startswith("data:image/png;base64,")
    assert np.array_equal(np.asarray(sent_image(image_uri)), IMAGE)


def test_load_detector_checks_health_and_learns_the_version(backend: Backend) -> None:
    detector = load_detector(backend.url + "/", timeout_s=5)

    assert isinstance(detector, MLBackendDetector)
    assert detector.name == backend.url.removeprefix("http://")
    assert detector.version == "yolo-2"  # /health did not say, /setup did
    assert [(m, p) for m, p, _, _ in backend.requests] == [("GET", "/health"), ("POST", "/setup")]


def test_a_version_in_health_spares_the_setup_call(backend: Backend) -> None:
    backend.answers["/health"] = (200, {"status": "UP", "model_version": "v9"})

    detector = load_detector(backend.url, timeout_s=5)

    assert detector is not None and detector.version == "v9"
    assert [p for _, p, _, _ in backend.requests] == ["/health"]


def test_a_backend_without_health_or_setup_still_loads(backend: Backend) -> None:
    del backend.answers["/health"], backend.answers["/setup"]

    detector = load_detector(backend.url, timeout_s=5)

    assert detector is not None and detector.version == "unknown"
    run_detector(detector, IMAGE, 0.5, timeout_s=10)
    assert detector.version == "yolo-3"  # learnt from the first answer


def test_a_bare_list_of_predictions(backend: Backend) -> None:
    backend.answers["/predict"] = (200, [{"result": [RECT], "score": 0.5}])

    found = run_detector(MLBackendDetector(backend.url), IMAGE, 0.5, timeout_s=10)

    assert [d.box for d in found] == [(40.0, 40.0, 160.0, 120.0)]


def test_a_bare_list_of_shapes_and_several_predictions_per_task(backend: Backend) -> None:
    detector = MLBackendDetector(backend.url)
    backend.answers["/predict"] = (200, [RECT])
    assert [d.label for d in run_detector(detector, IMAGE, 0.5, timeout_s=10)] == ["car"]

    backend.answers["/predict"] = (200, {"results": [[{"result": [POLYGON]}, {"result": [RECT]}]]})
    assert [d.label for d in run_detector(detector, IMAGE, 0.5, timeout_s=10)] == ["cat"]


def test_no_prediction_for_the_task_is_nothing_found(backend: Backend) -> None:
    backend.answers["/predict"] = (200, {"results": []})

    assert run_detector(MLBackendDetector(backend.url), IMAGE, 0.5, timeout_s=10) == []


def test_a_rotated_rectangle_becomes_its_four_corners(backend: Backend) -> None:
    turned = {
        "type": "rectanglelabels",
        "value": {
            "x": 50,
            "y": 25,
            "width": 10,
            "height": 20,
            "rotation": 90,
            "rectanglelabels": ["bus"],
        },
        "score": 0.9,
    }
    backend.answers["/predict"] = (200, {"results": [{"result": [turned]}]})

    (found,) = run_detector(MLBackendDetector(backend.url), IMAGE, 0.5, timeout_s=10)

    # 40 px wide, 40 px high, turned clockwise about its top-left corner (200, 50)
    assert found.box is None
    assert found.points == ((200.0, 50.0), (200.0, 90.0), (160.0, 90.0), (160.0, 50.0))


def test_labels_in_a_separate_labels_result_and_the_predictions_score(backend: Backend) -> None:
    shape = {"id": "a1", "type": "rectangle", "value": {"x": 0, "y": 0, "width": 50, "height": 50}}
    labels = {"id": "a1", "type": "labels", "value": {"labels": ["truck"]}}
    backend.answers["/predict"] = (200, {"results": [{"result": [shape, labels], "score": 0.6}]})

    found = run_detector(MLBackendDetector(backend.url), IMAGE, 0.5, timeout_s=10)

    assert found == [Detection("truck", 0.6, (0.0, 0.0, 200.0, 100.0))]


def test_credentials_in_the_url_are_sent_but_never_shown(backend: Backend) -> None:
    url = backend.url.replace("http://", "http://ann:s3cret@")

    detector = MLBackendDetector(url)
    detector.detect(IMAGE, 0.5)

    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert backend.requests[-1][3]["Authorization"] == expected
    assert "s3cret" not in detector.name and "s3cret" not in detector.url


# --- failures -----------------------------------------------------------------------------


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(DetectorError, match=f"cannot reach the ML backend at {url}.*refused"):
        load_detector(url, timeout_s=2)


def test_http_500_shows_the_backends_message(backend: Backend) -> None:
    message = "CUDA out of memory\nTraceback (most recent call last): ..."
    backend.answers["/predict"] = (500, {"status": "ERROR", "message": message})
    detector = MLBackendDetector(backend.url)

    with pytest.raises(DetectorError) as caught:
        run_detector(detector, IMAGE, 0.5, timeout_s=10)

    assert str(caught.value) == (
        f"{detector.name}: the ML backend answered HTTP 500 to /predict: CUDA out of memory"
    )


def test_an_unhealthy_backend_fails_to_load(backend: Backend) -> None:
    backend.answers["/health"] = (503, b"<html><body>Service Unavailable</body></html>")

    with pytest.raises(DetectorError, match="answered HTTP 503 to /health: Service Unavailable"):
        load_detector(backend.url, timeout_s=5)


def test_a_slow_backend_times_out(backend: Backend) -> None:
    backend.delay_s = 10
    detector = MLBackendDetector(backend.url, timeout_s=0.3)

    with pytest.raises(DetectorError, match="did not answer /predict within 0.3 s"):
        run_detector(detector, IMAGE, 0.5, timeout_s=10)


def test_run_detectors_deadline_comes_first_when_shorter(backend: Backend) -> None:
    backend.delay_s = 10
    detector = MLBackendDetector(backend.url, timeout_s=30)

    with pytest.raises(DetectorError, match=r"timed out after 0.3 s$"):
        run_detector(detector, IMAGE, 0.5, timeout_s=0.3)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            b"<html>Bad Gateway</html>",
            "with something that is not JSON: '<html>Bad Gateway</html>'",
        ),
        (b"", "with something that is not JSON: ''"),
        ({"predictions": []}, "the ML backend's answer has no 'results'"),
        ("ok", "the ML backend answered str, not {'results': \\[...\\]}"),
        ({"results": {"result": []}}, "'results' is dict, not a list"),
        ({"results": [{"score": 0.5}]}, "prediction is not {'result': \\[...\\]}"),
        ({"results": [{"result": [7]}]}, "result 1 is not an object"),
        (
            {"results": [{"result": [{"type": "rectanglelabels", "value": {"x": "left"}}]}]},
            r"result 1 \(rectanglelabels\) has no label",
        ),
        (
            {"results": [{"result": [{**RECT, "value": {**RECT["value"], "x": "left"}}]}]},
            "x, y, width, height must be numbers",
        ),
        (
            {"results": [{"result": [{**POLYGON, "value": {"polygonlabels": ["cat"]}}]}]},
            r"result 1 \(polygonlabels\) has no 'points' list",
        ),
        (
            {
                "results": [
                    {"result": [{**POLYGON, "value": {**POLYGON["value"], "points": [[1]]}}]}
                ]
            },
            r"point \[1\] is not \[x, y\] in percent",
        ),
        ({"results": [{"result": [{**RECT, "score": 90}]}]}, r"detection 1 \(car\) has score 90"),
    ],
)
def test_an_answer_of_the_wrong_shape_says_what_is_wrong(
    backend: Backend, payload: Any, message: str
) -> None:
    backend.answers["/predict"] = (200, payload)
    detector = MLBackendDetector(backend.url)

    with pytest.raises(DetectorError, match=message) as caught:
        run_detector(detector, IMAGE, 0.5, timeout_s=10)

    assert str(caught.value).startswith(f"{detector.name}: ")
