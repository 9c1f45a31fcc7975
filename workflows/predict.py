"""Run a detector over images of the source and store what it finds as its own annotator
(model:<name>), so suggestions are instant afterwards and the model can be measured like
an annotator."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from domain.annotation import Annotation, utc_now
from models.detector import Detection, DetectorError
from models.suggestions import model_annotator, model_source, suggestion_records
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

    def summary(self) -> str:
        """One line for the command line and the job's message."""
        failed = f", {len(self.problems)} image(s) failed" if self.problems else ""
        return (
            f"{self.images} image(s), {self.suggestions} suggestion(s) stored as "
            f"{self.annotator} ({self.dropped} of unmapped classes dropped{failed}); "
            f"detector {self.detector} {self.version}; {self.seconds:.1f} s"
        )


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
) -> PredictReport:
    """Detect on each image and store the shapes as model:<name>, CHUNK images per
    transaction; an image that cannot be read or that the detector fails on is reported
    and skipped, never stops the run."""
    started = time.perf_counter()
    annotator, source = model_annotator(name), model_source(name, version)
    groups: list[tuple[str, str, Sequence[Annotation]]] = []
    problems: list[str] = []
    images = suggestions = dropped = 0

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
        records, lost = suggestion_records(found, key, annotator, source, label_of, utc_now())
        groups.append((key, annotator, records))
        images, suggestions, dropped = images + 1, suggestions + len(records), dropped + lost
        if len(groups) >= CHUNK:
            store()
    store()
    seconds = time.perf_counter() - started
    return PredictReport(
        name, version, annotator, images, suggestions, dropped, seconds, tuple(problems)
    )
