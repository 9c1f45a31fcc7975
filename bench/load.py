"""Load: simulated annotators against gunicorn (4 workers) on a real PostgreSQL, signed in.

Each annotator signs in, then for the run's length repeatedly draws a rectangle, moves or
relabels one of their shapes, and now and then pages to the next image, with a human-like
pause between actions. Every action is the callback request the browser would send
(built from the app's own /_dash-dependencies). The benchmark prints p50/p95 latency per
callback and the errors, then checks that every change the app acknowledged is in the
database exactly as acknowledged (no lost writes).

In-run baseline: `/healthz` (a route that does nothing) requested by the same clients at
the same pace, so the ratio shows what the callbacks cost above the bare HTTP round trip
on this machine.

    python -m bench.load [--annotators 50] [--seconds 60] [--workers 4]

Loopback only; servers it starts are stopped by their PIDs. It never fails on a timing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from werkzeug.security import generate_password_hash

from bench.common import attempt
from components.figure import shapes_of
from domain.annotation import Annotation
from domain.labels import parse_labels
from domain.records_state import state_from_data
from storage.annotation_store import AnnotationStore
from tests.dash_requests import DashClient
from tests.servers import AppServer, PostgresServer

LABELS = "person,animal,vehicle"
IMAGES = 200
PASSWORD = "load-test-password"


@dataclass
class Tally:
    """Latencies (ms) per action, errors, and what the app acknowledged per (image, who)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    acknowledged: dict[tuple[str, str], tuple[Annotation, ...]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, what: str, send: Any) -> Any:
        started = time.perf_counter()
        response = send()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[what].append(elapsed)
            if response.status_code not in (200, 204):
                self.errors.append(f"{what}: HTTP {response.status_code} {response.text[:120]}")
        return response


class Annotator:
    """One simulated person: a signed-in session and the page state the browser keeps."""

    def __init__(self, name: str, base_url: str, specs: list[dict[str, Any]], tally: Tally):
        self.name = name
        self.client = DashClient(base_url)
        self.specs = specs
        self.tally = tally
        self.tab = os.urandom(8).hex()
        self.position: dict[str, Any] | None = None
        self.image: dict[str, Any] | None = None
        self.records: dict[str, Any] | None = None
        self.labels = parse_labels(LABELS)
        self.rng = random.Random(name)

    def spec(self, first_input: str, output: str) -> dict[str, Any]:
        return self.client.spec(first_input, output, self.specs)

    def call(
        self,
        what: str,
        first: str,
        output: str,
        values: dict[str, Any],
        changed: str | None = None,
        initial: bool = False,
    ) -> dict[str, Any]:
        spec = self.spec(first, output)
        response = self.tally.timed(what, lambda: self.client.call(spec, values, changed, initial))
        if response.status_code != 200:
            return {}
        return response.json().get("response", {})

    def sign_in(self) -> None:
        response = self.client.sign_in(self.name, PASSWORD)
        if response.status_code != 302:
            self.tally.errors.append(f"sign in {self.name}: HTTP {response.status_code}")

    def open_page(self, move: str | None = None) -> None:
        """Load (or page), then the image and its records, as the page's callbacks chain."""
        values = {"position-store.data": self.position, "annotator-store.data": self.name}
        if move:
            values[f"{move}.n_clicks"] = 1
        moved = self.call(
            move or "load",
            "prev.n_clicks",
            "position-store.data",
            values,
            f"{move}.n_clicks" if move else None,
            initial=move is None,
        )
        self.position = moved.get("position-store", {}).get("data", self.position)
        shown = self.call(
            "show image",
            "position-store.data",
            "image-store.data",
            {"position-store.data": self.position},
        )
        self.image = shown.get("image-store", {}).get("data", self.image)
        loaded = self.call(
            "load records",
            "image-store.data",
            "records-store.data",
            {
                "image-store.data": self.image,
                "annotator-store.data": self.name,
                "records-store.data": self.records,
                "tab-id-store.data": self.tab,
            },
        )
        self.records = loaded.get("records-store", {}).get("data", self.records)

    def _shapes(self) -> list[dict[str, Any]]:
        return shapes_of(state_from_data(self.records).records, self.labels, set())

    def _relayout(self, what: str, relayout: dict[str, Any]) -> None:
        answer = self.call(
            what,
            "graph.relayoutData",
            "records-store.data",
            {
                "graph.relayoutData": relayout,
                "records-store.data": self.records,
                "image-store.data": self.image,
                "annotator-store.data": self.name,
                "label-store.data": self.rng.choice(self.labels).name,
                "tab-id-store.data": self.tab,
            },
        )
        data = answer.get("records-store", {}).get("data")
        if not data:
            return
        self.records = data
        state = state_from_data(data)
        if not state.unsaved and state.image_key:
            with self.tally.lock:
                self.tally.acknowledged[(state.image_key, self.name)] = state.records

    def draw(self) -> None:
        width, height = self.image["width"], self.image["height"]
        x0, y0 = self.rng.uniform(0, width * 0.6), self.rng.uniform(0, height * 0.6)
        new = {
            "type": "rect",
            "x0": x0,
            "y0": y0,
            "x1": x0 + width * 0.3,
            "y1": y0 + height * 0.3,
        }
        self._relayout("draw", {"shapes": [*self._shapes(), new]})

    def move(self) -> None:
        records = state_from_data(self.records).records
        if not records:
            return self.draw()
        index = self.rng.randrange(len(records))
        x0, y0, x1, y1 = records[index].coords
        dx = self.rng.uniform(-5, 5)
        self._relayout(
            "move",
            {
                f"shapes[{index}].x0": max(0.0, x0 + dx),
                f"shapes[{index}].y0": y0,
                f"shapes[{index}].x1": max(1.0, x1 + dx),
                f"shapes[{index}].y1": y1,
            },
        )
        return None

    def run(self, until: float, healthz: str) -> None:
        self.sign_in()
        self.open_page()
        while time.monotonic() < until:
            time.sleep(self.rng.uniform(0.5, 1.5))  # a person's pace
            roll = self.rng.random()
            try:
                if not self.image or self.image.get("error"):
                    self.open_page("next")
                elif roll < 0.4:
                    self.draw()
                elif roll < 0.75:
                    self.move()
                elif roll < 0.85:
                    self.tally.timed("healthz (baseline)", lambda: self.client.session.get(healthz))
                else:
                    self.open_page("next")
            except Exception as exc:  # a broken answer counts as an error, the run goes on
                with self.tally.lock:
                    self.tally.errors.append(f"{self.name}: {type(exc).__name__}: {exc}")


def write_images(folder: Path) -> None:
    folder.mkdir(parents=True)
    rng = random.Random(7)
    for n in range(IMAGES):
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        Image.new("RGB", (800, 600), colour).save(folder / f"img{n:04}.jpg", quality=80)


def lost_writes(database_url: str, tally: Tally) -> list[str]:
    """Acknowledged states that the database does not hold exactly."""
    store = AnnotationStore.from_url(database_url)
    lost = []
    try:
        for (key, who), records in sorted(tally.acknowledged.items()):
            stored = tuple(store.annotations_for(key, who))
            want = {(r.id, r.label, r.coords) for r in records}
            have = {(r.id, r.label, r.coords) for r in stored}
            if want != have:
                lost.append(f"{who} on {key}: acknowledged {len(want)}, stored {len(have)}")
    finally:
        store.engine.dispose()
    return lost


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(tally: Tally, seconds: float, lost: list[str]) -> None:
    print(f"\n{'callback':<20} {'calls':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    callbacks: list[float] = []
    for what, values in sorted(tally.latencies.items()):
        if what != "healthz (baseline)":
            callbacks.extend(values)
        print(
            f"{what:<20} {len(values):>7} {statistics.median(values):>8.1f} "
            f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
        )
    base = tally.latencies.get("healthz (baseline)", [])
    p95 = percentile(callbacks, 0.95)
    print(
        f"{'all callbacks':<20} {len(callbacks):>7} {statistics.median(callbacks):>8.1f} "
        f"{p95:>8.1f} {max(callbacks):>8.1f}"
    )
    rate = len(callbacks) / seconds
    print(
        f"\n{rate:.0f} callbacks/s; errors: {len(tally.errors)}; lost writes: {len(lost)} "
        f"of {len(tally.acknowledged)} acknowledged (image, annotator) states"
    )
    if base:
        print(f"p95 callback / p95 healthz (baseline): {p95 / percentile(base, 0.95):.1f}x")
    print(f"target p95 < 200 ms: {'met' if p95 < 200 else 'MISSED'}")
    for line in (tally.errors + lost)[:10]:
        print("  ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="concord-load-"))
    write_images(root / "images")
    names = [f"annotator{n:02}" for n in range(args.annotators)]
    password_hash = generate_password_hash(PASSWORD)  # one hash, shared: sign-in cost stays
    users = ",".join(f"{n}:annotator:{password_hash}" for n in names)
    postgres = PostgresServer().start()
    server = None
    try:
        database_url = postgres.create_database("load")
        env = {
            "IMAGE_SOURCE": str(root / "images"),
            "DATABASE_URL": database_url,
            "LABELS": LABELS,
            "USERS": users,
            "SECRET_KEY": os.urandom(16).hex(),
        }
        command = [
            "-m",
            "gunicorn",
            "app:server",
            "-w",
            str(args.workers),
            "--threads",
            "4",
            "-b",
            "127.0.0.1:{port}",
        ]
        server = AppServer(root / "data", env=env, command=command).start()
        print(
            f"{args.annotators} annotators, {args.seconds:.0f} s, gunicorn {args.workers} "
            f"workers x 4 threads, PostgreSQL, {IMAGES} images, sign-in on"
        )
        first = DashClient(server.url)
        first.sign_in(names[0], PASSWORD)
        specs = first.dependencies()
        tally = Tally()
        until = time.monotonic() + args.seconds
        people = [Annotator(n, server.url, specs, tally) for n in names]
        threads = [
            threading.Thread(target=p.run, args=(until, server.url + "healthz")) for p in people
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        lost = lost_writes(database_url, tally)
        report(tally, elapsed, lost)
    finally:
        if server is not None:
            server.stop()
        postgres.stop()


if __name__ == "__main__":
    attempt("load benchmark", main)
