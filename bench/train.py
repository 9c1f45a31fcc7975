"""What `train` costs on 5,000 people's boxes: python -m bench.train (about a minute).

Data (numpy Generator, seed 0): 500 JPEGs of 640 x 480 px, noisy grey, each with 10 filled
shapes 30-90 px wide (squares, discs or triangles, in a random colour) placed without
overlap; the shape decides the label (vehicle, food, animal), which the colour does not tell.
Person "ana" drew every shape as a box with its label: 5,000 boxes. The detector's stored
shapes (model:bench, written with the store as `predict` would) find each shape with +-3 px
of noise on every edge, score 0.5-0.95, and call all of them "object"; plus 2 boxes of
nothing per image, score 0.2-0.6: 6,000 detector boxes. Everything is in a temporary folder
with an SQLite database, in this process, with the app's own services.

It times workflows.training.train_from_corrections once, end to end (reading the store,
matching, decoding the images, features of 11,000 crops, six logistic regressions: the
held-out one, five out-of-fold ones for the thresholds and the final one, and saving), and
reports its parts (the functions it calls, wrapped in this process only). The baseline is
the bare minimum any training on these images needs: decoding the 500 JPEGs (the best of
3). Prints figures and whether the target (under 30 s) is met; never fails.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

import workflows.training as training
from bench.common import attempt
from domain.annotation import Annotation

IMAGES = 500
PER_IMAGE = 10
FALSE_PER_IMAGE = 2
WIDTH, HEIGHT = 640, 480
LABELS = ("vehicle", "food", "animal")  # square, disc, triangle
TARGET_SECONDS = 30.0
BASELINE_RUNS = 3


class Bench:
    """A detector as `train` needs one: a name and a version."""

    name = "bench"
    version = "1"
    labels = ("thing",)

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        return []


def make_data(folder: Path, seed: int = 0) -> tuple[list, list]:
    """Write the images; (people's groups, the detector's groups) for replace_images."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people, model = [], []
    for number in range(IMAGES):
        key = f"{number:04d}.jpg"
        noise = rng.normal(128, 20, (HEIGHT, WIDTH, 3)).clip(0, 255).astype(np.uint8)
        picture = Image.fromarray(noise)
        draw = ImageDraw.Draw(picture)
        boxes: list[tuple[float, float, float, float]] = []
        while len(boxes) < PER_IMAGE:
            side = float(rng.uniform(30, 90))
            x0, y0 = float(rng.uniform(0, WIDTH - side)), float(rng.uniform(0, HEIGHT - side))
            box = (x0, y0, x0 + side, y0 + side)
            if any(_overlap(box, other) for other in boxes):
                continue
            boxes.append(box)
        mine, found = [], []
        for index, box in enumerate(boxes):
            kind = int(rng.integers(0, 3))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            x0, y0, x1, y1 = box
            if kind == 0:
                draw.rectangle(box, fill=colour)
            elif kind == 1:
                draw.ellipse(box, fill=colour)
            else:
                draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) / 2, y0)], fill=colour)
            mine.append(Annotation(f"p{number}-{index}", key, "ana", LABELS[kind], "rect", box))
            jitter = tuple(float(v) for v in np.array(box) + rng.uniform(-3, 3, 4))
            score = float(rng.uniform(0.5, 0.95))
            found.append(_model(key, f"m{number}-{index}", jitter, score))
        for index in range(FALSE_PER_IMAGE):
            side = float(rng.uniform(30, 90))
            x0, y0 = float(rng.uniform(0, WIDTH - side)), float(rng.uniform(0, HEIGHT - side))
            score = float(rng.uniform(0.2, 0.6))
            found.append(_model(key, f"f{number}-{index}", (x0, y0, x0 + side, y0 + side), score))
        picture.save(folder / key, quality=90)
        people.append((key, "ana", mine))
        model.append((key, "model:bench", found))
    return people, model


def _model(key: str, name: str, box: tuple[float, ...], score: float) -> Annotation:
    return Annotation(
        name, key, "model:bench", "object", "rect", box, source="model:bench@1", score=score
    )


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def timed(parts: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The function, adding its wall time to parts[name] on each call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            parts[name] += time.perf_counter() - started

    return wrapper


def main() -> None:
    """Build the data, train once, print the figures."""
    from config import load_settings
    from storage.renditions import upright_rgb
    from storage.runtime import build_services

    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        started = time.perf_counter()
        people, model = make_data(root / "images")
        settings = load_settings(
            {
                "DATA_DIR": str(root / "data"),
                "IMAGE_SOURCE": str(root / "images"),
                "LABELS": "person,animal,vehicle,food,object",
            }
        )
        services = build_services(settings)  # as `python cli.py train` builds them
        services.store.replace_images(people, actor="ana")
        services.store.replace_images(model, actor="model:bench")
        boxes = sum(len(shapes) for _, _, shapes in people)
        found = sum(len(shapes) for _, _, shapes in model)
        print(
            f"data: {IMAGES} images {WIDTH}x{HEIGHT}, {boxes:,} people's boxes, {found:,} "
            f"detector boxes ({time.perf_counter() - started:.1f} s to make)"
        )

        parts: dict[str, float] = defaultdict(float)
        for name in ("load_work", "consensus_of", "upright_rgb", "box_features", "fit"):
            setattr(training, name, timed(parts, name, getattr(training, name)))
        read = services.images.source.read
        services.images.source.read = timed(parts, "read files", read)  # type: ignore[method-assign]
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        report = training.train_from_corrections(services, Bench())  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
        print(
            f"train: {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU; {report.version}; "
            f"{report.objects:,} objects, {report.boxes:,} boxes ({report.matched:,} matched)"
        )
        print(
            f"held-out label accuracy ({report.held_out_objects} objects on "
            f"{report.held_out_images} images): before {report.before:.3f}, "
            f"after {report.after:.3f}"
        )
        for label, threshold in report.thresholds.items():
            print(f"  threshold {label}: {threshold.to_json()}")
        print("parts (wall s):")
        for name, spent in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"  {name:<14} {spent:6.2f}")
        rest = seconds - sum(parts.values())
        print(f"  {'the rest':<14} {rest:6.2f}  (store, matching, features' glue, saving)")

        keys = [key for key, _, _ in people]
        best = float("inf")
        for _ in range(BASELINE_RUNS):
            started = time.perf_counter()
            for key in keys:
                upright_rgb((root / "images" / key).read_bytes(), key)
            best = min(best, time.perf_counter() - started)
        print(
            f"baseline, decoding the {IMAGES} JPEGs: {best:.2f} s; ours / baseline: "
            f"{seconds / best:.1f}x"
        )
        verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
        print(f"target: under {TARGET_SECONDS:.0f} s for {boxes:,} boxes: {verdict}")
        services.store.engine.dispose()


if __name__ == "__main__":
    attempt("bench.train", main)
