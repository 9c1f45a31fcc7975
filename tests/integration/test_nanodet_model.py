"""The built-in detector with its real weights (models/weights/nanodet-g-416.onnx) on
scikit-image's sample photos: the right COCO class on top, its box where a person would
draw it, and the weights file the NOTICE describes."""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from skimage import data

from models.detector import checked_detections
from models.nanodet import WEIGHTS, NanoDet, available, load_nanodet


@pytest.fixture(scope="module")
def detector() -> NanoDet:
    return load_nanodet()


def iou(a: list[float], b: tuple[float, ...]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def cat_in_a_room() -> np.ndarray:
    """chelsea's close-up of a cat's face, 100 px into a grey frame: seen whole, NanoDet
    calls the full-frame face person (0.59) before cat (0.40); with room around it, cat."""
    canvas = np.full((500, 651, 3), 128, np.uint8)
    canvas[100:400, 100:551] = data.chelsea()
    return canvas


# (photo, its top class, a hand-drawn box of that object in the photo's pixels)
PHOTOS: list[tuple[str, Callable[[], np.ndarray], str, tuple[float, ...]]] = [
    ("astronaut", data.astronaut, "person", (20, 15, 370, 512)),
    ("motorcycle", lambda: data.stereo_motorcycle()[0], "motorcycle", (100, 85, 690, 445)),
    ("coffee", data.coffee, "cup", (170, 15, 425, 300)),
    ("cat", cat_in_a_room, "cat", (100, 100, 500, 400)),
]


@pytest.mark.parametrize(
    ("make", "label", "drawn"), [p[1:] for p in PHOTOS], ids=[p[0] for p in PHOTOS]
)
def test_the_top_detection_is_the_subject_where_it_is(
    detector: NanoDet, make: Callable[[], np.ndarray], label: str, drawn: tuple[float, ...]
) -> None:
    image = make()
    found = detector.detect(image, 0.3)
    assert found, "nothing found"
    top = found[0]
    assert top["label"] == label, found
    assert top["score"] >= 0.5
    assert iou(top["box"], drawn) > 0.5, (top, drawn)
    assert len(checked_detections(found, image.shape[1], image.shape[0])) == len(found)


def test_the_full_frame_cat_is_found_too(detector: NanoDet) -> None:
    found = detector.detect(data.chelsea(), 0.3)
    cats = [d for d in found if d["label"] == "cat"]
    assert cats and iou(cats[0]["box"], (0, 0, 400, 300)) > 0.5


def test_an_empty_wall_has_nothing_confident(detector: NanoDet) -> None:
    assert detector.detect(np.full((300, 400, 3), 200, np.uint8), 0.5) == []


def test_the_shipped_weights_are_the_converted_ones_the_notice_describes() -> None:
    notice = (WEIGHTS.parent / "NOTICE").read_text()
    recorded = re.search(r"^\s*nanodet-g-416\.onnx\s+([0-9a-f]{64})", notice, re.M)
    assert recorded, "NOTICE names no sha256 for nanodet-g-416.onnx"
    digest = hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert digest == recorded.group(1)
    assert available() == (True, f"NanoDet-g-416 on onnxruntime ({WEIGHTS})")
    assert NanoDet().version == f"g-416-{digest[:8]}"
    for licence in ("LICENSE-NanoDet-Apache-2.0.txt", "LICENSE-human-models-MIT.txt"):
        assert (WEIGHTS.parent / licence).stat().st_size > 1000


def test_warm_latency_per_megapixel_image(detector: NanoDet) -> None:
    """Printed, never asserted on (figures are for reading, not for failing a run)."""
    image = np.asarray(Image.fromarray(data.astronaut()).resize((1000, 1000)))
    detector.detect(image, 0.3)  # warm: session made, first run's allocations done
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        found = detector.detect(image, 0.3)
        timings.append(time.perf_counter() - start)
    print(f"nanodet warm detect, 1 MP, 1 thread: {statistics.median(timings) * 1000:.0f} ms")
    assert found[0]["label"] == "person"
