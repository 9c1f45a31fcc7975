"""The default batch: real photos from scikit-image's bundled samples (no network)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

# Names of scikit-image loaders whose data ships with the package.
SAMPLE_NAMES = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "coins",
    "motorcycle",
    "retina",
)


def _loaders() -> dict[str, Callable[[], np.ndarray]]:
    from skimage import data

    return {
        "astronaut": data.astronaut,
        "chelsea": data.chelsea,
        "coffee": data.coffee,
        "rocket": data.rocket,
        "camera": data.camera,
        "coins": data.coins,
        "motorcycle": lambda: data.stereo_motorcycle()[0],
        "retina": data.retina,
    }


def ensure_sample_batch(folder: Path) -> Path:
    """Write the sample photos as JPEGs into folder unless they are there already."""
    folder.mkdir(parents=True, exist_ok=True)
    loaders = _loaders()
    for number, name in enumerate(SAMPLE_NAMES, start=1):
        target = folder / f"{number:02d}-{name}.jpg"
        if target.exists():
            continue
        pixels = loaders[name]()
        partial = target.with_suffix(f".{os.getpid()}.part")  # one per worker process
        Image.fromarray(pixels).convert("RGB").save(partial, "JPEG", quality=92)
        partial.replace(target)  # atomic: concurrent workers never see half a file
    return folder
