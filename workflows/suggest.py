"""Suggestions on the annotate page: whether they are offered, the detector (loaded once per
process, on the first Suggest), and a model's shapes on one image.

Where suggestions come from: when the image already has shapes of model:<name> stored for
the configured detector (from `cli.py predict`, or an earlier Suggest by anyone), those, at
once, whatever version made them (each keeps its own source, model:<name>@<version>, and
`predict` replaces them when run again). Otherwise the detector looks at the image now,
through `predict`'s own path (its upright pixels, at most SUGGEST_TIMEOUT_S, the label map,
a trained head if there is one), and what it finds is stored as model:<name>, so the next
person gets it at once. An image the model found nothing on is looked at again next time
(its 'empty' status says no version). Suggestions the labeler accepted or rejected on the
image before (and did not undo) are left out.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from dataclasses import dataclass

from config import suggestions_enabled
from domain.annotation import Annotation
from domain.suggestions import Suggestion, SuggestionsState, decided_ids, suggestion_of
from models.detector import Detector, DetectorError
from models.detector_spec import DEFAULT_DETECTOR
from models.loading import load_detector
from models.suggestions import MODEL_PREFIX, model_annotator
from storage.runtime import Services, assignment_setup, repeat_share
from workflows.predict import predict_with

log = logging.getLogger("concord.suggest")

SUGGEST_MIN_SCORE = 0.35  # what detection keeps (cli.py predict's default --min-score)
SUGGEST_TIMEOUT_S = 20.0  # a labeler waits at most this long for the detector
README = "README, 'Detectors: pre-annotating with a model'"

_loaded: dict[str, Detector] = {}
_loading = threading.Lock()


@dataclass(frozen=True)
class Offer:
    """Whether the annotate page offers suggestions now: `shown` (the controls are on the
    page), `usable` (Suggest works), and why not, said to the labeler."""

    shown: bool
    usable: bool
    reason: str = ""


def offer(services: Services) -> Offer:
    """What SUGGESTIONS, DETECTOR and the live assignment settings (an admin's values in
    the app, else the environment's) allow. Hidden while agreement is measured (`auto`) or
    when switched off; shown but disabled, saying how to switch it on, without a usable
    detector. Loads no detector (and so never imports onnxruntime)."""
    settings = services.settings
    k, _minutes = assignment_setup(settings, services.app_settings)
    percent = round(repeat_share(settings, services.app_settings) * 100)
    if suggestions_enabled(settings.suggestions, settings.detector, k, percent):
        missing = _builtin_missing() if settings.detector == DEFAULT_DETECTOR else ""
        return Offer(True, not missing, missing)
    if settings.detector == "none" and suggestions_enabled(
        settings.suggestions, DEFAULT_DETECTOR, k, percent
    ):
        return Offer(
            True,
            False,
            "No detector is configured (DETECTOR=none): set DETECTOR=nanodet, or a model "
            f"of your own, to get suggestions (see the {README}).",
        )
    if settings.suggestions == "off":
        return Offer(False, False, "Suggestions are switched off (SUGGESTIONS=off).")
    return Offer(
        False,
        False,
        "Suggestions are off while agreement is measured (two or more annotators per "
        "image, or repeats): people shown the same suggestions agree more than they would "
        "alone. SUGGESTIONS=on offers them anyway.",
    )


def _builtin_missing() -> str:
    """Why the built-in detector cannot run here ('' when it can), found without importing
    onnxruntime."""
    from models import nanodet

    if _loaded.get(DEFAULT_DETECTOR) is not None:
        return ""
    if importlib.util.find_spec("onnxruntime") is None:
        return (
            "Suggestions need onnxruntime for the built-in detector: pip install "
            f"{nanodet.ONNXRUNTIME_REQUIREMENT} (it is in requirements.txt), or set DETECTOR "
            f"to another model (see the {README})."
        )
    if not nanodet.WEIGHTS.is_file():
        return (
            f"Suggestions need the built-in detector's weights at {nanodet.WEIGHTS}: restore "
            f"models/weights/ from the repository (see the {README})."
        )
    return ""


def detector_for(spec: str) -> Detector:
    """The detector DETECTOR names, loaded on first use and kept for the process's life;
    DetectorError saying what went wrong (a failed load is tried again next time)."""
    with _loading:
        found = _loaded.get(spec)
        if found is None:
            loaded = load_detector(spec, timeout_s=SUGGEST_TIMEOUT_S)
            if loaded is None:
                raise DetectorError("no detector is configured (DETECTOR=none)")
            found = _loaded[spec] = loaded
    return found


def loaded_detector(spec: str) -> Detector | None:
    """The detector DETECTOR names if this process has loaded it already, else None (loads
    nothing)."""
    with _loading:
        return _loaded.get(spec)


def forget_detectors() -> None:
    """Drop the loaded detectors (tests switch DETECTOR between cases)."""
    with _loading:
        _loaded.clear()


def _from_model(record: Annotation) -> bool:
    """True for a shape a detector stored (a content-hashed id and a score): a person who
    called themselves model:<name> is never shown to others as a suggestion."""
    return record.id.startswith("m-") and record.score is not None


def model_shapes(
    services: Services, key: str, detector: Detector, timeout_s: float = SUGGEST_TIMEOUT_S
) -> tuple[tuple[Annotation, ...], str]:
    """The detector's shapes on the image and where they came from ('stored' or
    'detected'): see the module's docstring. DetectorError (the detector failed, the image
    cannot be read) or StorageError (the database) when there are none to give."""
    annotator = model_annotator(detector.name)
    kept = services.store.annotations_for(key, annotator)
    if kept:
        if not all(_from_model(r) for r in kept):
            raise DetectorError(
                f"{annotator} holds shapes a person drew on this image, so the model's are "
                "neither shown nor stored over them (rename that annotator)"
            )
        return tuple(kept), "stored"

    report = predict_with(services, detector, [key], SUGGEST_MIN_SCORE, timeout_s)
    if report.problems:
        raise DetectorError(report.problems[0])
    return tuple(services.store.annotations_for(key, annotator)), "detected"


def suggest(services: Services, key: str, annotator: str) -> SuggestionsState:
    """The suggestions for `annotator` on the image: the configured detector's shapes less
    those they decided on already. DetectorError or StorageError when there are none."""
    started = time.perf_counter()
    detector = detector_for(services.settings.detector)
    records, origin = model_shapes(services, key, detector)
    decided = decided_ids(services.store.events(key, annotator))
    items = tuple(suggestion_of(r) for r in records if r.id not in decided)
    sources = sorted({r.source for r in records}) or [f"{detector.name}@{detector.version}"]
    shown_as = ", ".join(source.removeprefix(MODEL_PREFIX) for source in sources)
    return SuggestionsState(key, annotator, items, shown_as, origin, time.perf_counter() - started)


def still_offered(
    services: Services, key: str, annotator: str, wanted: set[str]
) -> tuple[Suggestion, ...]:
    """Of the suggestion ids a labeler's page asks to accept or reject, those the model has
    stored on the image and the labeler has not decided on yet, as the server has them (the
    browser's copy says only which ones: a forged or stale one is not taken). DetectorError
    or StorageError when they cannot be read."""
    detector = detector_for(services.settings.detector)
    kept = services.store.annotations_for(key, model_annotator(detector.name))
    decided = decided_ids(services.store.events(key, annotator))
    found = (suggestion_of(r) for r in kept if _from_model(r) and r.id in wanted - decided)
    return tuple(sorted(found, key=lambda s: (-s.score, s.id)))
