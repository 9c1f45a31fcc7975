"""Factories for DETECTOR=module:factory in tests: a working fake detector, and the ways a
user's plug-in goes wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class FakeDetector:
    """Finds what it is told to, whatever the image."""

    name: str = "fake"
    version: str = "1.0"
    labels: Sequence[str] = ("car", "cat", "traffic light")

    def __init__(self, answer: list[dict[str, Any]] | None = None) -> None:
        self.answer = answer if answer is not None else []

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        return self.answer


def make() -> FakeDetector:
    return FakeDetector([{"label": "car", "score": 0.9, "box": [1, 2, 30, 40]}])


class Factories:
    """A factory reached through a dotted attribute path (module:Class.method)."""

    @staticmethod
    def make() -> FakeDetector:
        return FakeDetector()


def broken() -> FakeDetector:
    raise RuntimeError("weights file /models/mine.pt is missing\nTraceback details follow")


class NoDetect:
    name = "half"
    version = "0.1"
    labels = ("car",)


def no_detect() -> NoDetect:
    return NoDetect()


class NumberVersion(FakeDetector):
    version = 2  # type: ignore[assignment]


def number_version() -> FakeDetector:
    return NumberVersion()


def needs_an_argument(path: str) -> FakeDetector:
    return FakeDetector()


NOT_CALLABLE = 3
