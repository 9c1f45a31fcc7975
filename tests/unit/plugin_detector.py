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


class SquareFinder:
    """Finds the one coloured square on a grey image and calls it a banana (COCO: food, by
    the default mapping) whatever its colour, with a score of 0.6-0.95; also "finds" a
    square of the same size in the empty corner across from it, with a score of 0.2-0.4."""

    name = "squares"
    version = "1.0"
    labels: Sequence[str] = ("banana",)

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        rgb = image.astype(np.int64)
        ys, xs = np.nonzero(rgb.max(axis=2) - rgb.min(axis=2) > 60)
        if xs.size == 0:
            return []
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
        height, width = image.shape[:2]
        side_x, side_y = x1 - x0, y1 - y0
        fx = 0 if (x0 + x1) / 2 > width / 2 else width - side_x
        fy = 0 if (y0 + y1) / 2 > height / 2 else height - side_y
        wobble = (x0 * 7 + y0 * 13) % 100 / 100  # the same for the same image
        return [
            {"label": "banana", "score": 0.6 + 0.35 * wobble, "box": [x0, y0, x1, y1]},
            {
                "label": "banana",
                "score": 0.2 + 0.2 * wobble,
                "box": [fx, fy, fx + side_x, fy + side_y],
            },
        ]


def squares() -> SquareFinder:
    return SquareFinder()


def write_square_images(folder: Any, count: int, seed: int = 0) -> dict[str, tuple[str, Any]]:
    """Write `count` grey 96 x 96 PNGs, each with one red or blue square (alternately) of
    20-40 px somewhere on it; file name -> ("red" or "blue", the square's box)."""
    from pathlib import Path

    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, tuple[str, Any]] = {}
    for number in range(count):
        colour = "red" if number % 2 == 0 else "blue"
        pixels = rng.normal(128, 6, (96, 96, 3))
        side = int(rng.integers(20, 41))
        x0, y0 = (int(v) for v in rng.integers(0, 96 - side, 2))
        tint = (200, 45, 40) if colour == "red" else (40, 70, 205)
        pixels[y0 : y0 + side, x0 : x0 + side] = rng.normal(tint, 12, (side, side, 3))
        name = f"sq{number:03d}.png"
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(folder / name)
        truth[name] = (colour, (x0, y0, x0 + side, y0 + side))
    return truth


class SlowDetector(FakeDetector):
    """The working fake, 0.2 s per image: a fan-out test's kill lands mid-chunk."""

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        import time

        time.sleep(0.2)
        return self.answer


def slow() -> FakeDetector:
    return SlowDetector([{"label": "car", "score": 0.9, "box": [1, 2, 30, 40]}])
