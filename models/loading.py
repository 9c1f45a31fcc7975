"""Choosing the detector DETECTOR names, and calling it so that nothing but a DetectorError
ever comes back.

DETECTOR is `nanodet` (the built-in model), `none` (no suggestions), `module:factory` (a
zero-argument callable on the import path that returns a detector: users' own models), or the
http(s):// URL of a Label Studio ML backend.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.detector import Detection, Detector, DetectorError, checked_detections
from models.detector_spec import DetectorSpec, DetectorSpecError, parse_detector_spec

log = logging.getLogger("concord.models")

DEFAULT_TIMEOUT_S = 30.0


def load_detector(spec: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Detector | None:
    """The detector DETECTOR names, ready to use, or None for `none`; DetectorError saying
    what went wrong (bad spec, failed import, a factory that raised, not a detector, an ML
    backend that cannot be reached)."""
    try:
        parsed = parse_detector_spec(spec)
    except DetectorSpecError as exc:
        raise DetectorError(str(exc)) from None
    if parsed.kind == "none":
        return None
    if parsed.kind == "nanodet":
        return _load_nanodet()
    if parsed.kind == "url":
        from models.ml_backend import MLBackendDetector

        backend = MLBackendDetector(parsed.text, timeout_s=timeout_s)
        backend.probe()
        return backend
    return _from_factory(parsed)


def _load_nanodet() -> Detector:
    try:
        module = importlib.import_module("models.nanodet")
    except ModuleNotFoundError as exc:
        if exc.name != "models.nanodet":
            raise DetectorError(f"nanodet: cannot import {exc.name}: {_first_line(exc)}") from None
        raise DetectorError(
            "nanodet: the built-in detector is not part of this installation; "
            "set DETECTOR=none or another detector"
        ) from None
    except Exception as exc:
        raise DetectorError(f"nanodet: {_first_line(exc)}") from None
    try:
        detector = module.load_nanodet()
    except DetectorError:
        raise
    except Exception as exc:
        raise DetectorError(f"nanodet: {_first_line(exc)}") from None
    return check_detector(detector, "nanodet")


def _from_factory(spec: DetectorSpec) -> Detector:
    where = f"DETECTOR={spec.text}"
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name != spec.module and spec.module.startswith(exc.name + "."):
            what = f"no module {exc.name!r} on the Python path (looking for {spec.module!r})"
        elif exc.name == spec.module:
            what = f"no module {spec.module!r} on the Python path"
        else:  # the module itself imports something missing
            what = f"importing {spec.module!r} failed: {_first_line(exc)}"
        raise DetectorError(f"{where}: {what}") from None
    except (Exception, SystemExit) as exc:
        raise DetectorError(
            f"{where}: importing {spec.module!r} failed: {_described(exc)}"
        ) from None
    factory: Any = module
    for name in spec.attribute.split("."):
        if not hasattr(factory, name):
            raise DetectorError(f"{where}: module {spec.module!r} has no {spec.attribute!r}")
        factory = getattr(factory, name)
    if not callable(factory):
        raise DetectorError(f"{where}: {spec.attribute!r} is not callable")
    try:
        detector = factory()
    except (Exception, SystemExit) as exc:
        raise DetectorError(f"{where}: the factory raised {_described(exc)}") from None
    return check_detector(detector, where)


def check_detector(candidate: object, where: str) -> Detector:
    """The candidate when it has what a detector needs (name, version, labels, detect);
    DetectorError naming what it lacks."""
    needs = "a detector needs name, version, labels and detect(image, min_score)"
    what = type(candidate).__name__
    missing = [n for n in ("name", "version", "labels", "detect") if not hasattr(candidate, n)]
    if missing:
        raise DetectorError(f"{where}: returned {what}, which lacks {', '.join(missing)}; {needs}")
    problems = []
    name, version, labels = (getattr(candidate, n) for n in ("name", "version", "labels"))
    if not isinstance(name, str) or not name.strip():
        problems.append(f"name {name!r} is not a non-empty string")
    if not isinstance(version, str):
        problems.append(f"version {version!r} is not a string")
    if (
        isinstance(labels, str)
        or not isinstance(labels, Sequence)
        or not all(isinstance(label, str) for label in labels)
    ):
        problems.append("labels is not a list of class names")
    if not callable(getattr(candidate, "detect")):  # noqa: B009 - checked by hasattr above
        problems.append("detect is not callable")
    if problems:
        raise DetectorError(f"{where}: returned {what} whose {'; '.join(problems)}; {needs}")
    return candidate  # type: ignore[return-value]


def run_detector(
    detector: Detector, image: np.ndarray, min_score: float, timeout_s: float
) -> list[Detection]:
    """detector.detect on image, at most timeout_s seconds, its answer checked and clipped to
    the image and scores below min_score left out. Any failure, timeout or unusable answer is
    a DetectorError "<name>: <what happened>"; no other exception escapes."""
    name = _name_of(detector)
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise DetectorError(f"{name}: the image is {shape}, not an RGB array (height, width, 3)")
    if not isinstance(min_score, int | float) or not 0.0 <= min_score <= 1.0:
        raise DetectorError(f"{name}: min_score {min_score!r} is not in [0, 1]")
    if not isinstance(timeout_s, int | float) or not timeout_s > 0:
        raise DetectorError(f"{name}: timeout {timeout_s!r} is not a positive number of seconds")
    height, width = int(image.shape[0]), int(image.shape[1])
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["answer"] = detector.detect(image, float(min_score))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, never raised here
            outcome["error"] = exc

    # A daemon thread: a detect that never returns cannot be killed, but it neither holds up
    # the caller beyond the deadline nor keeps the process alive at exit.
    worker = threading.Thread(target=call, name=f"detect-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        log.warning("detector %s timed out after %g s; its call is left running", name, timeout_s)
        raise DetectorError(f"{name}: timed out after {timeout_s:g} s")
    if "error" in outcome:
        exc = outcome["error"]
        if not isinstance(exc, DetectorError):
            log.warning("detector %s failed", name, exc_info=exc)
        raise DetectorError(f"{name}: {_first_line(exc)}") from None
    if "answer" not in outcome:
        raise DetectorError(f"{name}: stopped without an answer")
    try:
        found = checked_detections(outcome["answer"], width, height)
    except DetectorError as exc:
        raise DetectorError(f"{name}: {exc}") from None
    except Exception as exc:  # an answer whose items misbehave (e.g. a dict subclass)
        raise DetectorError(f"{name}: unusable answer: {_first_line(exc)}") from None
    return [detection for detection in found if detection.score >= min_score]


def _name_of(detector: object) -> str:
    try:
        name = getattr(detector, "name", None)
    except Exception:
        name = None
    return name if isinstance(name, str) and name.strip() else "detector"


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type when it has none."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _described(exc: BaseException) -> str:
    """'TypeName: first line', for errors in users' code where the type says much."""
    line = _first_line(exc)
    kind = type(exc).__name__
    return line if line == kind else f"{kind}: {line}"
