"""The gallery on a big batch: first page, next page and a filter change, with thumbnails.

Set-up: a batch of --images (100,000) JPEGs in S3 served by moto on 127.0.0.1 (identical
bytes, put in parallel: minutes for 100,000; the first 1,000 are 1600x1200 photo-like
images, ~340 kB, the rest 160x120, so the pages measured show real photos and the upload
stays quick), and SQLite
with work on a share of them: alice finished every 5th image (one box each), bob every
10th, a detector (model:det) scored boxes on every 7th, disagreement scores on every 10th.
The app runs under gunicorn as the Procfile's web process (2 workers, 4 threads) with a
shared CACHE_DIR, local mode (a reviewer's view: everyone's shapes), and is stopped by PID.

Measured over HTTP from this process, as a browser would ask:
- "data": the gallery callback (the page's tiles, badges, shapes and thumbnail URLs);
- "thumbs": the page's thumbnails fetched over 6 connections (a browser's per-host limit),
  cold (made by the server), warm (from the server's renditions cache) and revalidated
  (If-None-Match: 304, what a browser with the page cached sends on a reload);
- on screen = data + thumbs.
Baseline in the same run: the annotate view's display renditions (/images/) of the same 60
images, cold and warm: the bytes and time the page would cost without thumbnails.

Target: a page of 60 thumbnails on screen in under 1 s warm. Never fails (exit status 0).

Usage: python -m bench.gallery [--images 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import requests
from PIL import Image
from sqlalchemy import insert

from bench.common import attempt, print_worker_memory
from storage.annotation_store import AnnotationStore
from storage.review_store import ReviewStore
from storage.schema import ANNOTATIONS, STATUSES
from tests.dash_requests import DashClient
from tests.servers import MotoServer, free_port, stop_pid

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "gallery-bench"
BATCH = "big"
BIG_IMAGES = 1000
TARGET = 1.0
CONNECTIONS = 6
APP_ENV_DROPPED = ("DATABASE_URL", "REDIS_URL", "PORT", "USERS", "USERS_FILE", "IMAGE_SOURCE")


def key_of(number: int) -> str:
    return f"{BATCH}/img{number:06d}.jpg"


def jpeg(size: tuple[int, int], quality: int) -> bytes:
    """Photo-like JPEG bytes (a sample photo scaled, with noise)."""
    from skimage import data

    base = np.asarray(Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC))
    noise = np.random.default_rng(1).integers(0, 12, base.shape, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(base - np.minimum(base, noise)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def upload(moto: MotoServer, images: int) -> float:
    """Put the batch into the bucket over 8 keep-alive connections (plain PUTs: moto's
    server does not check signatures, and signing costs more than the put); returns the
    seconds taken."""
    started = time.perf_counter()
    big, small = jpeg((1600, 1200), 90), jpeg((160, 120), 80)
    moto.client().create_bucket(Bucket=BUCKET)
    local = threading.local()

    def put(number: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        body = big if number < BIG_IMAGES else small
        answer = session.put(f"{moto.endpoint}/{BUCKET}/{key_of(number)}", data=body)
        if answer.status_code != 200:
            raise RuntimeError(f"put {key_of(number)}: HTTP {answer.status_code}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(images), chunksize=256))
    print(f"  big images {len(big) / 1000:.0f} kB, small {len(small) / 1000:.1f} kB")
    return time.perf_counter() - started


def fill_store(url: str, images: int) -> float:
    """Statuses, shapes and disagreement for a share of the batch; returns seconds taken."""
    started = time.perf_counter()
    store = AnnotationStore.from_url(url)
    now = datetime.now(UTC)
    statuses, shapes = [], []
    rng = np.random.default_rng(7)
    for number in range(images):
        key = key_of(number)
        for who, every, label in (("alice", 5, "cat"), ("bob", 10, "dog")):
            if number % every == 0:
                statuses.append({"image_key": key, "annotator": who, "status": "done",
                                 "updated_at": now})  # fmt: skip
                x, y = rng.integers(50, 800, 2)
                shapes.append(_shape(f"{who}-{number}", key, who, label, x, y, None, now))
        if number % 7 == 0:
            x, y = rng.integers(50, 800, 2)
            score = float(rng.random())
            shapes.append(_shape(f"det-{number}", key, "model:det", "cat", x, y, score, now))
    with store.engine.begin() as conn:
        conn.execute(insert(STATUSES), statuses)
        conn.execute(insert(ANNOTATIONS), shapes)
    scores = {key_of(n): float(rng.random()) for n in range(0, images, 10)}
    ReviewStore(store.engine).save_disagreement(scores, 0.5)
    store.engine.dispose()
    print(f"  {len(statuses):,} statuses, {len(shapes):,} shapes, {len(scores):,} scores")
    return time.perf_counter() - started


def _shape(
    ident: str, key: str, who: str, label: str, x: int, y: int, score: float | None, now: Any
) -> dict[str, Any]:
    return {
        "id": ident, "image_key": key, "annotator": who, "label": label, "kind": "rect",
        "geometry": {"coords": [float(x), float(y), float(x) + 300, float(y) + 200], "points": []},
        "created_at": now, "updated_at": now,
        "source": "model:det@1" if who.startswith("model:") else "human",
        "score": score, "version": 1,
    }  # fmt: skip


@contextmanager
def gunicorn(env: dict[str, str], data_dir: Path) -> Iterator[str]:
    """The Procfile's web process bound to 127.0.0.1, stopped by its PID; yields its URL."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k not in APP_ENV_DROPPED}
    full.update(env)
    command = [shutil.which("gunicorn") or "gunicorn", "app:server", "--workers", "2",
               "--threads", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "300"]  # fmt: skip
    with (data_dir / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if requests.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.3)
            yield url
        finally:
            print_worker_memory(process.pid, "gunicorn")
            stop_pid(process)


class Browserish:
    """A callback client and six connections for images, like one browser tab."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = DashClient(url)
        self.spec = self.client.spec("gallery-ask-store.data", "gallery-grid")
        self.pool = ThreadPoolExecutor(CONNECTIONS)
        self.sessions = [requests.Session() for _ in range(CONNECTIONS)]

    def page(self, search: str) -> tuple[float, list[str], dict[str, Any]]:
        """(seconds to the page's data, the thumbnail URLs, the response)."""
        values = {
            "gallery-ask-store.data": {"search": search, "at": time.time()},
            "position-store.data": {"batch": BATCH},
            "annotator-store.data": "bench",
        }
        started = time.perf_counter()
        response = self.client.call(self.spec, values)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        answer = response.json()["response"]
        grid = answer["gallery-grid"]["children"]
        urls = [_thumb_src(tile) for tile in grid]
        return elapsed, [u for u in urls if u], answer

    def fetch(
        self, paths: list[str], etags: dict[str, str] | None = None
    ) -> tuple[float, int, dict[str, str]]:
        """Fetch URLs over the six connections: (seconds, bytes, etags)."""

        def one(item: tuple[int, str]) -> tuple[str, int, str]:
            number, path = item
            headers = {"If-None-Match": etags[path]} if etags and path in etags else {}
            got = self.sessions[number % CONNECTIONS].get(self.url + path, headers=headers)
            if got.status_code not in (200, 304):
                raise RuntimeError(f"{path}: HTTP {got.status_code}")
            return path, len(got.content), got.headers.get("ETag", "")

        started = time.perf_counter()
        found = list(self.pool.map(one, enumerate(paths)))
        elapsed = time.perf_counter() - started
        return elapsed, sum(n for _, n, _ in found), {p: e for p, _, e in found}


def _thumb_src(tile: dict[str, Any]) -> str | None:
    """The thumbnail URL inside a tile's component tree."""
    picture = tile["props"]["children"][0]["props"]["children"]
    src = picture[0]["props"].get("src", "") if picture else ""
    return src if src.startswith("/thumbs/") else None


def measure(url: str, repeats: int) -> None:
    browser = Browserish(url)
    scenarios = [
        ("first page", "?view=gallery"),
        ("next page", "?view=gallery&page=2"),
        ("filter change (done + cat)", "?view=gallery&status=done&label=cat"),
        ("filter: model score < 0.2", "?view=gallery&score=0.2"),
        ("filter: disagreement > 0.9, page 2", "?view=gallery&disagreement=0.9&page=2"),
        ("filter: to do, page 2 (a partial listing)", "?view=gallery&status=todo&page=2"),
    ]
    print("\nper page of 60 (seconds; kB over the wire):")
    header = f"{'':38} {'data cold':>9} {'warm':>6} {'thumbs cold':>11} {'warm':>6} {'304':>6}"
    print(header + f" {'kB':>6} {'on screen warm':>14}")
    thumb_bytes: list[int] = []
    baseline_paths: list[str] = []
    warm_totals = []
    for name, search in scenarios:
        cold, paths, answer = browser.page(search)
        warm = statistics.median(browser.page(search)[0] for _ in range(repeats))
        t_cold, size, etags = browser.fetch(paths)
        t_warm = statistics.median(browser.fetch(paths)[0] for _ in range(repeats))
        t_304 = statistics.median(browser.fetch(paths, etags)[0] for _ in range(repeats))
        thumb_bytes.append(size)
        if not baseline_paths:
            baseline_paths = [p.replace("/thumbs/", "/images/").split("?")[0] for p in paths]
        summary = answer["gallery-summary"]["children"]
        on_screen = warm + t_warm
        warm_totals.append(on_screen)
        print(
            f"{name:38} {cold:9.3f} {warm:6.3f} {t_cold:11.3f} {t_warm:6.3f} {t_304:6.3f}"
            f" {size / 1000:6.0f} {on_screen:14.3f}   ({len(paths)} tiles; {summary})"
        )
    b_cold, b_size, _ = browser.fetch(baseline_paths)
    b_warm = statistics.median(browser.fetch(baseline_paths)[0] for _ in range(repeats))
    print(
        f"\nbaseline, the annotate view's display renditions of the first page's "
        f"{len(baseline_paths)} images: cold {b_cold:.3f} s, warm {b_warm:.3f} s, "
        f"{b_size / 1000:.0f} kB"
    )
    if thumb_bytes and b_size:
        print(
            f"thumbnail bytes per page: {thumb_bytes[0] / 1000:.0f} kB, "
            f"{thumb_bytes[0] / b_size:.1%} of the display renditions' (ratio "
            f"{b_size / max(thumb_bytes[0], 1):.1f}x smaller)"
        )
    worst = max(warm_totals) if warm_totals else float("nan")
    verdict = "met" if worst < TARGET else "MISSED"
    print(f"target: a page on screen in under {TARGET:.0f} s warm: worst {worst:.3f} s ({verdict})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    images = max(args.images, 200)
    with tempfile.TemporaryDirectory(prefix="gallery-bench-") as folder:
        root = Path(folder)
        moto = MotoServer().start()
        try:
            run(root, moto, images, args.repeats)
        finally:
            moto.stop()


def run(root: Path, moto: MotoServer, images: int, repeats: int) -> None:
    print(f"gallery benchmark: {images:,} images in s3://{BUCKET}/{BATCH}/ (moto on loopback)")
    seconds = attempt("upload", lambda: upload(moto, images))
    if seconds is None:
        return
    print(f"  uploaded in {seconds:.1f} s ({images / seconds:,.0f} puts/s)")
    data = root / "data"
    data.mkdir()
    database = f"sqlite:///{data / 'annotations.db'}"
    filled = attempt("store", lambda: fill_store(database, images))
    if filled is None:
        return
    print(f"  store filled in {filled:.1f} s")
    env = {
        **moto.env(),
        "IMAGE_SOURCE": f"s3://{BUCKET}",
        "DATA_DIR": str(data),
        "DATABASE_URL": database,
        "CACHE_DIR": str(root / "cache"),
        "LABELS": "cat,dog",
    }

    def serve_and_measure() -> None:
        with gunicorn(env, data) as url:
            measure(url, repeats)

    attempt("measure", serve_and_measure)


if __name__ == "__main__":
    main()
