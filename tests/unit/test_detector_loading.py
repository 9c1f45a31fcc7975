"""DETECTOR chooses the detector; run_detector calls it with a deadline and turns every
failure into one DetectorError a person can read."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.detector import Detection, DetectorError
from models.detector_spec import DetectorSpecError, parse_detector_spec
from models.loading import check_detector, load_detector, run_detector
from tests.unit.plugin_detector import FakeDetector

PLUGIN = "tests.unit.plugin_detector"
IMAGE = np.zeros((100, 200, 3), dtype=np.uint8)  # 200 wide, 100 high

# --- the forms DETECTOR takes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("none", "none"),
        (" NONE ", "none"),
        ("nanodet", "nanodet"),
        ("NanoDet", "nanodet"),
        ("my_models.detect:make", "factory"),
        ("pkg.sub.mod:Factory.create", "factory"),
        ("mod:make", "factory"),
        ("http://127.0.0.1:9090", "url"),
        ("https://ml.internal/backend/", "url"),
        ("HTTPS://user:secret@ml.internal", "url"),
    ],
)
def test_the_accepted_forms(spec: str, kind: str) -> None:
    assert parse_detector_spec(spec).kind == kind


def test_a_factory_spec_splits_into_module_and_attribute() -> None:
    spec = parse_detector_spec("pkg.mod:Factory.create")

    assert (spec.module, spec.attribute) == ("pkg.mod", "Factory.create")


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "yolo",
        "mod:",
        ":make",
        "a:b:c",
        "1mod:make",
        "my-models:make",
        "mod:make()",
        "mod.:make",
        "ftp://host/model",
        "/path/to/model.onnx",
    ],
)
def test_other_forms_are_refused_with_the_list_of_forms(spec: str) -> None:
    with pytest.raises(DetectorSpecError, match="use none, nanodet, module.path:factory"):
        parse_detector_spec(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("http://", "names no host"),
        ("https:///predict", "names no host"),
        ("http://host:port", "port that is not a number"),
    ],
)
def test_a_url_without_host_or_with_a_bad_port_is_refused(spec: str, message: str) -> None:
    with pytest.raises(DetectorSpecError, match=message):
        parse_detector_spec(spec)


def test_a_password_in_a_bad_url_is_not_repeated() -> None:
    with pytest.raises(DetectorSpecError) as caught:
        parse_detector_spec("http://ann:hunter2@:port")

    assert "hunter2" not in str(caught.value)
    assert "ann:***@" in str(caught.value)


# --- loading ------------------------------------------------------------------------------


def test_none_means_no_detector() -> None:
    assert load_detector("none") is None


def test_a_bad_spec_is_a_detector_error() -> None:
    with pytest.raises(DetectorError, match="'yolo' is not a detector"):
        load_detector("yolo")


def test_a_users_factory_gives_their_detector() -> None:
    detector = load_detector(f"{PLUGIN}:make")

    assert isinstance(detector, FakeDetector)
    assert (detector.name, detector.version) == ("fake", "1.0")


def test_a_factory_behind_a_dotted_attribute() -> None:
    assert isinstance(load_detector(f"{PLUGIN}:Factories.make"), FakeDetector)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module:make", "no module 'no_such_module' on the Python path$"),
        (f"{PLUGIN}:missing", f"module '{PLUGIN}' has no 'missing'"),
        (f"{PLUGIN}:NOT_CALLABLE", "'NOT_CALLABLE' is not callable"),
        (
            f"{PLUGIN}:broken",
            "the factory raised RuntimeError: weights file /models/mine.pt is missing$",
        ),
        (f"{PLUGIN}:needs_an_argument", "the factory raised TypeError: .*missing 1 required"),
        (f"{PLUGIN}:no_detect", "returned NoDetect, which lacks detect"),
        (f"{PLUGIN}:number_version", "version 2 is not a string"),
    ],
)
def test_a_factory_that_goes_wrong_says_how(spec: str, message: str) -> None:
    with pytest.raises(DetectorError, match=message) as caught:
        load_detector(spec)

    assert str(caught.value).startswith(f"DETECTOR={spec}: ")


def test_a_missing_parent_package_is_named() -> None:
    with pytest.raises(DetectorError, match="no module 'no_such_pkg' on the Python path"):
        load_detector("no_such_pkg.models:make")


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on the import path for plug-in modules written by a test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("concord_test_")]:
        del sys.modules[name]


def test_a_module_that_fails_to_import_says_why(plugin_dir: Path) -> None:
    (plugin_dir / "concord_test_crash.py").write_text("raise ValueError('no GPU found')\n")

    with pytest.raises(DetectorError, match="importing 'concord_test_crash' failed: ValueError"):
        load_detector("concord_test_crash:make")


def test_a_module_that_needs_a_missing_package_says_which(plugin_dir: Path) -> None:
    (plugin_dir / "concord_test_needs.py").write_text("import torch_that_is_not_here\n")

    with pytest.raises(DetectorError, match="No module named 'torch_that_is_not_here'"):
        load_detector("concord_test_needs:make")


def test_a_module_that_exits_does_not_stop_the_app(plugin_dir: Path) -> None:
    (plugin_dir / "concord_test_exit.py").write_text("import sys\nsys.exit('bye')\n")

    with pytest.raises(DetectorError, match="SystemExit: bye"):
        load_detector("concord_test_exit:make")


def test_nanodet_goes_through_its_own_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_module = type(sys)("models.nanodet")
    fake_module.load_nanodet = lambda: FakeDetector()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "models.nanodet", fake_module)

    assert isinstance(load_detector("nanodet"), FakeDetector)


def test_nanodets_own_errors_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable() -> None:
        raise DetectorError("nanodet: onnxruntime is not installed")

    fake_module = type(sys)("models.nanodet")
    fake_module.load_nanodet = unavailable  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "models.nanodet", fake_module)

    with pytest.raises(DetectorError, match="^nanodet: onnxruntime is not installed$"):
        load_detector("nanodet")


def test_nanodet_absent_from_the_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "models.nanodet", None)  # import fails as if missing

    with pytest.raises(DetectorError, match="nanodet: .*set DETECTOR=none"):
        load_detector("nanodet")


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (object(), "lacks name, version, labels, detect"),
        (type("L", (FakeDetector,), {"labels": "car"})(), "labels is not a list of class names"),
        (type("N", (FakeDetector,), {"name": " "})(), "name ' ' is not a non-empty string"),
        (type("D", (FakeDetector,), {"detect": 5})(), "detect is not callable"),
    ],
)
def test_check_detector_names_what_is_missing(candidate: object, message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        check_detector(candidate, "mine")


# --- running ------------------------------------------------------------------------------


class Scripted(FakeDetector):
    """Answers `answer`, or raises `error`, and remembers what it was asked."""

    def __init__(self, answer: Any = None, error: BaseException | None = None) -> None:
        super().__init__()
        self.scripted, self.error = answer, error
        self.calls: list[tuple[tuple[int, ...], float]] = []

    def detect(self, image: np.ndarray, min_score: float) -> Any:
        self.calls.append((image.shape, min_score))
        if self.error is not None:
            raise self.error
        return self.scripted


def test_run_detector_checks_clips_and_filters_the_answer() -> None:
    detector = Scripted(
        [
            {"label": "car", "score": 0.9, "box": [-10, 10, 50, 500]},
            {"label": "cat", "score": 0.3, "box": [0, 0, 10, 10]},
            {"label": "traffic light", "score": 0.7, "points": [[0, 0], [300, 0], [150, 50]]},
        ]
    )

    found = run_detector(detector, IMAGE, 0.5, timeout_s=5)

    assert detector.calls == [((100, 200, 3), 0.5)]
    assert found == [
        Detection("car", 0.9, (0.0, 10.0, 50.0, 100.0)),
        Detection("traffic light", 0.7, None, ((0.0, 0.0), (200.0, 0.0), (150.0, 50.0))),
    ]


def test_a_detector_that_raises_becomes_name_and_first_line() -> None:
    detector = Scripted(error=ValueError("input must be 320x320\n  at line 3"))

    with pytest.raises(DetectorError, match=r"^fake: input must be 320x320$"):
        run_detector(detector, IMAGE, 0.5, timeout_s=5)


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    with pytest.raises(DetectorError, match=r"^fake: MemoryError$"):
        run_detector(Scripted(error=MemoryError()), IMAGE, 0.5, timeout_s=5)


def test_even_a_system_exit_inside_detect_is_a_detector_error() -> None:
    with pytest.raises(DetectorError, match=r"^fake: stop$"):
        run_detector(Scripted(error=SystemExit("stop")), IMAGE, 0.5, timeout_s=5)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "fake: the detector answered NoneType, not a list"),
        ([{"score": 0.5, "box": [0, 0, 5, 5]}], "fake: detection 1 has no label"),
        ([{"label": "car", "score": 7, "box": [0, 0, 5, 5]}], r"fake: detection 1 \(car\)"),
        ([{"label": "car", "score": 0.5}], "neither box nor points"),
    ],
)
def test_an_unusable_answer_says_what_is_wrong(answer: Any, message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        run_detector(Scripted(answer), IMAGE, 0.5, timeout_s=5)


def test_a_slow_detector_times_out_and_the_caller_moves_on() -> None:
    release = threading.Event()

    class Stuck(FakeDetector):
        name = "stuck"

        def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
            release.wait(30)
            return []

    started = time.monotonic()
    try:
        with pytest.raises(DetectorError, match=r"^stuck: timed out after 0.2 s$"):
            run_detector(Stuck(), IMAGE, 0.5, timeout_s=0.2)
        assert time.monotonic() - started < 2
    finally:
        release.set()  # let the abandoned call end


@pytest.mark.parametrize(
    ("image", "min_score", "timeout_s", "message"),
    [
        (np.zeros((10, 10), dtype=np.uint8), 0.5, 5, r"the image is \(10, 10\), not an RGB"),
        ("picture.jpg", 0.5, 5, "the image is str"),
        (IMAGE, 1.5, 5, "min_score 1.5 is not in"),
        (IMAGE, 0.5, 0, "timeout 0 is not a positive"),
    ],
)
def test_bad_arguments_are_detector_errors_too(
    image: Any, min_score: float, timeout_s: float, message: str
) -> None:
    with pytest.raises(DetectorError, match=message):
        run_detector(Scripted([]), image, min_score, timeout_s)


def test_a_detector_without_a_usable_name_is_called_detector() -> None:
    class Nameless:
        @property
        def name(self) -> str:
            raise RuntimeError("no name")

        def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
            raise OSError("disk gone")

    with pytest.raises(DetectorError, match=r"^detector: disk gone$"):
        run_detector(Nameless(), IMAGE, 0.5, timeout_s=5)  # type: ignore[arg-type]
