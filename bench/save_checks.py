"""What the server's checks add to a save, measured in one run.

Every save from the browser goes through `storage.autosave.save_checked`: a fresh
existence check of the image (a stat here), the image's size from the server, and the
import's shape rules (domain/record_checks, domain/shape_rules: the crossing test of every
polygon). The in-run baseline is `autosave`, which stores the same records unchecked (what
every save did before). Three workloads on one 4000x3000 JPEG in a local folder, SQLite:
one box; 50 boxes; 50 polygons of 60 points (each save moves one shape, so a row changes).

Prints medians and the ratio checked / unchecked; never fails (exit status 0).

Usage: python -m bench.save_checks      (about 20 seconds)
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PIL import Image

from config import load_settings
from domain.annotation import Annotation, utc_now
from domain.records_state import RecordsState, known_of
from storage.autosave import autosave, save_checked
from storage.runtime import Services, build_services, install

ROUNDS = 60
KEY = "photo.jpg"
WHO = "ann"


class _Cache:
    """A dict standing in for flask-caching."""

    def __init__(self) -> None:
        self.items: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.items.get(key)

    def set(self, key: str, value: object, timeout: int | None = None) -> bool:
        self.items[key] = value
        return True


def _box(number: int, shift: float) -> Annotation:
    x = 10.0 + (number % 10) * 300 + shift
    y = 10.0 + (number // 10) * 300
    return Annotation(f"b{number}", KEY, WHO, "person", "rect", (x, y, x + 200.0, y + 150.0))


def _polygon(number: int, shift: float) -> Annotation:
    cx = 150.0 + (number % 10) * 350 + shift
    cy = 150.0 + (number // 10) * 350
    ring = tuple(
        (round(cx + 120 * math.cos(t), 2), round(cy + 90 * math.sin(t), 2))
        for t in (2 * math.pi * k / 60 for k in range(60))
    )
    return Annotation(f"p{number}", KEY, WHO, "person", "polygon", points=ring)


def _median_ms(
    services: Services,
    save: Callable[[RecordsState], RecordsState],
    make: Callable[[int, float], Annotation],
    count: int,
) -> float:
    """Median time of a save that moves one of `count` shapes (the others unchanged)."""
    services.store.sync_image(KEY, WHO, [])  # start empty
    state = RecordsState(KEY, WHO, tuple(make(n, 0.0) for n in range(count)))
    state = save(state)
    times = []
    for round_ in range(ROUNDS):
        moved = list(state.records)
        old, new = moved[round_ % count], make(round_ % count, float(round_ % 7 + 1))
        moved[round_ % count] = old.with_geometry(new.coords, new.points, utc_now())
        started = time.perf_counter()
        state = save(replace(state, records=tuple(moved), known=known_of(state.records)))
        times.append((time.perf_counter() - started) * 1000)
        assert not state.unsaved and not state.notice, state.error or state.notice
    return statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "images").mkdir()
        Image.new("RGB", (4000, 3000), (90, 120, 150)).save(root / "images" / KEY)
        settings = load_settings(
            {"DATA_DIR": str(root / "data"), "IMAGE_SOURCE": str(root / "images")}
        )
        services = install(build_services(settings, _Cache(), _Cache()))
        services.images.info(KEY)  # the size is cached, as on the page after the first view
        print(f"Save of one image's records, median of {ROUNDS} saves (SQLite, local folder)")
        print(f"{'records':<22}{'unchecked ms':>14}{'checked ms':>12}{'ratio':>8}")
        for name, make, count in (
            ("1 box", _box, 1),
            ("50 boxes", _box, 50),
            ("50 polygons (60 pts)", _polygon, 50),
        ):
            plain = _median_ms(services, lambda s: autosave(services.store, s), make, count)
            checked = _median_ms(services, lambda s: save_checked(services, s), make, count)
            print(f"{name:<22}{plain:>14.2f}{checked:>12.2f}{checked / plain:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
