"""What pre-annotating a batch costs: python -m bench.preannotate [--images N] (default
1,000 images; about 2.5 minutes on 2 cores, 1.5 with --no-with-navigation).

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

Web while the job runs (--with-navigation, the default; --no-with-navigation skips it):
`gunicorn app:server` (1 worker, 4 threads, bench.navigation's helpers) on 127.0.0.1 over the
same image folder, on a database of its own that the job shares, as web and worker do. A
labeler clicks Next through the batch, at most one click every 100 ms: the `navigate` and
`show_image` callbacks over HTTP (Next, as bench.navigation times it), then the image's GET,
as the page loads it (timed apart). Baseline, in the same run: WINDOW_S seconds of this with
no job running; then the same again while a fresh process (as the diskcache job process or
the Celery worker) runs the pre-annotate job over the same batch, from when its model is
loaded until it ends or WINDOW_S seconds have passed (the job is then stopped by its PID).
It prints Next's p50/p95 for both, the ratio, the job's images per second meanwhile and the
CPU time job and web worker used (the clicking client runs on the same cores).

Prints figures and whether the targets (>= 15 images/s; Next p95 under 200 ms while the job
runs) are met; never fails (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
TARGET_NEXT_P95_S = 0.200  # Next's p95 while the job runs
WINDOW_S = 20.0  # how long Next is measured, without and then with the job
CLICK_EVERY_S = 0.100  # at most one Next per this many seconds
BATCH = "batch"


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


def child_background(folder: Path) -> None:
    """In a fresh process, as the job process or the Celery worker: load the model, say
    'started' on stdout, then run the job over the batch, writing 'done total' to
    folder/job-progress after each image."""
    import flask

    from callbacks.model_jobs import preannotate_job
    from config import load_settings
    from storage.caches import make_caches
    from storage.runtime import build_services, install
    from workflows.suggest import detector_for

    settings = load_settings()
    install(build_services(settings, *make_caches(flask.Flask("bench"), settings)))
    detector_for("nanodet").detect(np.zeros((64, 64, 3), np.uint8), 0.35)
    print("started", flush=True)

    def report(done: int, total: int, _what: str) -> None:
        (folder / "job-progress").write_text(f"{done} {total}")

    preannotate_job(BATCH, 0.35, report)


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


def _percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


class Labeler:
    """Clicks Next through the batch as the page does (bench.navigation's Browser), from
    where it last stopped, back to the first image after the last."""

    def __init__(self, base: str, count: int) -> None:
        from bench.navigation import Browser, load_callbacks

        self.browser = Browser(base, load_callbacks(base))
        self.count = count
        self.index = 0

    def click(self) -> tuple[float, float]:
        """One Next, then the image's GET: (Next seconds, image seconds)."""
        from bench.navigation import get_image, image_url, moved_to

        if self.index >= self.count - 1:
            self.index = 0
        position = {"batch": BATCH, "key": f"{BATCH}/{self.index:05d}.jpg", "index": self.index}
        nav = self.browser.navigate(position, "next.n_clicks")
        shown = self.browser.show_image(moved_to(nav))
        image = get_image(image_url(self.browser.base, shown))
        self.index += 1
        return nav.seconds + shown.seconds, image.seconds

    def run(self, until: Callable[[], bool]) -> tuple[list[float], list[float]]:
        """Click until `until()` says stop; the Next and image times."""
        nexts: list[float] = []
        images: list[float] = []
        while not until():
            started = time.perf_counter()
            next_s, image_s = self.click()
            nexts.append(next_s)
            images.append(image_s)
            time.sleep(max(0.0, CLICK_EVERY_S - (time.perf_counter() - started)))
        return nexts, images


def _job_progress(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def navigation_part(folder: Path, count: int) -> dict[str, Any]:
    """Next's times with no job, then while the job runs; see the module's docstring."""
    from bench.navigation import cpu_seconds, running
    from tests.servers import stop_pid

    env = {**_environment(folder), "DATA_DIR": str(folder / "data-web")}
    answer: dict[str, Any] = {}
    with running(env, folder / "gunicorn.log") as app:
        labeler = Labeler(app.base, count)
        for _ in range(3):  # the first requests of a fresh worker, left out
            labeler.click()
        answer["rss_start_mb"] = app.peak_rss_mb()
        end = time.monotonic() + WINDOW_S
        answer["idle"] = labeler.run(lambda: time.monotonic() >= end)
        with (folder / "job.log").open("wb") as log:
            job = subprocess.Popen(
                [sys.executable, "-m", "bench.preannotate", "--child", "background"]
                + ["--folder", str(folder)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        try:
            if job.stdout is None or job.stdout.readline().strip() != "started":
                raise RuntimeError(f"job did not start:\n{(folder / 'job.log').read_text()}")
            pids = (job.pid, app.worker_pid())
            cpu = [cpu_seconds(pid) for pid in pids]
            started = time.monotonic()
            end = started + WINDOW_S
            answer["busy"] = labeler.run(lambda: time.monotonic() >= end or job.poll() is not None)
            answer["job_seconds"] = time.monotonic() - started
            if job.poll() is None:  # its CPU time is only readable while it lives
                answer["cpu"] = [cpu_seconds(pid) - used for pid, used in zip(pids, cpu)]
            answer["job_images"] = _job_progress(folder / "job-progress")
            answer["job_finished"] = job.poll() is not None
        finally:
            stop_pid(job)
        answer["rss_peak_mb"] = app.peak_rss_mb()
    return answer


def print_navigation(nav: dict[str, Any]) -> None:
    (idle, idle_images), (busy, busy_images) = nav["idle"], nav["busy"]
    p50, p95 = _percentile(idle, 0.5), _percentile(idle, 0.95)
    b50, b95 = _percentile(busy, 0.5), _percentile(busy, 0.95)
    met = "met" if b95 < TARGET_NEXT_P95_S else "missed"
    rate = nav["job_images"] / nav["job_seconds"] if nav["job_seconds"] else 0.0
    ended = "it ended" if nav["job_finished"] else "then stopped"
    print(
        f"web (gunicorn, 1 worker, 4 threads), Next = navigate + show_image, one click per "
        f"{CLICK_EVERY_S * 1000:.0f} ms at most:"
    )
    print(
        f"  no job (baseline): {len(idle)} Nexts, p50 {p50 * 1000:.1f} ms, p95 "
        f"{p95 * 1000:.1f} ms; image GET p50 {_percentile(idle_images, 0.5) * 1000:.1f} ms, "
        f"p95 {_percentile(idle_images, 0.95) * 1000:.1f} ms"
    )
    print(
        f"  job running: {len(busy)} Nexts, p50 {b50 * 1000:.1f} ms, p95 {b95 * 1000:.1f} ms "
        f"(target < {TARGET_NEXT_P95_S * 1000:.0f} ms {met}); image GET p50 "
        f"{_percentile(busy_images, 0.5) * 1000:.1f} ms, p95 "
        f"{_percentile(busy_images, 0.95) * 1000:.1f} ms"
    )
    print(
        f"  job running / baseline: p50 {b50 / p50:.1f}x, p95 {b95 / p95:.1f}x; the job did "
        f"{nav['job_images']} images in {nav['job_seconds']:.1f} s meanwhile ({rate:.1f} "
        f"images/s; {ended}); web worker peak RSS {nav['rss_peak_mb']:.0f} MB"
    )
    if "cpu" in nav:
        job_cpu, web_cpu = nav["cpu"]
        print(
            f"  CPU time meanwhile: job {job_cpu:.1f} s, web worker {web_cpu:.1f} s, in "
            f"{nav['job_seconds']:.1f} s on {os.cpu_count()} cores (other load on the machine "
            "counts too)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument(
        "--with-navigation",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time Next on the app under gunicorn, without and with the job running",
    )
    parser.add_argument("--child", choices=("job", "web", "web-suggest", "background"))
    parser.add_argument("--folder")
    args = parser.parse_args(argv)
    if args.child == "background":
        child_background(Path(args.folder))
        return
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
        if args.with_navigation:
            what = "navigation while the job runs"
            nav = attempt(what, partial(navigation_part, folder, args.images))
            if nav:
                attempt("navigation report", partial(print_navigation, nav))


if __name__ == "__main__":
    main()
