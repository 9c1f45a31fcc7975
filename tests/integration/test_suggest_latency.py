"""Suggest with the real built-in detector on 1 MP photos, timed on the server side (the
callback as Dash calls it): cold (the model loaded on the first Suggest), warm on an image
the model has not seen (detect and store), and warm on one it has (stored shapes). The
figures are printed; no timing is asserted."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from callbacks import annotations, navigation, suggestions
from tests.unit.callback_support import call, install_services
from workflows import suggest as suggesting

pytest.importorskip("onnxruntime")
SIDE = 1024  # 1024 x 1024: 1.05 MP
IMAGES = 7


def one_megapixel_photos(folder: Path) -> list[str]:
    """The astronaut sample at 1 MP, shifted and mirrored so every image is new to the
    model (a stored answer would not be timed as a detection)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    base = np.asarray(Image.fromarray(data.astronaut()).resize((SIDE, SIDE), Image.BILINEAR))
    keys = []
    for number in range(IMAGES):
        pixels = np.roll(base, number * 37, axis=1)
        if number % 2:
            pixels = pixels[:, ::-1]
        key = f"photo{number}.jpg"
        Image.fromarray(np.ascontiguousarray(pixels)).save(folder / key, quality=90)
        keys.append(key)
    return keys


def suggest_ms(key: str, who: str) -> tuple[float, dict]:
    position = {"batch": "", "key": key, "index": None}
    image, _ = call(navigation.show_image, "position-store.data", position)
    call(annotations.load_records, "image-store.data", image, who, None)
    started = time.perf_counter()
    store, _text, is_open, _ = call(suggestions.suggest, "suggest-button.n_clicks", 1, image, who)
    elapsed = (time.perf_counter() - started) * 1000
    assert is_open is not True, _text
    return elapsed, store


def test_suggest_latency_at_one_megapixel(tmp_path, capsys):
    suggesting.forget_detectors()
    keys = one_megapixel_photos(tmp_path / "images")
    install_services(tmp_path, DETECTOR="nanodet")
    cold, store = suggest_ms(keys[0], "alice")
    assert store["origin"] == "detected"
    assert any(item["label"] == "person" for item in store["items"]), store["items"]
    fresh = [suggest_ms(key, "alice")[0] for key in keys[1:]]
    stored = [suggest_ms(key, "bob")[0] for key in keys[1:]]
    suggesting.forget_detectors()
    with capsys.disabled():
        print(
            f"\nSuggest at {SIDE}x{SIDE} (1.05 MP), server side: cold {cold:.0f} ms (model "
            f"loaded); warm, new image: median {statistics.median(fresh):.0f} ms "
            f"(max {max(fresh):.0f}, n={len(fresh)}); warm, stored: median "
            f"{statistics.median(stored):.1f} ms (max {max(stored):.1f})"
        )
