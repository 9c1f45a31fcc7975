"""A label head learnt from people's corrections: it relabels a detector's boxes with the
project's labels, keeps per label only the boxes scoring at least that label's threshold, and
proposes the label of a box a person draws.

The head is a multinomial logistic regression (models.learning fits it with scikit-learn) on
models.features of the crop, followed by a one-hot of the label the detector's class maps to
(all zeros for a box a person draws). Applying it is plain numpy: standardise, one matrix
product, softmax; scikit-learn is not imported.

Each training writes head-<n>.npz (the arrays) and head-<n>.json (labels, thresholds, how it
was made and how well it does) under DATA_DIR/models/<detector name>/; the newest n is the one
used, and its version is "<detector version>+head<n>". Loading reads numbers and JSON only:
np.load with allow_pickle=False never runs code from the file (no pickle, no joblib), so even a
file someone else put there cannot execute anything; the files are ours, written by `train`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.detector import Detection, DetectorError
from models.features import SIZE, Box, box_features

log = logging.getLogger("concord.models")

FORMAT = 1  # head-<n>.json's "format": what this code reads
_ARRAYS = ("mean", "scale", "coef", "intercept")
_NAME = re.compile(r"head-(\d+)\.json")


class HeadError(DetectorError):
    """A saved head cannot be read or does not fit this code."""


@dataclass(frozen=True, eq=False)
class Head:
    """A trained label head for one detector (module doc). `classes` are the labels it
    answers, `inputs` the project labels of its one-hot input; thresholds: label -> lowest
    score kept (None: every score kept)."""

    detector: str
    number: int
    detector_version: str
    classes: tuple[str, ...]
    inputs: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features) or (1, features) for two classes
    intercept: np.ndarray
    thresholds: Mapping[str, float | None] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)  # head-<n>.json as written

    @property
    def version(self) -> str:
        """'<detector version>+head<n>': the version of the shapes it helped make."""
        return head_version(self.detector_version, self.number)

    def misfit(self, labels: Sequence[str], detector_version: str) -> str | None:
        """Why the head does not fit the detector and project now (trained on another
        version of the detector, or answering labels LABELS no longer has), or None."""
        if self.detector_version != detector_version:
            return (
                f"head {self.number} of {self.detector} was trained on its version "
                f"{self.detector_version!r}, not {detector_version!r}: run predict and train again"
            )
        missing = [label for label in self.classes if label not in labels]
        if missing:
            return (
                f"head {self.number} of {self.detector} answers labels LABELS no longer has "
                f"({', '.join(missing)}): run train again"
            )
        return None

    def probabilities(self, features: np.ndarray, model_labels: Sequence[str | None]) -> np.ndarray:
        """(boxes, classes) probabilities for rows of box features and the project label each
        box's detector class maps to (None: a box a person drew)."""
        inputs = np.hstack([features, one_hot(model_labels, self.inputs)])
        logits = ((inputs - self.mean) / self.scale) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # two classes: scikit-learn keeps one row of weights
            logits = np.hstack([np.zeros_like(logits), logits])
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return np.asarray(odds / odds.sum(axis=1, keepdims=True))

    def relabel(self, image: np.ndarray, detections: Sequence[Detection]) -> list[Detection]:
        """The detections with the head's labels; each detection's label must already be a
        project label (the detector's class through LABEL_MAP)."""
        if not detections:
            return []
        features = box_features(image, [_box_of(found) for found in detections])
        best = self.probabilities(features, [found.label for found in detections]).argmax(axis=1)
        return [
            dataclasses.replace(found, label=self.classes[int(index)])
            for found, index in zip(detections, best)
        ]

    def confident(self, detections: Sequence[Detection]) -> list[Detection]:
        """The detections that reach their label's score threshold (all when it has none)."""
        return [
            found
            for found in detections
            if (limit := self.thresholds.get(found.label)) is None or found.score >= limit
        ]

    def apply(
        self,
        image: np.ndarray,
        detections: Sequence[Detection],
        label_of: Callable[[str], str | None],
    ) -> tuple[list[Detection], int, int]:
        """A detector's own detections mapped (label_of), relabelled and thresholded: (kept,
        how many the mapping dropped, how many fell below their label's threshold)."""
        mapped = []
        for found in detections:
            label = label_of(found.label)
            if label is not None:
                mapped.append(dataclasses.replace(found, label=label))
        relabelled = self.relabel(image, mapped)
        kept = self.confident(relabelled)
        return kept, len(detections) - len(mapped), len(relabelled) - len(kept)

    def label_for_box(self, image: np.ndarray, box: Box) -> tuple[str, float]:
        """The label to pre-select for a box a person drew (x0, y0, x1, y1, image pixels),
        with the head's probability for it."""
        probabilities = self.probabilities(box_features(image, [box]), [None])[0]
        best = int(probabilities.argmax())
        return self.classes[best], float(probabilities[best])


def head_version(detector_version: str, number: int) -> str:
    """The version a head gives a detector's shapes: '<detector version>+head<n>'."""
    return f"{detector_version}+head{number}"


def one_hot(labels: Sequence[str | None], inputs: Sequence[str]) -> np.ndarray:
    """(len(labels), len(inputs)) indicators of each label among inputs (None, or a label
    not among them: a row of zeros)."""
    where = {label: index for index, label in enumerate(inputs)}
    rows = np.zeros((len(labels), len(inputs)), np.float64)
    for row, label in enumerate(labels):
        if label is not None and label in where:
            rows[row, where[label]] = 1.0
    return rows


def _box_of(found: Detection) -> Box:
    if found.box is not None:
        return found.box
    xs = [x for x, _ in found.points]
    ys = [y for _, y in found.points]
    return (min(xs), min(ys), max(xs), max(ys))


def head_folder(data_dir: Path, detector_name: str) -> Path:
    """Where a detector's heads are kept: DATA_DIR/models/<name>, the name made file-safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", detector_name).strip("._") or "detector"
    return Path(data_dir) / "models" / safe


def head_numbers(data_dir: Path, detector_name: str) -> list[int]:
    """The numbers of the complete heads saved for a detector, ascending."""
    folder = head_folder(data_dir, detector_name)
    if not folder.is_dir():
        return []
    numbers = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if match and path.with_suffix(".npz").is_file():
            numbers.append(int(match.group(1)))
    return sorted(numbers)


def load_head(data_dir: Path, detector_name: str) -> Head | None:
    """The newest head trained for this detector, or None when there is none; HeadError
    when its files cannot be read. Reads only numbers and JSON (module doc): nothing in the
    files is ever executed."""
    numbers = head_numbers(data_dir, detector_name)
    if not numbers:
        return None
    path = head_folder(data_dir, detector_name) / f"head-{numbers[-1]}.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as stored:
            arrays = {name: np.asarray(stored[name], np.float64) for name in _ARRAYS}
    except (OSError, ValueError, KeyError) as exc:
        raise HeadError(f"cannot read the label head {path}: {exc}") from None
    return _head(info, arrays, detector_name, numbers[-1], path)


def _head(info: Any, arrays: dict[str, np.ndarray], name: str, number: int, path: Path) -> Head:
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise HeadError(f"{path} is not a label head this version of Concord reads")
    classes = tuple(str(label) for label in info.get("classes", ()))
    inputs = tuple(str(label) for label in info.get("inputs", ()))
    width = SIZE + len(inputs)
    rows = 1 if len(classes) == 2 else len(classes)
    expected = {"mean": (width,), "scale": (width,), "coef": (rows, width), "intercept": (rows,)}
    wrong = [name for name, shape in expected.items() if arrays[name].shape != shape]
    if len(classes) < 2 or wrong or not np.all(arrays["scale"] > 0):
        raise HeadError(f"{path}: the head's arrays do not fit its labels ({', '.join(wrong)})")
    thresholds = {
        str(label): (float(found["threshold"]) if found.get("threshold") is not None else None)
        for label, found in (info.get("thresholds") or {}).items()
        if isinstance(found, dict)
    }
    return Head(
        name,
        number,
        str(info.get("detector_version", "")),
        classes,
        inputs,
        arrays["mean"],
        arrays["scale"],
        arrays["coef"],
        arrays["intercept"],
        thresholds,
        info,
    )


def save_head(
    data_dir: Path,
    detector_name: str,
    arrays: Mapping[str, np.ndarray],
    info: Mapping[str, Any],
) -> tuple[int, Path]:
    """Save a new head (arrays: mean, scale, coef, intercept; info: its JSON, without
    `number`) as the next number; (number, JSON path). The arrays' file is claimed with an
    exclusive create, so two trainings at once never take one number, and the JSON, which
    makes the head visible to load_head, is written last and atomically."""
    folder = head_folder(data_dir, detector_name)
    folder.mkdir(parents=True, exist_ok=True)
    number = (head_numbers(data_dir, detector_name) or [0])[-1] + 1
    while True:
        target = folder / f"head-{number}.npz"
        try:
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            number += 1
            continue
        with os.fdopen(handle, "wb") as binary:
            values = {name: np.asarray(arrays[name], np.float64) for name in _ARRAYS}
            np.savez(binary, **values)  # type: ignore[arg-type]
        break
    version = head_version(str(info.get("detector_version", "")), number)
    document = {"format": FORMAT, "number": number, "version": version, **info}
    text = json.dumps(_finite(document), indent=2, allow_nan=False)
    path = folder / f"head-{number}.json"
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False
    ) as written:
        written.write(text)
    os.replace(written.name, path)
    return number, path


def _finite(value: Any) -> Any:
    """The value with NaN and infinities as None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def current_version(data_dir: Path, detector_name: str, detector_version: str) -> str:
    """The version a detector's suggestions carry now: '<version>+head<n>' with a trained
    head, else its own version (for the UI to show)."""
    numbers = head_numbers(data_dir, detector_name)
    return head_version(detector_version, numbers[-1]) if numbers else detector_version


def load_head_quietly(data_dir: Path, detector_name: str) -> Head | None:
    """load_head, with an unreadable head logged and left out (for callers that must carry
    on with the plain mapping, such as a page suggesting labels)."""
    try:
        return load_head(data_dir, detector_name)
    except HeadError as exc:
        log.warning("label head not used: %s", exc)
        return None
