"""What paging through images costs, measured on the app under gunicorn, in one run.

Local folder part: JPEGs of 1024x768, 2048x1536, 4000x3000 and 8000x6000 (photo-like, four
per size, one batch per size) are served by `gunicorn app:server` (1 worker, 4 threads) on
127.0.0.1. For each size it measures over HTTP, sending what the browser sends:

- "Next": one POST to /_dash-update-component, the `move` callback (triggered by
  next.n_clicks, with every input and state the page sends, built from /_dash-dependencies).
  Its answer holds everything the new image shows: position, image view, records, figure,
  grid rows, prefetch URLs, progress bar. Server time is the wall time of that POST on
  loopback, bytes its response. "first" is the first pass through the batch (the moves
  find the images' sizes and versions as they go); "again" repeats it with all of that
  cached. (The page's active-time report, a small POST after the image changed, is not
  counted: nothing waits for it.)
- The image request: GET of the URL in the move's image view (/images/...?v=...), cold
  (the rendition is made), warm (served from the rendition cache) and revalidated
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
(page, scripts, layout, dependencies, the move the page sends as it opens, the image's
bytes, one after the other), then Next within the batch (a move's progress counts the
batch as far as it is listed; the page's own later request that lists a few pages more is
not sent here), with the CPU time the worker and moto spend on each move and the worker's
peak RSS; then, on a fresh
worker, a returning labeler, whose page sends one move (image, progress, batch options and
prefetch list in its answer), then fetches the image and the two prefetched ones together.
moto's own listing time is printed for reference: moto lists much more slowly than S3 does.

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
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
S3_NEXTS = 5  # Next within the S3 batch, from the first image
PROGRESS_PAGES = 3  # listing pages the page's progress request adds (callbacks/navigation.py)
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


MOVE_TRIGGER = "next.n_clicks"
POSITION = "position-store.data"
ANNOTATOR_DATA = "annotator-store.data"
TAB_DATA = "tab-id-store.data"
IMAGE_VIEW = "image-store.data"
PREFETCH = "prefetch-store.data"
PROGRESS_TEXT = "progress-text.children"
RECORDS = "records-store.data"
# What the page sends as it opens: both stores read from local storage.
OPENING = (ANNOTATOR_DATA, POSITION)


def load_move(base: str) -> DashCallback:
    """The `move` callback as /_dash-dependencies describes it: the one whose first output
    is the position and whose inputs include Next."""
    reply = fetch(f"{base}_dash-dependencies")
    for spec in json.loads(reply.body):
        if spec.get("clientside_function"):
            continue
        first = parse_output(spec["output"])[0]
        inputs = tuple(f"{dep['id']}.{dep['property']}" for dep in spec["inputs"])
        if f"{first['id']}.{first['property']}" == POSITION and MOVE_TRIGGER in inputs:
            state = tuple(f"{dep['id']}.{dep['property']}" for dep in spec["state"])
            return DashCallback(spec["output"], inputs, state)
    raise RuntimeError(f"no callback writes {POSITION} on {MOVE_TRIGGER}: {reply.body[:200]!r}")


@dataclass
class Browser:
    """The values a page holds, and the one callback it sends per Next and on opening:
    every answer's outputs become the page's values, as in the renderer."""

    base: str
    move: DashCallback
    values: dict[str, Any] = field(default_factory=dict)
    clicks: int = 0

    def __post_init__(self) -> None:
        self.values.update({ANNOTATOR_DATA: ANNOTATOR, TAB_DATA: uuid.uuid4().hex})

    def open(self, position: dict[str, Any] | None) -> Called:
        """The move the page sends as it opens, with a name and a remembered position (or
        none: a first-time visitor)."""
        self.values[POSITION] = position
        return self.send(OPENING)

    def place(self, position: dict[str, Any]) -> None:
        """Put the page on an image without asking the server (nothing of it loaded yet)."""
        self.values.update(
            {POSITION: position, "jump.value": position["key"], "batch.value": position["batch"]}
        )
        self.values[RECORDS] = None

    def next(self) -> Called:
        """Press Next: one POST; raises unless the answer moved and describes the image."""
        self.clicks += 1
        self.values[MOVE_TRIGGER] = self.clicks
        called = self.send((MOVE_TRIGGER,))
        moved_to(called)
        image_url(self.base, called)
        return called

    def send(self, changed: Sequence[str]) -> Called:
        called = self.move.call(self.base, self.values, changed)
        self.values.update(called.outputs)
        return called

    def prefetched_urls(self, called: Called) -> list[str]:
        urls = called.outputs.get(PREFETCH) or []
        return [url if url.startswith("http") else self.base.rstrip("/") + url for url in urls]


def moved_to(called: Called) -> dict[str, Any]:
    position = called.outputs.get(POSITION)
    if not isinstance(position, dict):
        raise RuntimeError(f"the move did not move: {called.reply.body[:300]!r}")
    return position


def image_url(base: str, called: Called) -> str:
    view = called.outputs.get(IMAGE_VIEW) or {}
    if not view.get("url"):
        raise RuntimeError(f"the move gave no image URL: {called.reply.body[:300]!r}")
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
    """Next from the first image to the last of the batch, one move per click; the image
    URLs shown. The first time, the moves find the images' sizes and versions as they go;
    the second time all of that is cached."""
    browser.place({"batch": label, "key": f"{label}/img-0.jpg", "index": 0})
    urls = []
    for _ in range(PER_SIZE - 1):
        moved = browser.next()
        (result.next_first if first else result.next_again).append(moved.seconds)
        result.next_bytes.append(moved.size)
        urls.append(image_url(browser.base, moved))
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
    """What one Next sends back, once (after the measurements): its size, the outputs it
    updates, the image view and the prefetch list."""
    browser.place({"batch": label, "key": f"{label}/img-0.jpg", "index": 0})
    called = browser.next()
    print(f"move response to Next ({called.size:,} bytes) updates {len(called.outputs)} outputs:")
    print(f"  {', '.join(called.outputs)}")
    print(f"  image view: {json.dumps(called.outputs.get(IMAGE_VIEW))[:300]}")
    print(f"  prefetch: {json.dumps(called.outputs.get(PREFETCH))[:300]}")


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
        browser = Browser(app.base, load_move(app.base))
        print(f"gunicorn worker pid {app.worker_pid()}, peak RSS {app.peak_rss_mb():.0f} MB idle")
        for result in results:
            measure_size(app, browser, result.label, result)
        print_sanity(browser, next(iter(SIZES)))


def print_local(results: list[SizeResult]) -> None:
    print()
    print("Next = one POST of the move callback over HTTP (its answer holds the image view,")
    print("figure, records, grid rows, prefetch URLs and progress), median server ms and bytes.")
    print("first: the first pass through the batch; again: the second, with the images' sizes")
    print("and versions cached")
    print(
        f"{'size':<10} {'Next ms first':>13} {'again':>6} {'max':>6} {'Next bytes':>10} "
        f"{'max bytes':>10}"
    )
    for r in results:
        print(
            f"{r.label:<10} {ms(median(r.next_first)):>13} {ms(median(r.next_again)):>6} "
            f"{ms(max(r.next_first + r.next_again, default=float('nan'))):>6} "
            f"{median(r.next_bytes):>10,.0f} "
            f"{max(r.next_bytes, default=float('nan')):>10,}"
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
    print(
        "image request (GET of the URL in the move's image view), medians: cold = rendition made,"
    )
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
    next_seconds: list[float] = field(default_factory=list)
    next_cpu: list[tuple[float, float]] = field(default_factory=list)  # worker, moto
    next_cold_seconds: float = float("nan")
    next_bytes: list[int] = field(default_factory=list)
    progress_texts: list[str] = field(default_factory=list)
    rss_after_moves: float = float("nan")
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


def first_visit(browser: Browser, result: S3Result) -> None:
    """Open the page as a first-time visitor and wait for the first image's bytes, each
    step in sequence."""
    steps = result.first_steps
    steps["page + scripts"], steps["layout + dependencies"] = open_page(browser.base)
    opened = browser.open(None)
    moved_to(opened)
    steps["move"] = opened.seconds
    result.first_image_url = image_url(browser.base, opened)
    result.progress_texts.append(str(opened.outputs.get(PROGRESS_TEXT)))
    image = get_image(result.first_image_url)
    steps["image"] = image.seconds
    result.first_image_bytes = len(image.body)


def next_at_scale(browser: Browser, result: S3Result, pids: tuple[int | None, ...]) -> None:
    """Next from the first image, S3_NEXTS times: each move goes to an image the previous
    one listed for prefetch (its metadata known) and counts the batch a few listing pages
    further for the progress bar; timed with the CPU time the worker and moto spend. Then
    Next from an image further on (its metadata not cached: one HEAD, one ranged GET)."""
    for _ in range(S3_NEXTS):
        before = [cpu_seconds(pid) for pid in pids]
        moved = browser.next()
        worker, moto = (cpu_seconds(pid) - used for pid, used in zip(pids, before))
        result.next_seconds.append(moved.seconds)
        result.next_cpu.append((worker, moto))
        result.next_bytes.append(moved.size)
        result.progress_texts.append(str(moved.outputs.get(PROGRESS_TEXT)))
    browser.place({"batch": S3_BATCH, "key": f"{S3_BATCH}/000050.jpg", "index": 50})
    result.next_cold_seconds = browser.next().seconds


def returning_visit(browser: Browser, result: S3Result) -> None:
    """A labeler with a name and a remembered position reopens the page on a fresh worker.
    The page sends one move (image view, batch options, progress and prefetch list in its
    answer), then fetches the image and the two prefetched ones at once."""
    steps = result.returning_steps
    start = time.perf_counter()

    def done(step: str) -> None:
        steps[step] = time.perf_counter() - start

    open_page(browser.base)
    done("page opened")
    opened = browser.open({"batch": S3_BATCH, "key": f"{S3_BATCH}/000000.jpg", "index": 0})
    moved_to(opened)
    done("move")
    with ThreadPoolExecutor(6) as pool:
        image = pool.submit(get_image, image_url(browser.base, opened))
        ahead = [pool.submit(get_image, url) for url in browser.prefetched_urls(opened)]
        image.result()
        done("first image")
        for each in ahead:
            each.result()
        done(f"{len(ahead)} prefetched images")


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
            browser = Browser(app.base, load_move(app.base))
            first_visit(browser, result)
            result.rss_after_first = app.peak_rss_mb()
            pids = (app.worker_pid(), moto.process.pid if moto.process else None)
            next_at_scale(browser, result, pids)
            result.rss_after_moves = app.peak_rss_mb()
        with running(s3_env(moto, root, "data-s3b"), root / "gunicorn-s3b.log") as app:
            returning_visit(Browser(app.base, load_move(app.base)), result)
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
    nan = float("nan")
    print(
        f"  Next within the batch ({len(r.next_seconds)} moves from the first image, each to an "
        "image the move before listed for prefetch):"
    )
    print(
        f"    median {ms(median(r.next_seconds))} ms, max {ms(max(r.next_seconds, default=nan))} "
        f"ms, {median(r.next_bytes):,.0f} bytes; to an image not listed before: "
        f"{ms(r.next_cold_seconds)} ms"
    )
    print(
        "  progress comes inside each move, counted as far as the batch is listed; the page "
        f"then asks for up to {PROGRESS_PAGES} more listing pages ({PROGRESS_PAGES * 1000:,} "
        "keys) in a request of its own, after the image (not sent here)"
    )
    worker, moto = (median([cpu[which] for cpu in r.next_cpu]) for which in (0, 1))
    print(f"    CPU time per move, median: gunicorn worker {worker:.2f} s, moto {moto:.2f} s")
    print("    the bar says, on opening then after each Next:")
    for text in r.progress_texts:
        print(f"      {text[:110]}")
    print(f"  worker peak RSS after the moves: {r.rss_after_moves:,.0f} MB")
    print("  returning labeler, fresh worker: one move, then the image and the prefetched ones;")
    print("  from opening the page:")
    print("    " + ", ".join(f"{name} at {s:.2f} s" for name, s in r.returning_steps.items()))
    print(
        f"    worker peak RSS: {r.rss_returning:,.0f} MB (the image and the prefetched ones "
        "are made into renditions at the same time)"
    )


def s3_targets(r: S3Result) -> list[str]:
    rss = max(r.rss_after_moves, r.rss_returning)
    returning = r.returning_steps.get("first image", float("nan"))
    return [
        f"{verdict(r.first_image_seconds < FIRST_IMAGE_MAX_SECONDS)} first image within 2 s "
        f"of opening the page with {r.keys:,} S3 keys ({r.first_image_seconds:.2f} s)",
        f"{verdict(returning < FIRST_IMAGE_MAX_SECONDS)} the same for a returning labeler, "
        f"progress and prefetch list in the same move ({returning:.2f} s)",
        f"{verdict(rss < WORKER_MAX_MB)} worker under 300 MB with {r.keys:,} S3 keys "
        f"({r.rss_after_moves:,.0f} MB after the first image and {len(r.next_seconds) + 1} "
        f"moves, {r.rss_returning:,.0f} MB with the prefetched images made at once)",
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
