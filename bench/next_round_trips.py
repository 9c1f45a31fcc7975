"""What the page asks of the server at load and per Next, measured in Chromium, in one run.

The app (`python app.py`, local folder, SQLite) serves two batches: photos/ (20 JPEGs of
1024x768 and 4 of 4000x3000) and done/ (10,000 tiny JPEGs, every one already marked 'no
objects' by the bench's annotator). Headless Chromium (Playwright over Debian's binary)
opens the page with the annotator's name in local storage and records every POST to
/_dash-update-component: which outputs it asks for and its server time (request sent to
first response byte, on loopback).

- Load: the POSTs from opening the page (warm cache) until it has been quiet for 1.5 s,
  and their outputs; hidden tabs' and panels' callbacks should not be among them.
- Next and Skip: the time from the click to the new image visible (the figure's image has
  the new source and it is decoded), and the POSTs one move makes (until 0.7 s quiet).
- Progress on a finished 10,000-image batch: the server time of the POST that updates the
  progress bar when moving there; and in-process, the progress computation the page used
  to do (every status of the annotator read and filtered, the in-run baseline) against
  the counted one (storage's per-batch counts), median and p95 of 30 runs each.

Prints figures and the ratio against the in-run baseline; never fails (exit status 0).

Usage: python -m bench.next_round_trips      (about 1 minute on 2 cores)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import attempt, print_worker_memory  # noqa: E402

# Measured with this bench on the code before issue 17's change (commit 71b0314), on
# the same 2-core machine: printed beside each figure of the run.
BEFORE = {
    "load_posts": 27,
    "Next_ms": (300.1, 398.0),
    "Next_posts": 14,
    "Skip_ms": (283.9, 403.3),
    "Skip_posts": 14,
    "progress_ms": (98.1, 258.8),
}
WHO = "bench"
FINISHED_BATCH = 10_000
MOVES = 12
QUIET_LOAD = 1.5
QUIET_MOVE = 0.7

# Clicks a button and resolves with the ms until the figure shows a new, decoded image.
CLICK_TO_VISIBLE = """
async (selector) => {
  const now = () => performance.now();
  const href = () => {
    const el = document.querySelector('#graph .imagelayer image');
    return el ? (el.getAttribute('href') || el.getAttribute('xlink:href')) : null;
  };
  const before = href();
  const start = now();
  document.querySelector(selector).click();
  while (true) {
    await new Promise(r => requestAnimationFrame(r));
    const h = href();
    if (h && h !== before) {
      const img = new Image(); img.src = h;
      try { await img.decode(); } catch (e) {}
      return now() - start;
    }
    if (now() - start > 20000) return -1;
  }
}
"""


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "no values"
    return f"median {statistics.median(values):7.1f} ms, p95 {pct(values, 95):7.1f} ms"


def versus(before: tuple[float, float], values: list[float]) -> str:
    """The figures measured before, and how many times faster the run's median is."""
    if not values:
        return f"median {before[0]:.1f} ms, p95 {before[1]:.1f} ms"
    ratio = before[0] / statistics.median(values) if statistics.median(values) else 0.0
    return f"median {before[0]:.1f} ms, p95 {before[1]:.1f} ms ({ratio:.1f}x faster now)"


def make_images(root: Path) -> None:
    """photos/: 20 of 1024x768 and 4 of 4000x3000; done/: 10,000 tiny ones."""
    photos = root / "images" / "photos"
    photos.mkdir(parents=True)
    for n in range(24):
        size = (1024, 768) if n < 20 else (4000, 3000)
        Image.new("RGB", size, (30 + 9 * n, 120, 200 - 5 * n)).save(photos / f"p{n:03d}.jpg")
    done = root / "images" / "done"
    done.mkdir()
    tiny = root / "tiny.jpg"
    Image.new("RGB", (16, 12), (90, 90, 90)).save(tiny)
    data = tiny.read_bytes()
    for n in range(FINISHED_BATCH):
        (done / f"d{n:05d}.jpg").write_bytes(data)


def finish_batch(database_url: str) -> None:
    """Every image of done/ is 'no objects' for the bench's annotator (one transaction)."""
    from storage.annotation_store import AnnotationStore

    store = AnnotationStore.from_url(database_url)
    groups = [(f"done/d{n:05d}.jpg", WHO, []) for n in range(FINISHED_BATCH)]
    store.replace_images(groups)
    store.engine.dispose()


class Recorder:
    """Every Dash callback POST of a page: when it started, its outputs, server time."""

    def __init__(self, page: Any) -> None:
        self.posts: list[dict[str, Any]] = []
        self.last = time.monotonic()
        page.on("request", self._sent)
        page.on("requestfinished", self._finished)

    def _sent(self, request: Any) -> None:
        if "_dash-update-component" not in request.url:
            return
        self.last = time.monotonic()
        try:
            output = json.loads(request.post_data or "{}").get("output", "?")
        except ValueError:
            output = "?"
        self.posts.append({"output": output, "request": request, "server_ms": None})

    def _finished(self, request: Any) -> None:
        if "_dash-update-component" not in request.url:
            return
        self.last = time.monotonic()
        for post in self.posts:
            if post["request"] is request:
                timing = request.timing
                post["server_ms"] = timing["responseStart"] - timing["requestStart"]

    def mark(self) -> int:
        return len(self.posts)

    def settle(self, page: Any, quiet: float) -> None:
        """Wait until no callback POST started or finished for `quiet` seconds."""
        while time.monotonic() - self.last < quiet:
            page.wait_for_timeout(100)


def open_at(page: Any, url: str, batch: str, key: str) -> None:
    """Open the page as the bench's annotator, on an image of a batch: the local storage is
    written on another page of the site first, so the app reads it as it starts."""
    page.goto(url.rstrip("/") + "/healthz")
    page.evaluate(
        "([who, position]) => { localStorage.setItem('annotator-store', JSON.stringify(who));"
        " localStorage.setItem('position-store', JSON.stringify(position)); }",
        [WHO, {"batch": batch, "key": key, "index": 0}],
    )
    page.goto(url)


def wait_image(page: Any, contains: str) -> None:
    page.wait_for_function(
        "(part) => { const el = document.querySelector('#graph .imagelayer image');"
        " const t = document.querySelector('#position-text');"
        " return !!el && !!t && t.textContent.includes(part); }",
        arg=contains,
        timeout=30_000,
    )


def browser_part(url: str) -> dict[str, Any]:
    """Load, Next, Skip, and moving in the finished batch, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    figures: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        recorder = Recorder(page)
        open_at(page, url, "photos", "photos/p000.jpg")
        recorder.settle(page, QUIET_LOAD)
        start = recorder.mark()
        page.reload()
        wait_image(page, "p000")
        recorder.settle(page, QUIET_LOAD)
        load = recorder.posts[start:]
        figures["load_posts"] = len(load)
        print(
            f"\nLoad (warm cache): {len(load)} callback POSTs "
            f"(before issue 17: {BEFORE['load_posts']})"
        )
        for post in load:
            print(f"  {post['server_ms'] or 0:7.1f} ms  {post['output'][:110]}")
        for name, selector in (("Next", "#next"), ("Skip", "#skip")):
            times, counts, outputs = [], [], []
            for _ in range(MOVES):
                mark = recorder.mark()
                elapsed = page.evaluate(CLICK_TO_VISIBLE, selector)
                recorder.settle(page, QUIET_MOVE)
                if elapsed >= 0:
                    times.append(elapsed)
                moved = recorder.posts[mark:]
                counts.append(len(moved))
                outputs = [p["output"] for p in moved]
            figures[f"{name}_ms"] = times
            figures[f"{name}_posts"] = counts
            print(
                f"\n{name} to image visible: {summary(times)}; callback POSTs per move: "
                f"{statistics.median(counts):.0f} (max {max(counts)})"
            )
            print(
                f"  before issue 17: {versus(BEFORE[f'{name}_ms'], times)}, "
                f"{BEFORE[f'{name}_posts']} POSTs per move"
            )
            for output in outputs:
                print(f"  {output[:110]}")
        # the finished batch: the POSTs that update the progress bar, and their server time
        open_at(page, url, "done", "done/d00000.jpg")
        page.reload()
        wait_image(page, "d00000")
        recorder.settle(page, QUIET_MOVE)
        progress_ms = []
        for _ in range(MOVES):
            mark = recorder.mark()
            page.evaluate(CLICK_TO_VISIBLE, "#next")
            recorder.settle(page, QUIET_MOVE)
            progress_ms += [
                p["server_ms"]
                for p in recorder.posts[mark:]
                if "progress.children" in p["output"] and p["server_ms"] is not None
            ]
        figures["progress_ms"] = progress_ms
        print(
            f"\nPOSTs updating the progress bar, finished {FINISHED_BATCH:,}-image batch, "
            f"server time: {summary(progress_ms)} ({len(progress_ms)} POSTs in {MOVES} Nexts)"
        )
        print(f"  before issue 17: {versus(BEFORE['progress_ms'], progress_ms)}")
        print(f"browser console errors: {len(errors)} {errors[:3]}")
        context.close()
        browser.close()
    return figures


def in_process_progress(data_dir: Path, images: Path, database_url: str) -> None:
    """The scan the page used to do per move (baseline) against the counted progress."""
    sys.path.insert(0, str(ROOT / "tests"))
    from config import load_settings
    from domain.status import progress_of
    from storage.images import in_batch
    from storage.runtime import build_services
    from tests.unit.callback_support import DictCache

    settings = load_settings(
        {"DATA_DIR": str(data_dir), "IMAGE_SOURCE": str(images), "DATABASE_URL": database_url}
    )
    services = build_services(settings, DictCache(), DictCache())
    total, _ = services.images.catalog.extend("done", 1000)

    def scan() -> object:
        statuses = services.store.statuses_for(WHO)
        return progress_of(total, [s for k, s in statuses.items() if in_batch(k, "done")])

    counted = getattr(services.store, "progress_counts", None)
    runs: dict[str, list[float]] = {"scan (baseline)": []}
    if counted is not None:
        runs["counted"] = []
    for _ in range(30):
        for name in runs:
            began = time.perf_counter()
            if name == "counted":
                counted(WHO, "done")  # type: ignore[misc]
            else:
                scan()
            runs[name].append((time.perf_counter() - began) * 1000)
    print(f"\nIn-process progress of a finished {FINISHED_BATCH:,}-image batch:")
    base = statistics.median(runs["scan (baseline)"])
    for name, values in runs.items():
        ratio = base / statistics.median(values) if statistics.median(values) else 0
        print(f"  {name:16s} {summary(values)}  ({ratio:.1f}x the baseline's speed)")
    if counted is None:
        print("  (no per-batch counts in this store: the scan is all there is)")


def main() -> None:
    from tests.servers import AppServer

    with tempfile.TemporaryDirectory(prefix="concord-next-") as tmp:
        root = Path(tmp)
        print(f"Writing {FINISHED_BATCH:,} tiny JPEGs and 24 photos...")
        make_images(root)
        data_dir = root / "data"
        data_dir.mkdir()
        database_url = f"sqlite:///{data_dir / 'annotations.db'}"
        finish_batch(database_url)
        env = {"IMAGE_SOURCE": str(root / "images"), "DATABASE_URL": database_url}
        server = AppServer(data_dir, env=env).start()
        try:
            attempt("browser", lambda: browser_part(server.url))
        finally:
            if server.process is not None:
                print_worker_memory(server.process.pid, "python app.py")
            server.stop()
        attempt(
            "in-process progress",
            lambda: in_process_progress(data_dir, root / "images", database_url),
        )


if __name__ == "__main__":
    main()
