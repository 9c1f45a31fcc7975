"""The first page load in a real browser, cold and warm, to the image visible.

The app runs under gunicorn as the Procfile's web process does (2 workers, 4 threads),
bound to 127.0.0.1, with a local folder of 1600x1200 photo-like JPEGs, no sign-in, and is
stopped by its PID. Debian's headless Chromium (tests/browser.py's flags) is driven by
selenium; the Chrome DevTools Protocol clears the browser's HTTP cache.

- "Image visible": the annotate figure's layout image (the SVG <image> element in
  `#graph .imagelayer`, whose href is the /images/ URL) has fired its load event: the
  picture is fetched and decoded. A listener installed before any page script records
  performance.now() at that moment, i.e. milliseconds since the navigation started:
  HTML, scripts, layout, callbacks, plotly.js and the image's bytes included.
- Cold: the browser's HTTP cache cleared, e.g. after a new release or on a new browser.
  The labeler's name stays in the browser's local storage (typed once into the first
  visit's dialog before measuring), so the page opens straight on the image.
- Second visit: the page opened again right after, in the same browser: every file comes
  from the HTTP cache, but Chromium has not yet kept the scripts' compiled code (it does so
  when a cached script runs a second time), so all of them are compiled again.
- Warm: the page opened a third time: files and compiled code cached, as for a labeler
  who opens the page every day. The warm target is for this one.
- Requests and bytes: the Resource Timing entries (plus the page itself) started up to the
  image visible; bytes are transferSize, what came over the wire (headers included,
  compressed if compressed, 0 for a response taken from the browser's cache).

Median of RUNS each; the sites are interleaved (each round opens every site, cold, second
visit and warm, in a rotating order), so other load on the machine weighs on all of them alike.
Baseline in the same run: a plain static HTML page showing the same image with an <img>
element (served by a Python http.server), to-visible meaning its onload.
With `--compare DIR` (repeatable), the same measurements also run on other checkouts of
Concord (e.g. `git archive HEAD | tar -x -C /tmp/before`), for before/after figures.

Prints figures and marks the targets met or missed; never fails (exit status 0).

Usage: python -m bench.first_load [--runs 5] [--compare DIR]     (about 1 minute per app)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.common import attempt, print_worker_memory
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.servers import free_port, stop_pid

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
IMAGES = 6
IMAGE_SIZE = (1600, 1200)
COLD_TARGET = 1.5
WARM_TARGET = 0.5
LABELER = "bench"
STATIC = "static page with the image"
KINDS = ("cold", "second visit", "warm")
ENCODINGS = "gzip, deflate, br, zstd"  # what Chromium sends
# Settings that would make the app use something other than its defaults.
APP_ENV_DROPPED = ("DATABASE_URL", "CACHE_DIR", "REDIS_URL", "PORT", "USERS", "USERS_FILE")

# Runs in the page before any of its scripts: records when the figure's layout image has
# loaded (load events do not bubble, but a capturing listener on the document sees them).
WATCH_IMAGE = """
document.addEventListener('load', (event) => {
  const target = event.target;
  if (window.__imageVisible === undefined && target instanceof SVGImageElement
      && target.closest('#graph .imagelayer')) {
    window.__imageVisible = performance.now();
  }
}, true);
"""

STATIC_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>baseline</title></head>
<body><img id="picture" src="/picture.jpg" width="1200" alt=""
onload="window.__imageVisible = performance.now()"></body></html>"""

# Every request the page made up to the image visible, and what came over the wire.
RESOURCES = """
const until = window.__imageVisible;
const page = performance.getEntriesByType('navigation')[0];
const entries = [page, ...performance.getEntriesByType('resource')]
  .filter(e => e.startTime <= until);
return entries.map(e => [e.name, e.transferSize, e.encodedBodySize, e.decodedBodySize,
                         e.initiatorType || 'navigation']);
"""


# ---------------------------------------------------------------- helpers


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A photo-like image: a real sample photo scaled to size, with some noise."""
    from skimage import data

    base = np.asarray(Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC))
    noise = np.random.default_rng(seed).integers(0, 12, base.shape, dtype=np.uint8)
    return Image.fromarray(base - np.minimum(base, noise))


def write_images(folder: Path) -> list[Path]:
    """IMAGES photo-like JPEGs in one batch folder."""
    batch = folder / "photos"
    batch.mkdir(parents=True)
    paths = []
    for number in range(IMAGES):
        path = batch / f"img-{number:02d}.jpg"
        photo(IMAGE_SIZE, number).save(path, quality=90)
        paths.append(path)
    return paths


def _wait_until_answers(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@contextmanager
def gunicorn(root: Path, images: Path, data_dir: Path) -> Iterator[str]:
    """The Procfile's web process bound to 127.0.0.1, stopped by its PID; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV_DROPPED}
    env.update({"DATA_DIR": str(data_dir), "IMAGE_SOURCE": str(images)})
    command = [
        shutil.which("gunicorn") or "gunicorn",
        "app:server",
        "--workers",
        "2",
        "--threads",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_answers(url + "healthz", process)
            yield url
        finally:
            print_worker_memory(process.pid, f"gunicorn of {root.name}")
            stop_pid(process)


@contextmanager
def static_site(picture: bytes) -> Iterator[str]:
    """The baseline: a plain HTML page with the image in an <img>, on a Python server."""
    files = {"/": (STATIC_PAGE.encode(), "text/html"), "/picture.jpg": (picture, "image/jpeg")}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body, kind = files.get(self.path.split("?")[0], (b"", ""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "private, max-age=86400")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- the browser


def chromium() -> Any:
    """Headless Debian Chromium through selenium, with the tests' flags."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for argument in [*CHROMIUM_ARGS, "--window-size=1280,1000"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_IMAGE})
    driver.set_page_load_timeout(60)
    return driver


@dataclass(frozen=True)
class Load:
    seconds: float
    requests: int
    from_network: int
    transferred: int
    decoded: int
    entries: list[list[Any]]


def load_once(driver: Any, url: str, cold: bool) -> Load:
    """Open url (cold: with the HTTP cache cleared) and wait until the image is visible;
    what it took."""
    driver.get("about:blank")
    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(url)
    deadline = time.monotonic() + 60
    visible = None
    while visible is None and time.monotonic() < deadline:
        visible = driver.execute_script("return window.__imageVisible")
        if visible is None:
            time.sleep(0.02)
    if visible is None:
        raise RuntimeError(f"{url}: the image was not visible within 60 s")
    entries = driver.execute_script(RESOURCES)
    return Load(
        seconds=float(visible) / 1e3,
        requests=len(entries),
        from_network=sum(1 for e in entries if e[1] > 0),
        transferred=sum(int(e[1]) for e in entries),
        decoded=sum(int(e[3]) for e in entries),
        entries=entries,
    )


def introduce(driver: Any, url: str) -> None:
    """Type the labeler's name into the first visit's dialog (the app keeps it in the
    browser's local storage, so later visits open straight on the image)."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = driver.find_elements(By.ID, "name-input")
        if found and found[0].is_displayed():
            found[0].send_keys(LABELER)
            driver.find_element(By.ID, "name-save").click()
            while time.monotonic() < deadline:
                if driver.execute_script("return window.__imageVisible") is not None:
                    return
                time.sleep(0.1)
        time.sleep(0.1)
    raise RuntimeError(f"{url}: no name dialog within 60 s")


def interleaved(driver: Any, urls: dict[str, str], runs: int) -> dict[str, dict[str, list[Load]]]:
    """RUNS rounds; in each, every site in turn (the order rotates): a cold load, a second
    visit, then a warm one. Interleaving spreads the machine's other load over all sites
    alike."""
    loads: dict[str, dict[str, list[Load]]] = {name: {kind: [] for kind in KINDS} for name in urls}
    names = list(urls)
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            for kind in KINDS:
                once = functools.partial(load_once, driver, urls[name], kind == "cold")
                load = attempt(f"{name} {kind}", once)
                if load is not None:
                    loads[name][kind].append(load)
    return loads


# ---------------------------------------------------------------- report


def summary(loads: list[Load]) -> dict[str, float]:
    return {
        "seconds": median([load.seconds for load in loads]),
        "requests": median([load.requests for load in loads]),
        "network": median([load.from_network for load in loads]),
        "bytes": median([load.transferred for load in loads]),
        "decoded": median([load.decoded for load in loads]),
    }


def line(name: str, figures: dict[str, float], baseline: dict[str, float] | None) -> str:
    text = (
        f"  {name:<34} {figures['seconds'] * 1e3:8,.0f} ms  {figures['requests']:4.0f} requests"
        f" ({figures['network']:.0f} over the network)  {figures['bytes'] / 1e6:6.2f} MB"
        f" (decoded {figures['decoded'] / 1e6:.2f} MB)"
    )
    if baseline and baseline["seconds"] > 0:
        text += f"  x{figures['seconds'] / baseline['seconds']:.1f} the static page"
    return text


def biggest(load: Load, count: int = 6) -> None:
    """The largest transfers of one cold load, and whether the full plotly.js came."""
    for name, transfer, _, decoded, _ in sorted(load.entries, key=lambda e: -e[1])[:count]:
        short = name.split("//", 1)[-1].split("/", 1)[-1][:80]
        print(f"      {transfer / 1e3:9,.1f} kB over the wire ({decoded / 1e3:,.0f} kB)  /{short}")
    full = [e for e in load.entries if "plotly.min.js" in e[0]]
    print(f"      full plotly.min.js fetched: {'yes' if full else 'no'}")


def verdict(ok: bool) -> str:
    return "[met]   " if ok else "[MISSED]"


def server_cost(url: str) -> None:
    """What each script costs the server: GET with and without compression, twice (the
    second compressed answer may come from a cache)."""
    page = urllib.request.urlopen(url, timeout=30).read().decode()
    scripts = re.findall(r'<script src="(/[^"]+)"', page)
    print("  server time per script bundle, loopback, ms (identity | compressed 1st, 2nd):")
    for path in scripts:
        timings = []
        sizes = []
        for encoding in ("identity", ENCODINGS, ENCODINGS):
            request = urllib.request.Request(url.rstrip("/") + path)
            request.add_header("Accept-Encoding", encoding)
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as answer:
                body = answer.read()
                coding = answer.headers.get("Content-Encoding", "none")
            timings.append((time.perf_counter() - start) * 1e3)
            sizes.append((len(body), coding))
        name = path.rsplit("/", 1)[-1][:44]
        print(
            f"    {name:<44} {timings[0]:6.1f} | {timings[1]:6.1f} {timings[2]:6.1f}"
            f"   {sizes[0][0] / 1e3:8,.1f} kB -> {sizes[1][0] / 1e3:8,.1f} kB ({sizes[1][1]})"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--compare", type=Path, action="append", default=[], help="another checkout (repeatable)"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="concord-first-load-"))
    apps = {"this checkout": ROOT}
    apps.update({f"compare: {other}": other.resolve() for other in args.compare})
    try:
        with ExitStack() as stack:
            paths = write_images(work / "images")
            driver = chromium()
            stack.callback(driver.quit)
            urls = {}
            for number, (name, root) in enumerate(apps.items()):
                urls[name] = stack.enter_context(
                    gunicorn(root, work / "images", work / str(number))
                )
                introduce(driver, urls[name])
            with Image.open(paths[0]) as opened:
                opened.thumbnail((2048, 2048))
                picture = work / "picture.jpg"
                opened.save(picture, quality=85)
            urls[STATIC] = stack.enter_context(static_site(picture.read_bytes()))
            loads = interleaved(driver, urls, args.runs)
            for name in apps:
                print(f"\n== {name} ({apps[name]})")
                attempt(f"{name}: server cost", functools.partial(server_cost, urls[name]))
                if loads[name]["cold"]:
                    print("  biggest transfers of a cold load:")
                    biggest(loads[name]["cold"][0])
        report(loads, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(loads: dict[str, dict[str, list[Load]]], runs: int) -> None:
    """The medians, against the static page, and the issue's targets."""
    results = {
        name: {kind: summary(values) for kind, values in kinds.items() if values}
        for name, kinds in loads.items()
    }
    baseline = results.pop(STATIC)
    print(f"\nFirst load to image visible, median of {runs} (Chromium, loopback):")
    for kind in KINDS:
        print(f" {kind}:")
        if kind in baseline:
            print(line(STATIC, baseline[kind], None))
        for name, result in results.items():
            if kind in result:
                print(line(name, result[kind], baseline.get(kind)))
    ours = results.get("this checkout", {})
    if "cold" in ours and "warm" in ours:
        print()
        cold, warm = ours["cold"]["seconds"], ours["warm"]["seconds"]
        print(f"{verdict(cold < COLD_TARGET)} cold {cold:.2f} s < {COLD_TARGET} s")
        print(f"{verdict(warm < WARM_TARGET)} warm {warm:.2f} s < {WARM_TARGET} s")


if __name__ == "__main__":
    main()
