"""Plug-in detectors (DETECTOR=tests.unit.suggestion_detectors:<factory>) for the Suggest
tests: several findings of different scores, one that raises, one that counts its calls."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.unit.plugin_detector import FakeDetector

SEVERAL = [
    {"label": "car", "score": 0.9, "box": [10, 20, 110, 80]},  # vehicle
    {"label": "cat", "score": 0.6, "box": [150, 30, 250, 130]},  # animal
    {"label": "traffic light", "score": 0.4, "points": [[20, 150], [80, 150], [50, 200]]},
    {"label": "car", "score": 0.2, "box": [300, 200, 350, 250]},  # under the floor: never shown
]


class Counting(FakeDetector):
    """Counts how often it was asked (class-wide: the app keeps one per process)."""

    calls = 0

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        Counting.calls += 1
        return super().detect(image, min_score)


class Raising(FakeDetector):
    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        raise RuntimeError("CUDA out of memory\nTraceback details follow")


def several() -> Counting:
    return Counting(SEVERAL)


def raising() -> Raising:
    return Raising()
