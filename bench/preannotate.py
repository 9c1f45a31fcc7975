"""What pre-annotating a batch costs: python -m bench.preannotate [--images N] (default
1,000 images; about 1.5 minutes on 2 cores).

Data: scikit-image's bundled sample photos (astronaut, chelsea, coffee, rocket, motorcycle,
...: RGB ones only), each scaled and centre-cropped to 1152 x 864 px (~1 MP), cycled and
mirrored every other round so no two files are the same, written as JPEG (quality 90) into a
temporary folder: one batch. Everything runs on a temporary SQLite database.

Worker: a fresh process runs the Admin tab's job function (callbacks.model_jobs.preannotate_job,
what the background callback calls, in the job process or on the Celery worker) with the
built-in NanoDet (DETECTOR=nanodet, one onnxruntime thread, as the app loads it) over the
batch, storing the shapes as model:nanodet. It prints images per second (the job's own time,
model loading apart), and the process's peak RSS (VmHWM). Baseline, in the same process
before the job: decoding the same images alone (storage.renditions.upright_rgb, as predict
reads them); ours / baseline is the ratio of the two times.

Web worker: a fresh process imports app (as gunicorn's worker does) and reads its RSS; another
also runs Suggest once (workflows.suggest.suggest: the detector is loaded and run on one
image) and reads it again: what a web worker that never suggests is spared.

Prints figures and whether the target (>= 15 images/s) is met; never fails (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.common import attempt

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1152, 864)  # ~1 MP
SAMPLES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field")
TARGET_PER_SECOND = 15.0


def _rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _fitted(pixels: np.ndarray) -> Image.Image:
    """The photo scaled to cover SIZE, then centre-cropped to it."""
    image = Image.fromarray(pixels).convert("RGB")
    scale = max(SIZE[0] / image.width, SIZE[1] / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    left, top = (image.width - SIZE[0]) // 2, (image.height - SIZE[1]) // 2
    return image.crop((left, top, left + SIZE[0], top + SIZE[1]))


def make_images(folder: Path, count: int) -> int:
    """Write `count` ~1 MP JPEGs into folder/batch; their total bytes."""
    from skimage import data

    photos = []
    for name in SAMPLES:
        try:
            photos.append(_fitted(getattr(data, name)()))
        except Exception:  # a sample that needs a download (pooch) is left out
            continue
    batch = folder / "batch"
    batch.mkdir(parents=True, exist_ok=True)
    total = 0
    for number in range(count):
        photo = photos[number % len(photos)]
        if (number // len(photos)) % 2:
            photo = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = batch / f"{number:05d}.jpg"
        photo.save(path, quality=90)
        total += path.stat().st_size
    return total


def _environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(folder / "data"),
        "IMAGE_SOURCE": str(folder / "images"),
        "DETECTOR": "nanodet",
        "SUGGESTIONS": "on",
        "PYTHONPATH": str(ROOT),
    }


def _child(role: str, folder: Path) -> dict[str, Any]:
    """Run one part in a fresh process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.preannotate", "--child", role, "--folder", str(folder)],
        cwd=ROOT,
        env=_environment(folder),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{role} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_job() -> dict[str, Any]:
    """In a fresh process: the decode baseline, then the job as the background callback
    runs it."""
    import flask

    from callbacks.model_jobs import preannotate_job
    from config import load_settings
    from storage.caches import make_caches
    from storage.renditions import upright_rgb
    from storage.runtime import build_services, install
    from workflows.predict import batch_keys
    from workflows.suggest import detector_for

    settings = load_settings()
    services = install(build_services(settings, *make_caches(flask.Flask("bench"), settings)))
    keys = batch_keys(services, "batch")
    started = time.perf_counter()
    for key in keys:
        upright_rgb(services.images.source.read(key), key)
    baseline = time.perf_counter() - started
    before = _rss_kb("VmHWM")
    started = time.perf_counter()
    detector_for("nanodet").detect(np.zeros((64, 64, 3), np.uint8), 0.35)  # the model, loaded
    loading = time.perf_counter() - started
    started = time.perf_counter()
    result = preannotate_job("batch", 0.35, lambda *_: None)
    seconds = time.perf_counter() - started
    summary = " ".join(str(getattr(part, "children", part)) for part in result.children)
    return {
        "images": len(keys),
        "baseline": baseline,
        "loading": loading,
        "seconds": seconds,
        "summary": summary,
        "peak_before_kb": before,
        "peak_kb": _rss_kb("VmHWM"),
    }


def child_web(suggest: bool) -> dict[str, Any]:
    """In a fresh process: import app as a web worker does; optionally Suggest once."""
    import app  # noqa: F401

    answer: dict[str, Any] = {"rss_kb": _rss_kb(), "onnxruntime": "onnxruntime" in sys.modules}
    if suggest:
        from storage.runtime import current
        from workflows.predict import batch_keys
        from workflows.suggest import suggest as run_suggest

        services = current()
        key = batch_keys(services, "batch")[0]
        run_suggest(services, key, "bench")
        answer.update(rss_kb=_rss_kb(), onnxruntime="onnxruntime" in sys.modules)
    return answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--child", choices=("job", "web", "web-suggest"))
    parser.add_argument("--folder")
    args = parser.parse_args(argv)
    if args.child:
        answer = child_job() if args.child == "job" else child_web(args.child == "web-suggest")
        print(json.dumps(answer))
        return
    with tempfile.TemporaryDirectory(prefix="concord-preannotate-") as name:
        folder = Path(name)
        started = time.perf_counter()
        size = attempt("writing images", lambda: make_images(folder / "images", args.images))
        if size is None:
            return
        print(
            f"{args.images} JPEGs of {SIZE[0]} x {SIZE[1]} px, {size / args.images / 1000:.0f} kB "
            f"each on average, written in {time.perf_counter() - started:.1f} s"
        )
        job = attempt("pre-annotation job", lambda: _child("job", folder))
        if job:
            rate = job["images"] / job["seconds"] if job["seconds"] else 0.0
            base = job["images"] / job["baseline"] if job["baseline"] else 0.0
            met = "met" if rate >= TARGET_PER_SECOND else "missed"
            print(f"job: {job['summary']}")
            print(
                f"pre-annotate: {rate:.1f} images/s ({1000 / rate if rate else 0:.1f} ms each; "
                f"target >= {TARGET_PER_SECOND:g}/s {met}); model loaded in {job['loading']:.2f} s"
            )
            print(
                f"baseline, decoding the same images alone: {base:.0f} images/s "
                f"({job['baseline'] * 1000 / job['images']:.1f} ms each); ours / baseline "
                f"{job['seconds'] / job['baseline']:.1f}x"
            )
            print(
                f"job worker peak RSS: {job['peak_kb'] / 1024:.0f} MB "
                f"({job['peak_before_kb'] / 1024:.0f} MB before the model was loaded)"
            )
        for role, what in (("web", "that never suggests"), ("web-suggest", "after one Suggest")):
            web = attempt(f"web worker ({role})", partial(_child, role, folder))
            if web:
                loaded = "loaded" if web["onnxruntime"] else "not loaded"
                print(
                    f"web worker {what}: RSS {web['rss_kb'] / 1024:.0f} MB (onnxruntime {loaded})"
                )


if __name__ == "__main__":
    main()
