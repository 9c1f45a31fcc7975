"""What one 'Next' costs: callback payload and server time, against embedding the pixels.

Baseline (measured in the same run): the approach of Plotly's dash-image-annotation sample,
a figure built with px.imshow(binary_string=True), which carries the image as base64.
Concord: show_image + load_records + render_figure, called as functions, plus the first
and the cached fetch of the display rendition. Prints figures; never fails.

Usage: python -m bench.bench_next_image
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from callbacks import annotations, navigation, views
from config import load_settings
from storage.runtime import build_services, install
from tests.unit.callback_support import DictCache, call

SIZES = {"1 MP": (1224, 816), "12 MP": (4240, 2832)}


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    """Fastest wall time of several runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def photo(size: tuple[int, int]) -> Image.Image:
    """A photo-like image: a real sample photo scaled up, with some noise."""
    from skimage import data

    base = Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).integers(0, 12, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(np.asarray(base, dtype=np.uint8) + noise)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    (root / "images").mkdir()
    for label, size in SIZES.items():
        photo(size).save(root / "images" / f"{label.replace(' ', '')}.jpg", quality=90)
    settings = load_settings({"DATA_DIR": str(root / "data"), "IMAGE_SOURCE": str(root / "images")})
    services = install(build_services(settings, DictCache()))
    print(
        f"{'image':>6} | {'baseline payload':>16} {'time':>8} | {'Concord payload':>15} "
        f"{'time':>8} | {'ratio (size)':>12} | rendition first / cached"
    )
    for label in SIZES:
        measure(label, f"{label.replace(' ', '')}.jpg", root, services)


def measure(label: str, key: str, root: Path, services) -> None:
    """Print one row: baseline vs Concord for one image."""
    import plotly.express as px

    pixels = np.asarray(Image.open(root / "images" / key))
    base_time, base_figure = best_of(3, lambda: px.imshow(pixels, binary_string=True).to_json())

    def concord_next() -> str:
        image, _ = call(navigation.show_image, "position-store.data", {"key": key})
        records = call(annotations.load_records, "image-store.data", image, "bench", None)
        figure = call(views.render_figure, "image-store.data", image, records, [], "person")
        return json.dumps([image, records, figure])

    ours_time, ours_payload = best_of(5, concord_next)
    first = time.perf_counter()
    services.images.rendition(key)
    first = time.perf_counter() - first
    cached, _ = best_of(5, lambda: services.images.rendition(key))
    base_size, ours_size = len(base_figure), len(ours_payload)
    print(
        f"{label:>6} | {base_size / 1e6:>13.2f} MB {base_time * 1e3:>6.0f} ms | "
        f"{ours_size / 1e3:>12.2f} kB {ours_time * 1e3:>6.1f} ms | "
        f"{base_size / ours_size:>11.0f}x | {first * 1e3:.0f} ms / {cached * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
