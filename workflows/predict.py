"""Run a detector over images of the source and store what it finds as its own annotator
(model:<name>), so suggestions are instant afterwards and the model can be measured like
an annotator."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from domain.annotation import Annotation, utc_now
from domain.sources import model_annotator, model_source
from models.detector import Detection, Detector, DetectorError
from models.head import head_version, load_head
from models.loading import run_detector
from models.suggestions import suggestion_records
from storage.errors import StorageError, UnreadableImage
from storage.renditions import upright_rgb
from storage.runtime import Services
from workflows.source_index import all_keys

CHUNK = 20  # images stored per transaction: a long run keeps what it has done

Detect = Callable[[np.ndarray], list[Detection]]  # pixels -> checked detections
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PredictReport:
    """What a prediction run did."""

    detector: str
    version: str
    annotator: str
    images: int  # images the detector looked at and whose shapes were stored
    suggestions: int  # shapes stored
    dropped: int  # detections of classes the label map drops
    seconds: float
    problems: tuple[str, ...] = field(default_factory=tuple)  # images that failed, and why
    below_threshold: int = 0  # detections under their label's threshold (a trained head's)
    head_note: str = ""  # why a trained label head was not used

    def to_json(self) -> dict[str, object]:
        """What cli.py predict --json prints."""
        return {
            "detector": self.detector,
            "version": self.version,
            "annotator": self.annotator,
            "images": self.images,
            "suggestions": self.suggestions,
            "dropped": self.dropped,
            "below_threshold": self.below_threshold,
            "seconds": round(self.seconds, 3),
            "problems": list(self.problems),
            "head_note": self.head_note,
        }

    def summary(self) -> str:
        """One line for the command line and the job's message."""
        failed = f", {len(self.problems)} image(s) failed" if self.problems else ""
        below = (
            f", {self.below_threshold} under the head's thresholds" if self.below_threshold else ""
        )
        return (
            f"{self.images} image(s), {self.suggestions} suggestion(s) stored as "
            f"{self.annotator} ({self.dropped} of unmapped classes dropped{below}{failed}); "
            f"detector {self.detector} {self.version}; {self.seconds:.1f} s"
        ) + (f"; label head not used: {self.head_note}" if self.head_note else "")


def batch_keys(services: Services, batch: str | None) -> list[str]:
    """The keys of one batch, or of every batch."""
    catalog = services.images.catalog
    if batch is None:
        return all_keys(catalog)
    return catalog.keys_from(batch, 0, catalog.total(batch))


def predict_images(
    services: Services,
    keys: Sequence[str],
    detect: Detect,
    name: str,
    version: str,
    label_of: Callable[[str], str | None],
    progress: Progress | None = None,
    learned: bool = True,
) -> PredictReport:
    """Detect on each image and store the shapes as model:<name>, CHUNK images per
    transaction; an image that cannot be read or that the detector fails on is reported
    and skipped, never stops the run. When `learned` and a label head was trained for the
    detector (`python cli.py train`), it relabels the mapped detections and drops those under
    their label's threshold, and the version becomes '<version>+head<n>' (HeadError, a
    DetectorError, when its files cannot be read; a head trained on another version of the
    detector or for other labels is left out, and the report says why)."""
    started = time.perf_counter()
    groups: list[tuple[str, str, Sequence[Annotation]]] = []
    problems: list[str] = []
    head = load_head(services.settings.data_dir, name) if learned else None
    labels = [label.name for label in services.settings.labels]
    note = head.misfit(labels, version) if head is not None else None
    if note:
        head = None
    if head is not None:
        version = head_version(version, head.number)
    project = label_of if head is None else _as_is
    annotator, source = model_annotator(name), model_source(name, version)
    images = suggestions = dropped = below = 0

    def store() -> None:
        if groups:
            services.store.replace_images(groups, actor=annotator)
            groups.clear()

    for number, key in enumerate(keys):
        if progress:
            progress(number, len(keys), key)
        try:
            pixels = upright_rgb(services.images.source.read(key), key)
            found = detect(pixels)
        except (DetectorError, UnreadableImage, StorageError) as exc:
            problems.append(f"{key}: {exc}")
            continue
        if head is not None:
            found, unmapped, cut = head.apply(pixels, found, label_of)
            dropped, below = dropped + unmapped, below + cut
        records, lost = suggestion_records(found, key, annotator, source, project, utc_now())
        groups.append((key, annotator, records))
        images, suggestions, dropped = images + 1, suggestions + len(records), dropped + lost
        if len(groups) >= CHUNK:
            store()
    store()
    seconds = time.perf_counter() - started
    return PredictReport(
        name,
        version,
        annotator,
        images,
        suggestions,
        dropped,
        seconds,
        tuple(problems),
        below,
        note or "",
    )


def _as_is(label: str) -> str | None:
    """The label unchanged: a head's labels are project labels already."""
    return label


def predict_with(
    services: Services,
    detector: Detector,
    keys: Sequence[str],
    min_score: float,
    timeout_s: float,
    progress: Progress | None = None,
) -> PredictReport:
    """predict_images with a loaded detector: each image's call bounded by timeout_s
    (models.loading.run_detector), its classes mapped by the project's LABEL_MAP."""

    def detect(pixels: np.ndarray) -> list[Detection]:
        return run_detector(detector, pixels, min_score, timeout_s)

    label_of = services.settings.label_mapping.project_label
    return predict_images(
        services, keys, detect, detector.name, detector.version, label_of, progress
    )
