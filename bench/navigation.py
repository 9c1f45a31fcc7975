"""What paging through images costs, measured on the app under gunicorn, in one run.

Local folder part: JPEGs of 1024x768, 2048x1536, 4000x3000 and 8000x6000 (photo-like, four
per size, one batch per size) are served by `gunicorn app:server` (1 worker, 4 threads) on
127.0.0.1. For each size it measures over HTTP, calling what the browser calls:

- "Next": the `navigate` callback (triggered by next.n_clicks), then `show_image` with the
  new position; server time is the wall time of both POSTs to /_dash-update-component on
  loopback, bytes are both responses. "first" visits each image with nothing about it
  cached; "again" repeats the clicks with its size and version cached, as they are in
  the page, whose prefetch callback (prefetch_next, timed apart) looks up the next images.
- The image request: GET of the URL show_image gives (/images/...?v=...), cold (the
  rendition is made), warm (served from the rendition cache) and revalidated
  (If-None-Match, 304).
- The worker's peak RSS (VmHWM from /proc/<worker pid>/status), after each size.

Baseline, in the same run and in-process: the plotly image-annotation sample's Next, a
figure with the image inside as base64 JPEG: px.imshow(pixels, binary_string=True,
binary_format="jpg") then fig.to_json() (decoding the file is not counted). Plotly's
default PNG encoding is printed too, once per size, for context.

S3 part: moto's S3 server with 100,000 keys under one prefix (big/: one batch; the first
three are 4000x3000 photos, the rest tiny JPEGs). moto is filled in its own process before
it listens: filling it with HTTP PUTs costs about 3.6 ms a key here (6 minutes). With
IMAGE_SOURCE=s3://bucket/ it measures the first image shown to a first-time visitor
(page, scripts, layout, dependencies, navigate, show_image, the image's bytes, one after
the other), Next in that batch, the progress callback (which lists a few more pages per
update) and the worker's peak RSS; then, on a fresh worker, a returning labeler, for whom the page
fires show_image, progress and the batch options at once, then fetches the image and the
two prefetched ones together. moto's own listing time is printed for reference: moto
lists much more slowly than S3 does.

Prints figures and marks each target met or missed; never fails (exit status 0).

Usage: python -m bench.navigation      (about 1 minute on 2 cores)
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from bench.common import attempt
from tests.servers import MotoServer, free_port, stop_pid

ROOT = Path(__file__).resolve().parent.parent
SIZES: dict[str, tuple[int, int]] = {
    "1024x768": (1024, 768),
    "2048x1536": (2048, 1536),
    "4000x3000": (4000, 3000),
    "8000x6000": (8000, 6000),
}
PER_SIZE = 4
BASELINE_RUNS = {"8000x6000": 2}  # others: 3
WARM_RUNS = 5
S3_KEYS = 100_000
S3_PHOTOS = 3  # the first image and the two the browser prefetches
BUCKET = "concord-bench"
S3_BATCH = "big"
ANNOTATOR = "bench"

NEXT_MAX_BYTES = 20_000
NEXT_MAX_SECONDS = 0.030
WARM_MAX_SECONDS = 0.015
FIRST_IMAGE_MAX_SECONDS = 2.0
WORKER_MAX_MB = 300.0

# Settings that would make the app use something other than in-process caches and SQLite.
APP_ENV_DROPPED = ("IMAGE_SOURCE", "DATABASE_URL", "CACHE_DIR", "REDIS_URL", "PORT")


# ---------------------------------------------------------------- small helpers


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def kb(size: float) -> str:
    return f"{size / 1e3:,.1f} kB"


def ratio(ours: float, base: float) -> str:
    """ours/baseline, also as 1/N."""
    if not (ours > 0 and base > 0):
        return "n/a"
    return f"{ours / base:.2g} (1/{base / ours:,.0f})"


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def verdict(ok: bool) -> str:
    return "[met]   " if ok else "[MISSED]"


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A photo-like image: a real sample photo scaled to size, with some noise."""
    from skimage import data

    base = np.asarray(Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC))
    noise = np.random.default_rng(seed).integers(0, 12, base.shape, dtype=np.uint8)
    return Image.fromarray(base - np.minimum(base, noise))


def write_images(folder: Path) -> dict[str, list[Path]]:
    """PER_SIZE JPEGs per size, one sub-folder (batch) per size."""
    written: dict[str, list[Path]] = {}
    for label, size in SIZES.items():
        (folder / label).mkdir(parents=True)
        written[label] = []
        for number in range(PER_SIZE):
            path = folder / label / f"img-{number}.jpg"
            photo(size, number).save(path, quality=90)
            written[label].append(path)
    return written


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float
    headers: dict[str, str]


def fetch(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> Reply:
    """One request on a fresh connection; the time counts from sending to the last byte."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)
    try:
        conn.connect()
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - start
        return Reply(
            response.status, data, seconds, {k.lower(): v for k, v in response.getheaders()}
        )
    finally:
        conn.close()


def fetch_all(urls: Sequence[str], parallel: int = 6) -> float:
    """Fetch URLs as a browser does (a few connections at once); total wall time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(fetch, urls))
    return time.perf_counter() - start


# ---------------------------------------------------------------- Dash callbacks over HTTP


def parse_output(output: str) -> list[dict[str, str]]:
    """The outputs of a callback id ('..a.b...c.d..' or 'a.b'), as the renderer sends them."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts]


@dataclass(frozen=True)
class Called:
    reply: Reply
    outputs: dict[str, Any]  # {"id.property": value}

    @property
    def seconds(self) -> float:
        return self.reply.seconds

    @property
    def size(self) -> int:
        return len(self.reply.body)


@dataclass(frozen=True)
class DashCallback:
    """One server callback as /_dash-dependencies describes it."""

    output: str
    inputs: tuple[str, ...]  # "id.property"
    state: tuple[str, ...]

    def body(self, values: Mapping[str, Any], changed: Sequence[str]) -> bytes:
        """The JSON the renderer POSTs: every input and state with its value (None if unset)."""
        outputs = parse_output(self.output)

        def deps(names: Sequence[str]) -> list[dict[str, Any]]:
            return [
                {**dict(zip(("id", "property"), name.rsplit(".", 1))), "value": values.get(name)}
                for name in names
            ]

        payload = {
            "output": self.output,
            "outputs": outputs if self.output.startswith("..") else outputs[0],
            "inputs": deps(self.inputs),
            "state": deps(self.state),
            "changedPropIds": list(changed),
        }
        return json.dumps(payload).encode()

    def call(self, base: str, values: Mapping[str, Any], changed: Sequence[str]) -> Called:
        """POST the callback; raises if the server answers with an error."""
        reply = fetch(
            f"{base}_dash-update-component",
            "POST",
            self.body(values, changed),
            {"Content-Type": "application/json"},
        )
        if reply.status == 204:
            return Called(reply, {})
        if reply.status != 200:
            raise RuntimeError(f"{self.output[:60]}: HTTP {reply.status} {reply.body[:300]!r}")
        response = json.loads(reply.body).get("response", {})
        outputs = {
            f"{ident}.{prop}": value
            for ident, props in response.items()
            for prop, value in props.items()
        }
        return Called(reply, outputs)


def load_callbacks(base: str) -> dict[str, DashCallback]:
    """The app's server callbacks by their first output ('position-store.data', ...)."""
    reply = fetch(f"{base}_dash-dependencies")
    found: dict[str, DashCallback] = {}
    for spec in json.loads(reply.body):
        if spec.get("clientside_function"):
            continue
        first = parse_output(spec["output"])[0]
        name = f"{first['id']}.{first['property'].split('@')[0]}"
        found.setdefault(
            name,
            DashCallback(
                spec["output"],
                tuple(f"{dep['id']}.{dep['property']}" for dep in spec["inputs"]),
                tuple(f"{dep['id']}.{dep['property']}" for dep in spec["state"]),
            ),
        )
    return found


NAVIGATE = "position-store.data"
SHOW_IMAGE = "image-store.data"
PROGRESS = "progress.children"
BATCHES = "batch.options"
PREFETCH = "prefetch-store.data"


@dataclass
class Browser:
    """The state a page keeps, and the callbacks it fires on Next and on load."""

    base: str
    callbacks: dict[str, DashCallback]
    clicks: int = 0

    def navigate(self, position: dict[str, Any] | None, trigger: str | None) -> Called:
        values: dict[str, Any] = {
            "position-store.data": position,
            "annotator-store.data": ANNOTATOR,
            "batch.value": (position or {}).get("batch"),
            "jump.value": (position or {}).get("key"),
        }
        if trigger:
            self.clicks += 1
            values[trigger] = self.clicks
        return self.callbacks[NAVIGATE].call(self.base, values, [trigger] if trigger else [])

    def on_position(self, name: str, position: dict[str, Any], annotator: str | None) -> Called:
        """A callback fired by a new position (show_image, progress, batch options); since
        issue 17 the move answers all of them at once: then the move as the page opens."""
        if name not in self.callbacks:
            return self.navigate(position, None)
        values = {"position-store.data": position, "annotator-store.data": annotator}
        return self.callbacks[name].call(self.base, values, ["position-store.data"])

    def show_image(self, position: dict[str, Any]) -> Called:
        return self.on_position(SHOW_IMAGE, position, ANNOTATOR)

    def shown_after(self, moved: Called) -> Called:
        """What show_image adds after a move: nothing (0 s, 0 bytes) when the move's own
        answer holds the image (issue 17), else its own request."""
        if SHOW_IMAGE in moved.outputs:
            return Called(Reply(200, b"", 0.0, {}), moved.outputs)
        return self.show_image(moved_to(moved))

    def prefetch(self, shown: Called) -> Called:
        """prefetch_next, fired by the new image: the URLs of the next images (in the
        move's answer since issue 17: 0 s)."""
        if PREFETCH not in self.callbacks:
            return Called(Reply(200, b"", 0.0, {}), shown.outputs)
        view = shown.outputs.get(SHOW_IMAGE)
        return self.callbacks[PREFETCH].call(self.base, {SHOW_IMAGE: view}, [SHOW_IMAGE])

    def prefetched_urls(self, called: Called) -> list[str]:
        urls = called.outputs.get(PREFETCH) or []
        return [url if url.startswith("http") else self.base.rstrip("/") + url for url in urls]


def moved_to(called: Called) -> dict[str, Any]:
    position = called.outputs.get(NAVIGATE)
    if not isinstance(position, dict):
        raise RuntimeError(f"navigate did not move: {called.reply.body[:300]!r}")
    return position


def position_of(shown: Called) -> dict[str, Any]:
    """The position store's value for the image show_image describes."""
    view = shown.outputs[SHOW_IMAGE]
    return {"batch": view["batch"], "key": view["key"], "index": view["index"]}


def image_url(base: str, called: Called) -> str:
    view = called.outputs.get(SHOW_IMAGE) or {}
    if not view.get("url"):
        raise RuntimeError(f"show_image gave no URL: {called.reply.body[:300]!r}")
    url = str(view["url"])
    return url if url.startswith("http") else base.rstrip("/") + url


# ---------------------------------------------------------------- the app under gunicorn


class Gunicorn:
    """`gunicorn app:server` (1 worker, 4 threads) on a free port, stopped by its PID."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in APP_ENV_DROPPED}
        self.env.update(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "app:server", "--workers", "1"]
        command += ["--threads", "4", "--bind", f"127.0.0.1:{self.port}", "--no-control-socket"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                if fetch(self.base, timeout=5).status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def worker_pid(self) -> int | None:
        if self.process is None:
            return None
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
        return None

    def peak_rss_mb(self) -> float:
        """The worker's peak resident memory (VmHWM), in MB."""
        pid = self.worker_pid()
        if pid is None:
            return float("nan")
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) * 1024 / 1e6 if found else float("nan")

    def stop(self) -> None:
        if self.process is not None:
            stop_pid(self.process)
            self.process = None


@contextmanager
def running(env: Mapping[str, str], log_path: Path) -> Iterator[Gunicorn]:
    app = Gunicorn(env, log_path)
    try:
        yield app.start()
    finally:
        app.stop()


# ---------------------------------------------------------------- local folder part


@dataclass
class SizeResult:
    label: str
    original_bytes: int
    next_first: list[float] = field(default_factory=list)
    next_again: list[float] = field(default_factory=list)
    next_bytes: list[int] = field(default_factory=list)
    prefetch: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    cold_bytes: list[int] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    revalidated: list[float] = field(default_factory=list)
    peak_rss_mb: float = float("nan")
    base_seconds: float = float("nan")
    base_bytes: int = 0
    png_seconds: float = float("nan")
    png_bytes: int = 0


def baseline(pixels: np.ndarray, runs: int, fmt: str = "jpg") -> tuple[float, int]:
    """Median time and size of the sample app's figure JSON (image embedded in `fmt`)."""
    import plotly.express as px

    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        figure = px.imshow(pixels, binary_string=True, binary_format=fmt).to_json()
        times.append(time.perf_counter() - start)
        size = len(figure)
    return median(times), size


def baselines(result: SizeResult, path: Path) -> None:
    """The JPEG baseline (median of a few runs) and plotly's default PNG (one run)."""
    pixels = np.asarray(Image.open(path).convert("RGB"))
    runs = BASELINE_RUNS.get(result.label, 3)
    result.base_seconds, result.base_bytes = baseline(pixels, runs)
    result.png_seconds, result.png_bytes = baseline(pixels, 1, "png")


def next_clicks(browser: Browser, label: str, result: SizeResult, first: bool) -> list[str]:
    """Next from the first image to the last of the batch; the image URLs shown. The first
    time, nothing about the images is cached; the second time the browser's prefetch
    callback runs after each image, as it does in the page."""
    position: dict[str, Any] = {"batch": label, "key": f"{label}/img-0.jpg", "index": 0}
    urls = []
    for _ in range(PER_SIZE - 1):
        nav = browser.navigate(position, "next.n_clicks")
        position = moved_to(nav)
        show = browser.shown_after(nav)
        (result.next_first if first else result.next_again).append(nav.seconds + show.seconds)
        result.next_bytes.append(nav.size + show.size)
        urls.append(image_url(browser.base, show))
        if not first:
            result.prefetch.append(browser.prefetch(show).seconds)
    return urls


def image_requests(url: str, result: SizeResult) -> None:
    """Cold, warm and revalidated requests for one image."""
    cold = fetch(url)
    if cold.status != 200:
        raise RuntimeError(f"{url}: HTTP {cold.status} {cold.body[:200]!r}")
    result.cold.append(cold.seconds)
    result.cold_bytes.append(len(cold.body))
    etag = cold.headers.get("etag", "")
    for _ in range(WARM_RUNS):
        result.warm.append(fetch(url).seconds)
        revalidated = fetch(url, headers={"If-None-Match": etag})
        if revalidated.status == 304:
            result.revalidated.append(revalidated.seconds)


def measure_size(app: Gunicorn, browser: Browser, label: str, result: SizeResult) -> None:
    urls = next_clicks(browser, label, result, first=True)
    next_clicks(browser, label, result, first=False)
    for url in urls:
        image_requests(url, result)
    result.peak_rss_mb = app.peak_rss_mb()


def print_sanity(browser: Browser, label: str) -> None:
    """What show_image sends, once."""
    called = browser.show_image({"batch": label, "key": f"{label}/img-0.jpg", "index": 0})
    print(f"show_image response ({called.size} bytes): {called.reply.body.decode()[:400]}")


def local_part(root: Path, results: list[SizeResult]) -> None:
    """Generate the images, run the baseline, then measure the app under gunicorn."""
    start = time.perf_counter()
    written = write_images(root / "images")
    print(f"wrote {PER_SIZE} JPEGs per size in {time.perf_counter() - start:.1f} s")
    for label, paths in written.items():
        result = SizeResult(label, int(median([p.stat().st_size for p in paths])))
        baselines(result, paths[1])
        results.append(result)
    print(f"baseline measured ({time.perf_counter() - start:.1f} s so far)")
    env = {"DATA_DIR": str(root / "data-local"), "IMAGE_SOURCE": str(root / "images")}
    with running(env, root / "gunicorn-local.log") as app:
        browser = Browser(app.base, load_callbacks(app.base))
        print(f"gunicorn worker pid {app.worker_pid()}, peak RSS {app.peak_rss_mb():.0f} MB idle")
        print_sanity(browser, next(iter(SIZES)))
        for result in results:
            measure_size(app, browser, result.label, result)


def print_local(results: list[SizeResult]) -> None:
    print()
    print("Next = navigate + show_image over HTTP, median server ms and response bytes.")
    print("first: the image's metadata is not cached yet; again: it is, as after the page's")
    print("prefetch callback (prefetch_next, which runs after each image, is shown apart)")
    print(
        f"{'size':<10} {'Next ms first':>13} {'again':>6} {'max':>6} {'Next bytes':>10} "
        f"{'prefetch ms':>11}"
    )
    for r in results:
        print(
            f"{r.label:<10} {ms(median(r.next_first)):>13} {ms(median(r.next_again)):>6} "
            f"{ms(max(r.next_first + r.next_again, default=float('nan'))):>6} "
            f"{median(r.next_bytes):>10,.0f} "
            f"{ms(median(r.prefetch)):>11}"
        )
    print()
    print("baseline = the plotly sample app's Next: the figure with the image inside as")
    print("base64 JPEG, px.imshow(binary_string=True, binary_format='jpg') + fig.to_json(),")
    print("in-process, median; ours = Next first. For context: plotly's default PNG (one run)")
    print(
        f"{'size':<10} {'baseline ms':>11} {'bytes':>11}   {'ours/baseline time':<19} "
        f"{'bytes':<17} {'png ms':>8} {'png bytes':>12}"
    )
    for r in results:
        first, size = median(r.next_first), median(r.next_bytes)
        print(
            f"{r.label:<10} {ms(r.base_seconds):>11} {r.base_bytes:>11,}   "
            f"{ratio(first, r.base_seconds):<19} {ratio(size, r.base_bytes):<17} "
            f"{ms(r.png_seconds):>8} {r.png_bytes:>12,}"
        )
    print()
    print("image request (GET of show_image's URL), medians: cold = rendition made,")
    print("warm = from the rendition cache, 304 = revalidated with If-None-Match")
    print(
        f"{'size':<10} {'original':>10} {'cold ms':>8} {'bytes':>10} {'warm ms':>8} "
        f"{'304 ms':>7}   worker peak RSS after this size"
    )
    for r in results:
        print(
            f"{r.label:<10} {r.original_bytes:>10,} {ms(median(r.cold)):>8} "
            f"{median(r.cold_bytes):>10,.0f} {ms(median(r.warm)):>8} "
            f"{ms(median(r.revalidated)):>7}   {r.peak_rss_mb:,.0f} MB"
        )


def local_targets(results: list[SizeResult]) -> list[str]:
    nan = float("nan")
    largest = max((max(r.next_bytes, default=nan) for r in results), default=nan)
    slowest = max((median(r.next_first) for r in results), default=nan)
    slowest_again = max((median(r.next_again) for r in results), default=nan)
    warm = max((median(r.warm) for r in results), default=nan)
    return [
        f"{verdict(largest < NEXT_MAX_BYTES)} Next response under 20 kB at every size "
        f"(largest: {kb(largest)})",
        f"{verdict(slowest < NEXT_MAX_SECONDS)} Next server time under 30 ms at every size "
        f"(slowest median: {ms(slowest)} ms first visit, {ms(slowest_again)} ms again)",
        f"{verdict(warm < WARM_MAX_SECONDS)} warm image request under 15 ms "
        f"(slowest median: {ms(warm)} ms)",
    ]


# ---------------------------------------------------------------- S3 part


def serve_filled_moto(port: str, bucket: str, count: str, photos: str, small: str) -> None:
    """Run in moto's own process: fill the bucket in memory, then serve S3 on loopback."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import main as moto_main

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    bodies = [path.read_bytes() for path in sorted(Path(photos).glob("*.jpg"))[:S3_PHOTOS]]
    tiny = Path(small).read_bytes()
    for number in range(int(count)):
        body = bodies[number] if number < len(bodies) else tiny
        backend.put_object(bucket, f"{S3_BATCH}/{number:06d}.jpg", body)
    moto_main(["-H", "127.0.0.1", "-p", port])


class FilledMotoServer(MotoServer):
    """moto's S3 server in its own process, holding `count` keys before it listens."""

    def __init__(self, count: int, photos: Path, small: Path) -> None:
        super().__init__()
        self.count = count
        self.photos = photos
        self.small = small

    def start(self, timeout: float = 300) -> FilledMotoServer:
        code = "import sys; from bench.navigation import serve_filled_moto as s; s(*sys.argv[1:])"
        args = [str(self.port), BUCKET, str(self.count), str(self.photos), str(self.small)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto exited with code {self.process.returncode}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto did not listen within {timeout} s")


@dataclass
class S3Result:
    keys: int = 0
    fill_seconds: float = float("nan")
    list_page_seconds: float = float("nan")
    list_delimited_seconds: float = float("nan")
    first_steps: dict[str, float] = field(default_factory=dict)
    first_image_url: str = ""
    first_image_bytes: int = 0
    rss_after_first: float = float("nan")
    prefetch_seconds: float = float("nan")
    next_seconds: float = float("nan")
    next_cold_seconds: float = float("nan")
    next_bytes: int = 0
    progress_seconds: float = float("nan")
    progress_text: str = ""
    progress_cpu: list[float] = field(default_factory=list)  # worker, moto
    rss_after_progress: float = float("nan")
    returning_steps: dict[str, float] = field(default_factory=dict)
    rss_returning: float = float("nan")

    @property
    def first_image_seconds(self) -> float:
        """From opening the page to the image's last byte (nan unless it arrived)."""
        return sum(self.first_steps.values()) if "image" in self.first_steps else float("nan")


def moto_listing_times(moto: MotoServer, result: S3Result) -> None:
    """How long moto itself takes to answer the listings the app makes (raw HTTP, nothing
    parsed), for reference."""
    listing = f"{moto.endpoint}/{BUCKET}?list-type=2&max-keys=1000"
    times = []
    for number in (0, S3_KEYS // 2, max(S3_KEYS - 1000, 0)):
        after = f"{S3_BATCH}/{number:06d}.jpg" if number else ""
        reply = fetch(f"{listing}&prefix={S3_BATCH}/&start-after={after}")
        if reply.body.count(b"<Key>") < min(1000, S3_KEYS - number - 1):
            raise RuntimeError(f"moto listed too few keys: {reply.body[:300]!r}")
        times.append(reply.seconds)
    result.list_page_seconds = median(times)
    reply = fetch(f"{listing}&prefix=&delimiter=/")
    result.list_delimited_seconds = reply.seconds
    if b"<CommonPrefixes>" not in reply.body:
        raise RuntimeError(f"moto lists no batch: {reply.body[:300]!r}")


def page_assets(base: str) -> list[str]:
    """The page, then the scripts and style sheets a first-time visitor's browser fetches."""
    html = fetch(base).body.decode()
    return [base.rstrip("/") + src for src in re.findall(r'(?:src|href)="(/[^"]+)"', html)]


def open_page(base: str) -> tuple[float, float]:
    """Page and assets, then the layout and dependencies: (assets s, layout s)."""
    start = time.perf_counter()
    fetch_all(page_assets(base))
    assets = time.perf_counter() - start
    start = time.perf_counter()
    fetch_all([f"{base}_dash-layout", f"{base}_dash-dependencies"])
    return assets, time.perf_counter() - start


def get_image(url: str) -> Reply:
    reply = fetch(url)
    if reply.status != 200:
        raise RuntimeError(f"{url}: HTTP {reply.status} {reply.body[:200]!r}")
    return reply


def first_visit(browser: Browser, result: S3Result) -> Called:
    """Open the page as a first-time visitor and wait for the first image's bytes, each
    step in sequence; returns show_image's answer."""
    steps = result.first_steps
    steps["page + scripts"], steps["layout + dependencies"] = open_page(browser.base)
    nav = browser.navigate(None, None)
    steps["navigate"] = nav.seconds
    show = browser.shown_after(nav)
    steps["show_image"] = show.seconds
    result.first_image_url = image_url(browser.base, show)
    image = get_image(result.first_image_url)
    steps["image"] = image.seconds
    result.first_image_bytes = len(image.body)
    return show


def next_at_scale(browser: Browser, shown: Called, result: S3Result) -> None:
    """Next from the first image after the prefetch callback ran (as in the page), and
    Next further on without it (the image's metadata not cached: one HEAD, one ranged GET)."""
    result.prefetch_seconds = browser.prefetch(shown).seconds
    nav = browser.navigate(position_of(shown), "next.n_clicks")
    show = browser.shown_after(nav)
    result.next_seconds = nav.seconds + show.seconds
    result.next_bytes = nav.size + show.size
    further = {"batch": S3_BATCH, "key": f"{S3_BATCH}/000010.jpg", "index": 10}
    nav = browser.navigate(further, "next.n_clicks")
    result.next_cold_seconds = nav.seconds + browser.shown_after(nav).seconds


def progress(
    browser: Browser, position: dict[str, Any], result: S3Result, pids: tuple[int | None, ...]
) -> None:
    """The progress callback, with the CPU time the worker and moto spent on it."""
    before = [cpu_seconds(pid) for pid in pids]
    called = browser.on_position(PROGRESS, position, ANNOTATOR)
    result.progress_seconds = called.seconds
    result.progress_cpu = [cpu_seconds(pid) - used for pid, used in zip(pids, before)]
    result.progress_text = str(called.outputs.get("progress-text.children", called.outputs))


def returning_visit(browser: Browser, result: S3Result) -> None:
    """A labeler with a name and a remembered position reopens the page on a fresh worker.
    After navigate the browser fires show_image, the batch options and progress at once;
    after show_image, it fetches the image while the prefetch callback runs, then fetches
    the two prefetched images."""
    steps = result.returning_steps
    start = time.perf_counter()

    def done(step: str) -> None:
        steps[step] = time.perf_counter() - start

    open_page(browser.base)
    done("page opened")
    remembered = {"batch": S3_BATCH, "key": f"{S3_BATCH}/000000.jpg", "index": 0}
    position = moved_to(browser.navigate(remembered, None))
    done("navigate")
    with ThreadPoolExecutor(6) as pool:
        fired: dict[str, Future[Called]] = {
            name: pool.submit(browser.on_position, name, position, ANNOTATOR)
            for name in (SHOW_IMAGE, BATCHES, PROGRESS)
        }
        shown = fired[SHOW_IMAGE].result()
        done("show_image")
        image = pool.submit(get_image, image_url(browser.base, shown))
        urls = browser.prefetched_urls(browser.prefetch(shown))
        ahead = [pool.submit(get_image, url) for url in urls]
        image.result()
        done("first image")
        for each in ahead:
            each.result()
        done(f"{len(ahead)} prefetched images")
        fired[PROGRESS].result()
        done("progress shown")


def s3_env(moto: MotoServer, root: Path, name: str) -> dict[str, str]:
    return {**moto.env(), "DATA_DIR": str(root / name), "IMAGE_SOURCE": f"s3://{BUCKET}/"}


def s3_part(root: Path, result: S3Result) -> None:
    small = root / "tiny.jpg"
    photo((64, 48), 0).save(small, quality=75)
    moto = FilledMotoServer(S3_KEYS, root / "images" / "4000x3000", small)
    start = time.perf_counter()
    try:
        moto.start()
        result.fill_seconds = time.perf_counter() - start
        moto_listing_times(moto, result)
        with running(s3_env(moto, root, "data-s3"), root / "gunicorn-s3.log") as app:
            browser = Browser(app.base, load_callbacks(app.base))
            shown = first_visit(browser, result)
            result.rss_after_first = app.peak_rss_mb()
            next_at_scale(browser, shown, result)
            pids = (app.worker_pid(), moto.process.pid if moto.process else None)
            progress(browser, position_of(shown), result, pids)
            result.rss_after_progress = app.peak_rss_mb()
        with running(s3_env(moto, root, "data-s3b"), root / "gunicorn-s3b.log") as app:
            returning_visit(Browser(app.base, load_callbacks(app.base)), result)
            result.rss_returning = app.peak_rss_mb()
    finally:
        moto.stop()


def print_s3(r: S3Result) -> None:
    print()
    print(f"S3 at scale: {r.keys:,} keys under s3://{BUCKET}/{S3_BATCH}/ (one batch), moto")
    print(f"  moto started holding {r.keys:,} keys in {r.fill_seconds:.1f} s (filled in-process)")
    print(
        f"  for reference, moto answers list_objects_v2 of 1,000 keys in "
        f"{ms(r.list_page_seconds)} ms, the delimited top-level listing "
        f"{ms(r.list_delimited_seconds)} ms"
    )
    print(f"  first visit, first image shown: {r.first_image_seconds:.2f} s, in sequence:")
    print("    " + ", ".join(f"{name} {ms(s)} ms" for name, s in r.first_steps.items()))
    kind = "app route" if "/images/" in r.first_image_url else "presigned S3 URL"
    print(f"    image: {r.first_image_bytes:,} bytes via {kind}: {r.first_image_url[:90]}")
    print(f"  worker peak RSS after the first image: {r.rss_after_first:,.0f} MB")
    print(
        f"  Next within the batch: {ms(r.next_seconds)} ms after prefetch_next "
        f"({ms(r.prefetch_seconds)} ms) ran, {ms(r.next_cold_seconds)} ms without it; "
        f"{r.next_bytes:,} bytes"
    )
    print(f"  progress callback (lists up to 3 more pages): {r.progress_seconds:.2f} s")
    worker, moto = (r.progress_cpu + [float("nan")] * 2)[:2]
    print(f"    CPU time spent on it: gunicorn worker {worker:.1f} s, moto {moto:.1f} s")
    print(f"    says: {r.progress_text[:120]}")
    print(f"  worker peak RSS after progress: {r.rss_after_progress:,.0f} MB")
    print("  returning labeler, fresh worker, everything the page fires; from opening the page:")
    print("    " + ", ".join(f"{name} at {s:.2f} s" for name, s in r.returning_steps.items()))
    print(
        f"    worker peak RSS: {r.rss_returning:,.0f} MB (the image and the prefetched ones "
        "are made into renditions at the same time)"
    )


def s3_targets(r: S3Result) -> list[str]:
    rss = max(r.rss_after_progress, r.rss_returning)
    returning = r.returning_steps.get("first image", float("nan"))
    return [
        f"{verdict(r.first_image_seconds < FIRST_IMAGE_MAX_SECONDS)} first image within 2 s "
        f"of opening the page with {r.keys:,} S3 keys ({r.first_image_seconds:.2f} s)",
        f"{verdict(returning < FIRST_IMAGE_MAX_SECONDS)} the same for a returning labeler, "
        f"progress and prefetch alongside ({returning:.2f} s)",
        f"{verdict(rss < WORKER_MAX_MB)} worker under 300 MB with {r.keys:,} S3 keys "
        f"({r.rss_after_progress:,.0f} MB after the first image and progress, "
        f"{r.rss_returning:,.0f} MB with the prefetched images made at once)",
    ]


# ---------------------------------------------------------------- main


def main() -> None:
    start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    print(f"Concord navigation benchmark: gunicorn, 1 worker, 4 threads, on 127.0.0.1 ({root})")
    local: list[SizeResult] = []
    s3 = S3Result(keys=S3_KEYS)
    try:
        attempt("local folder part", lambda: local_part(root, local))
        attempt("local folder report", lambda: print_local(local))
        attempt("S3 part", lambda: s3_part(root, s3))
        attempt("S3 report", lambda: print_s3(s3))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print()
    print("targets")
    for line in local_targets(local) + s3_targets(s3):
        print(f"  {line}")
    print(f"\ntotal run time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
