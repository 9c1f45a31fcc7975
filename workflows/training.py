"""Learning from corrections: fit a label head and per-label score thresholds for the
configured detector from people's finished shapes and the detector's stored shapes
(`python cli.py predict`) on the same images, and save them as the detector's next head
(models.head), which `predict` applies from then on.

The admin's background job calls train_from_corrections(services, progress=...) as the
command line does; it raises TrainingError with a one-line reason when there is too little
to learn from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.consensus import consensus_of
from analysis.matching import match_objects
from domain.annotation import Annotation, utc_now
from domain.geometry import bounding_box
from models.detector import Detector
from models.features import DESCRIPTION, box_features
from models.head import head_version, save_head
from models.learning import (
    DEFAULT_PRECISION,
    FOLDS,
    SEED,
    ImageExamples,
    Threshold,
    TrainingError,
    fit,
)
from models.suggestions import model_annotator
from storage.errors import StorageError, UnreadableImage
from storage.renditions import upright_rgb
from storage.runtime import Services
from workflows.agreement import load_work

MATCH_IOU = 0.5
Progress = Callable[[int, int, str], None]  # (done, total, image key)

__all__ = ["TrainReport", "TrainingError", "train_from_corrections"]


@dataclass(frozen=True)
class TrainReport:
    """What a training made: the new version, its data and how well it labels."""

    detector: str
    version: str  # '<detector version>+head<n>'
    path: str  # the head's JSON
    images: int
    objects: int  # people's objects (consensus) on images the detector ran on
    boxes: int  # the detector's boxes there
    matched: int  # boxes matching a person's object at IoU >= 0.5
    held_out_images: int
    held_out_objects: int
    before: float  # held-out label accuracy of the labels the detector's shapes carry
    after: float  # held-out label accuracy of the head
    thresholds: dict[str, Threshold]
    precision: float  # the target
    seconds: float
    problems: tuple[str, ...] = field(default_factory=tuple)  # images left out, and why

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (`train --json`)."""
        return {
            "detector": self.detector,
            "version": self.version,
            "path": self.path,
            "images": self.images,
            "objects": self.objects,
            "boxes": self.boxes,
            "matched": self.matched,
            "held_out": {
                "images": self.held_out_images,
                "objects": self.held_out_objects,
                "accuracy_before": round(self.before, 4),
                "accuracy_after": round(self.after, 4),
            },
            "precision_target": self.precision,
            "thresholds": {label: found.to_json() for label, found in self.thresholds.items()},
            "seconds": round(self.seconds, 3),
            "problems": list(self.problems),
        }

    def summary(self) -> str:
        """Lines for the command line: version, data, accuracy before and after, thresholds."""
        lines = [
            f"trained {self.version} for detector {self.detector} in {self.seconds:.1f} s: "
            f"{self.objects} people's object(s) and {self.boxes} detector box(es) "
            f"({self.matched} matched) on {self.images} image(s)",
            f"held-out label accuracy ({self.held_out_objects} object(s) on "
            f"{self.held_out_images} image(s)): before {self.before:.3f}, after {self.after:.3f}",
            f"score thresholds for precision {self.precision:g}:",
        ]
        for label, found in self.thresholds.items():
            if found.threshold is None:
                lines.append(f"  {label:<12} none ({found.boxes} box(es) never reach it)")
            else:
                recall = "-" if found.recall is None else f"{found.recall:.3f}"
                lines.append(
                    f"  {label:<12} {found.threshold:.3f} (precision {found.precision:.3f}, "
                    f"recall {recall}, {found.boxes} box(es))"
                )
        lines.append(f"saved {self.path}")
        lines += [f"  left out {problem}" for problem in self.problems]
        return "\n".join(lines)


def train_from_corrections(
    services: Services,
    detector: Detector | None = None,
    precision: float = DEFAULT_PRECISION,
    progress: Progress | None = None,
) -> TrainReport:
    """Fit and save the next head of the detector (default: DETECTOR's) from people's
    finished shapes and its stored shapes; TrainingError (one line) when there is too little
    data or no stored detector shapes, StorageError when the store cannot be read."""
    started = time.perf_counter()
    if detector is None:
        from models.loading import load_detector

        detector = load_detector(services.settings.detector)
        if detector is None:
            raise TrainingError("DETECTOR=none: no detector to learn for")
    if not 0 < precision <= 1:
        raise TrainingError(f"the target precision {precision} is outside (0, 1]")
    examples, problems = gather_examples(services, detector.name, progress)
    labels = [label.name for label in services.settings.labels]
    fitted = fit(examples, labels, precision, SEED)
    info = {
        "detector": detector.name,
        "detector_version": detector.version,
        "classes": list(fitted.classes),
        "inputs": list(fitted.inputs),
        "created": utc_now().isoformat(timespec="seconds"),
        "features": DESCRIPTION + " + one-hot of the mapped label",
        "model": "StandardScaler + LogisticRegression (scikit-learn, lbfgs)",
        "examples": {
            "images": fitted.images,
            "objects": fitted.objects,
            "boxes": fitted.boxes,
            "matched": fitted.matched,
        },
        "held_out": {
            "split": f"by image, seed {SEED}, 1 of {FOLDS} folds",
            "images": fitted.held_out_images,
            "objects": fitted.held_out_objects,
            "accuracy_before": fitted.before,
            "accuracy_after": fitted.after,
        },
        "precision_target": precision,
        "thresholds": {label: found.to_json() for label, found in fitted.thresholds.items()},
    }
    number, path = save_head(services.settings.data_dir, detector.name, fitted.arrays, info)
    return TrainReport(
        detector=detector.name,
        version=head_version(detector.version, number),
        path=str(path),
        images=fitted.images,
        objects=fitted.objects,
        boxes=fitted.boxes,
        matched=fitted.matched,
        held_out_images=fitted.held_out_images,
        held_out_objects=fitted.held_out_objects,
        before=fitted.before,
        after=fitted.after,
        thresholds=dict(fitted.thresholds),
        precision=precision,
        seconds=time.perf_counter() - started,
        problems=tuple(problems),
    )


def gather_examples(
    services: Services, detector_name: str, progress: Progress | None = None
) -> tuple[list[ImageExamples], list[str]]:
    """Per image that people finished (first passes, no repeats) and the detector ran on:
    people's consensus objects, the detector's stored boxes with scores, their matches at
    IoU >= 0.5 and everyone's features; and the images that could not be read, and why."""
    annotator = model_annotator(detector_name)
    truths = consensus_of(load_work(services), MATCH_IOU)
    model_rows = services.store.export_rows(annotator=annotator)
    seen = {key for key, _who in model_rows.statuses}
    if not seen:
        raise TrainingError(
            f"no shapes of {annotator} stored: run `python cli.py predict` first, so there "
            "are detector boxes to compare with people's"
        )
    boxes: dict[str, list[Annotation]] = {}
    for number, row in enumerate(model_rows.shapes):
        boxes.setdefault(row.image_key, []).append(
            Annotation(
                id=f"m{number}",
                image_key=row.image_key,
                annotator=annotator,
                label=row.label,
                kind=row.kind,  # type: ignore[arg-type]
                coords=row.coords,
                points=row.points,
                score=1.0 if row.score is None else float(row.score),
            )
        )
    keys = sorted(key for key in truths if key in seen)
    examples: list[ImageExamples] = []
    problems: list[str] = []
    for done, key in enumerate(keys):
        if progress:
            progress(done, len(keys), key)
        people = [found.as_annotation() for found in truths[key]]
        found = boxes.get(key, [])
        if not people and not found:  # empty for everyone: nothing to learn, nothing to read
            continue
        try:
            pixels = upright_rgb(services.images.source.read(key), key)
        except (UnreadableImage, StorageError) as exc:
            problems.append(f"{key}: {exc}")
            continue
        examples.append(image_examples(key, pixels, people, found))
    return examples, problems


def image_examples(
    key: str, pixels: np.ndarray, people: Sequence[Annotation], found: Sequence[Annotation]
) -> ImageExamples:
    """One image's examples: people's objects and the detector's boxes, matched one-to-one
    at IoU >= 0.5, with the features of each box's crop."""
    matches = match_objects(found, people, MATCH_IOU)
    return ImageExamples(
        image=key,
        truth_labels=tuple(shape.label for shape in people),
        truth_features=box_features(pixels, [bounding_box(shape) for shape in people]),
        model_labels=tuple(shape.label for shape in found),
        model_scores=tuple(float(shape.score or 0.0) for shape in found),
        model_features=box_features(pixels, [bounding_box(shape) for shape in found]),
        matches=tuple((match.a, match.b) for match in matches),
    )
