"""What a detector is to Concord, and the check every detector's answer goes through.

A detector (the built-in NanoDet, a user's `module:factory`, a Label Studio ML backend) has
`name`, `version`, `labels` (its own class names) and `detect(image, min_score)`, where
`image` is an RGB numpy.uint8 array (H, W, 3) in original pixels. It answers a list of
dicts {"label": str, "score": float, "box": [x0, y0, x1, y1]} or, for a polygon,
{"label", "score", "points": [[x, y], ...]}. checked_detections turns that answer into
Detection records, clipped to the image, or raises DetectorError saying what was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


class DetectorError(Exception):
    """A detector is missing, failed, timed out or answered something unusable."""


@runtime_checkable
class Detector(Protocol):
    """A model that finds objects in an image."""

    name: str
    version: str
    labels: Sequence[str]

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        """Objects found with at least min_score, in the image's own pixels."""
        ...


@dataclass(frozen=True)
class Detection:
    """One object a detector found: its label (the model's own), score in [0, 1], and a box
    (x0, y0, x1, y1) with x0 < x1, y0 < y1 or polygon points, in image pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float] | None = None
    points: tuple[tuple[float, float], ...] = ()


def checked_detections(raw: object, width: int, height: int) -> list[Detection]:
    """The detector's answer as Detection records clipped to the image; DetectorError naming
    the first item that is not a detection. Boxes or polygons with no area after clipping
    are dropped (a detection wholly outside the image)."""
    if not isinstance(raw, list | tuple):
        raise DetectorError(f"the detector answered {type(raw).__name__}, not a list")
    found: list[Detection] = []
    for number, item in enumerate(raw):
        where = f"detection {number + 1}"
        if not isinstance(item, dict):
            raise DetectorError(f"{where} is {type(item).__name__}, not a dict")
        label, raw_score = item.get("label"), item.get("score")
        if not isinstance(label, str) or not label:
            raise DetectorError(f"{where} has no label")
        score = float(raw_score) if is_number(raw_score) else math.nan  # type: ignore[arg-type]
        if not 0.0 <= score <= 1.0:
            raise DetectorError(
                f"{where} ({label}) has score {raw_score!r}, not a number in [0, 1]"
            )
        if "box" in item:
            detection = _box(item["box"], label, score, width, height, where)
        elif "points" in item:
            detection = _polygon(item["points"], label, score, width, height, where)
        else:
            raise DetectorError(f"{where} ({label}) has neither box nor points")
        if detection is not None:
            found.append(detection)
    return found


def is_number(value: object) -> bool:
    """A finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _box(
    raw: object, label: str, score: float, width: int, height: int, where: str
) -> Detection | None:
    if not isinstance(raw, list | tuple) or len(raw) != 4 or not all(map(is_number, raw)):
        raise DetectorError(f"{where} ({label}): box {raw!r} is not four numbers x0, y0, x1, y1")
    x0, y0, x1, y1 = (float(v) for v in raw)
    x0, x1 = sorted((min(max(x0, 0.0), width), min(max(x1, 0.0), width)))
    y0, y1 = sorted((min(max(y0, 0.0), height), min(max(y1, 0.0), height)))
    if x1 - x0 < 1.0 or y1 - y0 < 1.0:
        return None
    box = (round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))
    return Detection(label, score, box)


def _polygon(
    raw: object, label: str, score: float, width: int, height: int, where: str
) -> Detection | None:
    if not isinstance(raw, list | tuple) or len(raw) < 3:
        raise DetectorError(f"{where} ({label}): points must be a list of 3 or more [x, y]")
    points = []
    for point in raw:
        if not isinstance(point, list | tuple) or len(point) != 2 or not all(map(is_number, point)):
            raise DetectorError(f"{where} ({label}): point {point!r} is not [x, y]")
        x, y = float(point[0]), float(point[1])
        points.append((round(min(max(x, 0.0), width), 2), round(min(max(y, 0.0), height), 2)))
    xs, ys = [x for x, _ in points], [y for _, y in points]
    if max(xs) - min(xs) < 1.0 or max(ys) - min(ys) < 1.0:
        return None
    return Detection(label, score, None, tuple(points))
