"""Does a deployment slow down as it holds more projects? Next, export and the agreement
report with one project in the database, then with ten, on PostgreSQL and on SQLite.

Workload, the same in every project: 2,000 tiny JPEGs (320x240, one encoding written many
times; sizes are read from the files' headers) in 2 batches (sub-folders) of a local folder
of its own; on the first 500 images of each batch (1,000 images) three annotators (ann, bob,
cy) each drew 5 boxes (the same 5 objects, +-2 px apart, a label now and then another),
status done: 15,000 shapes and 3,000 statuses a project. The store is filled through
AnnotationStore.replace_images, once per annotator and with that annotator as the actor (the
rows sync_image would write: shapes, statuses, their counts and history events).

For each database (a throwaway PostgreSQL cluster on loopback, started as tests/servers.py
PostgresServer does and stopped by its PID at the end; then a SQLite file):

- the first project ("default") is filled; then the database is copied (PostgreSQL: CREATE
  DATABASE ... TEMPLATE; SQLite: the file): the copy is the one-project database, the
  baseline;
- nine more projects are made with workflows.projects.create_project (each with its own
  image folder below IMAGE_ROOT) and filled the same way: the original database now holds
  ten projects and ten times the rows (PostgreSQL: each project's records in a schema
  project_N of the same database; SQLite: a file annotations.project-N.db beside the main
  one; storage/project_space.py);
- Next: `gunicorn app:server` (1 worker, 4 threads, as bench/navigation.py runs it) on each
  database at once. Three pages press Next in turn, one POST of the `move` callback each
  (bench/navigation.py's DashCallback, built from /_dash-dependencies; the page's project in
  the callback body's project-store State): the first project on the one-project database
  (the baseline), the first project on the ten-project database, and the last new project
  on it. Annotator "ann", in batch-1 from image 440: 10 moves to warm up, then 100 timed
  (about half of them to images with shapes). The turn's order rotates each round, so the
  three share the machine's load alike. Each page's last image is then fetched (the new
  project's from its own folder, ?project=...);
- export (in-process, on services built as the app builds them, with its in-process caches):
  workflows.exchange.export_annotations(services, "coco"), all annotators, one zip; once to
  warm up (image sizes read from headers, then remembered), then 7 times in turn;
- agreement (in-process): workflows.agreement_data.agreement_data(services, 0.5, False, ...),
  what the Agreement tab's job computes (the store read, the report at IoU 0.5 with its
  bootstrap, the ranking saved, intra-rater, models, gold); once to warm up, then 7 times.
  Both also print this process's CPU time (median): on a machine shared with other work, wall
  time above CPU time is time spent waiting for a core.

Each figure: the baseline, then ten projects (first project; a new project), the ratio of
medians to the baseline; target "no slower": ratio <= 1.15 (the noise of a shared
machine). Prints figures and marks each target met or missed; never fails (exit status 0).

Usage: python -m bench.projects      (about 3 minutes on 2 cores)
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask
import numpy as np
from PIL import Image
from sqlalchemy import func, select

import workflows.exchange as exchange
from bench.common import attempt
from bench.navigation import (
    ANNOTATOR_DATA,
    RECORDS,
    Browser,
    get_image,
    image_url,
    load_move,
    moved_to,
    running,
)
from components import ids
from config import Settings, load_settings
from domain.annotation import Annotation, utc_now
from domain.project_marks import MARK
from storage.caches import make_caches
from storage.runtime import Services, build_services
from storage.schema import ANNOTATIONS, STATUSES
from tests.servers import PostgresServer
from workflows.projects import create_project

PROJECTS = 10
FIRST = "default"  # the first project's slug (migration 0011)
NEW = f"project-{PROJECTS}"  # the new project measured
BATCHES = 2
PER_BATCH = 1_000
ANNOTATED = 500  # the first images of each batch have shapes
ANNOTATORS = ("ann", "bob", "cy")
SHAPES = 5  # per annotator and annotated image
WIDTH, HEIGHT = 320, 240
NOISE_PX = 2.0
SWAP_PROBABILITY = 0.05
MOVER = "ann"
START = 440  # Next from this image of batch-1: half the timed moves reach images with shapes
WARM_MOVES = 10
MOVES = 100
RUNS = 7  # export and agreement, after one to warm up
IOU = 0.5
NO_SLOWER = 1.15
TARGETS = ("Next median ms", "export COCO s", "agreement s")  # medians of wall time
SIDES = ("one", "ten-first", "ten-new")
SIDE_NAMES = {
    "one": "one project (baseline)",
    "ten-first": "ten projects, first project",
    "ten-new": f"ten projects, new project ({NEW})",
}

Group = tuple[str, str, list[Annotation]]  # (image key, annotator, shapes)


# ---------------------------------------------------------------- small helpers


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def verdict(ok: bool) -> str:
    return "[met]   " if ok else "[MISSED]"


def load_average() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def rotated(items: Sequence[Any], by: int) -> list[Any]:
    """The items starting at `by` (mod their number): each takes every turn alike."""
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]


def slug_of(number: int) -> str:
    return FIRST if number == 1 else f"project-{number}"


def key_of(batch: int, number: int) -> str:
    return f"batch-{batch}/img-{number:04d}.jpg"


# ---------------------------------------------------------------- the workload


def write_images(image_root: Path) -> int:
    """Every project's folder (below the image root): BATCHES batches of PER_BATCH JPEGs."""
    pixels = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    path = image_root / "encoded.jpg"
    image_root.mkdir(parents=True)
    pixels.save(path, quality=80)
    data = path.read_bytes()
    for number in range(1, PROJECTS + 1):
        for batch in range(1, BATCHES + 1):
            folder = image_root / slug_of(number) / f"batch-{batch}"
            folder.mkdir(parents=True)
            for image in range(PER_BATCH):
                (folder / f"img-{image:04d}.jpg").write_bytes(data)
    return len(data)


def workload(labels: Sequence[str]) -> list[Group]:
    """The shapes of every project: on each annotated image, SHAPES objects side by side,
    drawn by every annotator a little apart, a label now and then another (seed 0)."""
    rng = np.random.default_rng(0)
    column = WIDTH / SHAPES
    now = utc_now()
    groups: list[Group] = []
    for batch in range(1, BATCHES + 1):
        for image in range(ANNOTATED):
            key = key_of(batch, image)
            width = rng.uniform(20.0, column - 8, SHAPES)
            height = rng.uniform(30.0, 120.0, SHAPES)
            x0 = np.arange(SHAPES) * column + rng.uniform(2.0, column - 4 - width)
            y0 = rng.uniform(2.0, HEIGHT - 4 - height)
            truth = rng.integers(0, len(labels), SHAPES)
            for who in ANNOTATORS:
                noise = rng.uniform(-NOISE_PX, NOISE_PX, (SHAPES, 4))
                swapped = rng.random(SHAPES) < SWAP_PROBABILITY
                names = np.where(swapped, (truth + 1) % len(labels), truth)
                records = []
                for index in range(SHAPES):
                    a, b, c, d = noise[index]
                    box = (
                        float(max(0.0, x0[index] + a)),
                        float(max(0.0, y0[index] + b)),
                        float(min(WIDTH, x0[index] + width[index] + c)),
                        float(min(HEIGHT, y0[index] + height[index] + d)),
                    )
                    stamp = now + timedelta(microseconds=index)
                    records.append(
                        Annotation(
                            id=f"{who}-{batch}-{image:04d}-{index}",
                            image_key=key,
                            annotator=who,
                            label=labels[int(names[index])],
                            kind="rect",
                            coords=box,
                            created_at=stamp,
                            updated_at=stamp,
                        )
                    )
                groups.append((key, who, records))
    return groups


def fill(services: Services, groups: Sequence[Group]) -> float:
    """Store the workload in the project, one replace_images per annotator (as the actor);
    its seconds."""
    start = time.perf_counter()
    written = 0
    for who in ANNOTATORS:
        mine = [group for group in groups if group[1] == who]
        written += services.store.replace_images(mine, actor=who).inserted
    expected = sum(len(records) for _, _, records in groups)
    if written != expected:
        raise RuntimeError(
            f"filling {services.project.slug} wrote {written} shapes, not {expected}"
        )
    return time.perf_counter() - start


# ---------------------------------------------------------------- the databases


@dataclass
class Database:
    """One kind of database: its two URLs (the baseline copy and the ten-project one) and
    how to copy the first to the second."""

    name: str
    ten_url: str
    one_url: str
    copy: Callable[[], None]


@dataclass
class Result:
    """What was measured on one kind of database."""

    name: str
    fill_first: float = float("nan")
    copy_seconds: float = float("nan")
    create: list[float] = field(default_factory=list)  # create_project, seconds each
    fills: list[float] = field(default_factory=list)  # the new projects' fills
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug: shapes, statuses
    moves: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    shown: dict[str, int] = field(default_factory=dict)  # timed moves to images with shapes
    exports: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    agreements: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    exports_cpu: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    agreements_cpu: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    notes: list[str] = field(default_factory=list)


def app_env(root: Path, url: str, data: str) -> dict[str, str]:
    """The deployment's environment: the first project's images in IMAGE_ROOT/default."""
    return {
        "DATA_DIR": str(root / data),
        "DATABASE_URL": url,
        "IMAGE_ROOT": str(root / "images"),
        "IMAGE_SOURCE": str(root / "images" / FIRST),
    }


def fresh_services(settings: Settings) -> Services:
    """The first project's services as a freshly started worker has them (the app's caches)."""
    meta, renditions = make_caches(flask.Flask("bench-projects"), settings)
    return build_services(settings, meta, renditions)


def close(services: Services) -> None:
    """Close every pool the services opened (the main database's and each project's)."""
    hub = services.hub
    engines = [services.store.engine]
    if hub is not None:
        engines += [hub.main.engine, *hub._engines.values()]
    for engine in engines:
        engine.dispose()


def counts(services: Services) -> dict[str, tuple[int, int]]:
    """Shapes and statuses stored in each project's space."""
    found = {}
    services.projects.forget_cached()
    for project in services.projects.all():
        engine = services.hub.build(project).store.engine if services.hub else None
        if engine is None:
            continue
        with engine.connect() as conn:
            shapes = conn.execute(select(func.count()).select_from(ANNOTATIONS)).scalar_one()
            statuses = conn.execute(select(func.count()).select_from(STATUSES)).scalar_one()
        found[project.slug] = (int(shapes), int(statuses))
    return found


def set_up(root: Path, db: Database, data: str, groups: Sequence[Group], result: Result) -> None:
    """Fill the first project, copy the database (the baseline), then make and fill the
    nine other projects in the original."""
    settings = load_settings(app_env(root, db.ten_url, data))
    labels = ",".join(label.name for label in settings.labels)
    services = build_services(settings)
    try:
        result.fill_first = fill(services, groups)
        close(services)
        result.copy_seconds = timed(db.copy)[0]
        for number in range(2, PROJECTS + 1):
            slug = slug_of(number)
            form = {"slug": slug, "name": f"Project {number}", "image_source": slug}
            form["labels"] = labels
            seconds, made = timed(functools.partial(create_project, services, form, known=()))
            result.create.append(seconds)
            assert services.hub is not None
            result.fills.append(fill(services.hub.build(made), groups))
        result.counts = counts(services)
    finally:
        close(services)


def postgres(pg: PostgresServer) -> Database:
    ten = pg.create_database("bench_ten")

    def copy() -> None:
        with pg.connect(autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench_one" TEMPLATE "bench_ten"')

    return Database("PostgreSQL", ten, pg.url("bench_one"), copy)


def sqlite(root: Path) -> Database:
    ten, one = root / "sqlite-ten" / "annotations.db", root / "sqlite-one" / "annotations.db"
    ten.parent.mkdir()
    one.parent.mkdir()

    def copy() -> None:  # every pool is closed: nothing is in flight
        for suffix in ("", "-wal", "-shm", ".created"):
            source = ten.with_name(ten.name + suffix)
            if source.exists():
                shutil.copyfile(source, one.with_name(one.name + suffix))

    return Database("SQLite", f"sqlite:///{ten}", f"sqlite:///{one}", copy)


# ---------------------------------------------------------------- measuring


def page(base: str, slug: str) -> Browser:
    """A page of the project `slug`, annotator MOVER, on batch-1's image START."""
    browser = Browser(base, load_move(base))
    browser.values[ANNOTATOR_DATA] = MOVER
    browser.values[f"{ids.PROJECT}.data"] = slug
    key = key_of(1, START)
    browser.place({"batch": "batch-1", "key": key, "index": START, MARK: slug})
    return browser


def navigation(root: Path, db: Database, result: Result) -> None:
    """Both databases served at once; the three pages press Next in turn."""
    one_env = app_env(root, db.one_url, f"app-one-{db.name}")
    ten_env = app_env(root, db.ten_url, f"app-ten-{db.name}")
    with (
        running(one_env, root / f"gunicorn-one-{db.name}.log") as one,
        running(ten_env, root / f"gunicorn-ten-{db.name}.log") as ten,
    ):
        pages = {
            "one": page(one.base, FIRST),
            "ten-first": page(ten.base, FIRST),
            "ten-new": page(ten.base, NEW),
        }
        shown = dict.fromkeys(SIDES, 0)
        last = {}
        for turn in range(WARM_MOVES + MOVES):
            for side in rotated(SIDES, turn):
                called = last[side] = pages[side].next()
                mark = moved_to(called).get(MARK)
                slug = NEW if side == "ten-new" else FIRST
                if mark != slug:
                    raise RuntimeError(f"{side}: the move went to project {mark!r}, not {slug}")
                if turn >= WARM_MOVES:
                    result.moves[side].append(called.seconds)
                    records = called.outputs.get(RECORDS)
                    items = records.get("items") if isinstance(records, dict) else None
                    shown[side] += bool(items)
        result.shown = shown
        for side, called in last.items():  # the image shown last loads, from its project
            url = image_url(pages[side].base, called)
            if (side == "ten-new") != (f"project={NEW}" in url):
                raise RuntimeError(f"{side}: the image is not the project's own: {url}")
            get_image(url)


@contextmanager
def three_services(root: Path, db: Database) -> Iterator[dict[str, Services]]:
    """Services of the baseline's first project, and of the ten-project database's first
    and new project, as fresh workers build them."""
    one = fresh_services(load_settings(app_env(root, db.one_url, f"run-one-{db.name}")))
    ten = fresh_services(load_settings(app_env(root, db.ten_url, f"run-ten-{db.name}")))
    try:
        assert ten.hub is not None
        yield {"one": one, "ten-first": ten, "ten-new": ten.hub.services_for(NEW)}
    finally:
        close(one)
        close(ten)


def in_turn(
    services: dict[str, Services],
    work: Callable[[Services], Any],
    into: dict[str, list[float]],
    cpu: dict[str, list[float]],
) -> dict[str, Any]:
    """work on each side once to warm up, then RUNS times in turn (wall and CPU seconds
    into `into` and `cpu`); the last values."""
    last = {side: work(services[side]) for side in SIDES}
    for run in range(RUNS):
        for side in rotated(SIDES, run):
            used = time.process_time()
            seconds, last[side] = timed(functools.partial(work, services[side]))
            cpu[side].append(time.process_time() - used)
            into[side].append(seconds)
    return last


def export(services: Services) -> exchange.ExportFile:
    return exchange.export_annotations(services, "coco")


def agreement(services: Services) -> Any:
    from workflows.agreement_data import agreement_data

    return agreement_data(services, IOU, False, lambda _done, _what: None)[1]


def in_process(root: Path, db: Database, result: Result) -> None:
    with three_services(root, db) as services:
        exported = in_turn(services, export, result.exports, result.exports_cpu)
        for side, found in exported.items():
            result.notes.append(
                f"export {side}: {found.filename}, {len(found.content):,} bytes, "
                f"{found.images:,} (image, annotator) pairs, {found.shapes:,} shapes"
            )
        reports = in_turn(services, agreement, result.agreements, result.agreements_cpu)
        for side, report in reports.items():
            result.notes.append(
                f"agreement {side}: {report.images:,} images, label alpha "
                f"{report.label_alpha.value:.3f}"
            )


# ---------------------------------------------------------------- report


def ratio_text(ten: float, one: float) -> str:
    return f"{ten / one:.2f}" if one > 0 and ten == ten else "n/a"


def rows_of(r: Result) -> list[tuple[str, dict[str, float], float]]:
    """(figure, value per side, scale for printing) of one database."""
    return [
        ("Next median ms", {s: median(r.moves[s]) for s in SIDES}, 1e3),
        ("Next p95 ms", {s: p95(r.moves[s]) for s in SIDES}, 1e3),
        ("export COCO s", {s: median(r.exports[s]) for s in SIDES}, 1.0),
        ("export COCO CPU s", {s: median(r.exports_cpu[s]) for s in SIDES}, 1.0),
        ("agreement s", {s: median(r.agreements[s]) for s in SIDES}, 1.0),
        ("agreement CPU s", {s: median(r.agreements_cpu[s]) for s in SIDES}, 1.0),
    ]


def print_result(r: Result) -> None:
    print()
    print(f"== {r.name}")
    shapes = sum(c[0] for c in r.counts.values())
    statuses = sum(c[1] for c in r.counts.values())
    print(
        f"  first project filled in {r.fill_first:.1f} s; copied as the one-project baseline "
        f"in {r.copy_seconds:.1f} s"
    )
    if r.create:
        print(
            f"  {len(r.create)} projects made by create_project in {median(r.create):.2f} s each "
            f"(median; slowest {max(r.create):.2f} s), each filled in {median(r.fills):.1f} s"
        )
    print(
        f"  ten-project database: {len(r.counts)} projects, {shapes:,} shapes and "
        f"{statuses:,} statuses; per project: "
        + ", ".join(f"{slug} {c[0]:,}" for slug, c in r.counts.items())
    )
    if any(r.moves.values()):
        print(
            f"  Next: {len(r.moves['one'])} timed moves per page; moves to images with "
            "shapes: " + ", ".join(f"{s} {r.shown.get(s, 0)}" for s in SIDES)
        )
    for note in r.notes:
        print(f"  {note}")
    print()
    print("| figure | one project | ten: first project | ratio | ten: new project | ratio |")
    print("|---|---|---|---|---|---|")
    for figure, values, scale in rows_of(r):
        one, first, new = (values[s] for s in SIDES)
        print(
            f"| {figure} | {one * scale:,.2f} | {first * scale:,.2f} | "
            f"{ratio_text(first, one)} | {new * scale:,.2f} | {ratio_text(new, one)} |"
        )
    spread = {
        "export": r.exports,
        "agreement": r.agreements,
    }
    for what, runs in spread.items():
        print(
            f"  {what} runs (s, in order): "
            + "; ".join(f"{s} " + " ".join(f"{v:.2f}" for v in runs[s]) for s in SIDES)
        )


def targets(results: Sequence[Result]) -> list[str]:
    lines = []
    for r in results:
        for figure, values, _ in rows_of(r):
            if figure not in TARGETS:
                continue  # shown, not a target (the tail and CPU time tell the noise)
            one = values["one"]
            for side in ("ten-first", "ten-new"):
                ten = values[side]
                ok = one > 0 and ten <= NO_SLOWER * one
                lines.append(
                    f"{verdict(ok)} {r.name} {figure.rsplit(' ', 1)[0]}, {SIDE_NAMES[side]}: "
                    f"no slower than one project (ratio {ratio_text(ten, one)}, <= {NO_SLOWER})"
                )
    return lines


# ---------------------------------------------------------------- main


def run(root: Path, db: Database, data: str, groups: Sequence[Group], result: Result) -> None:
    started = time.perf_counter()
    print(f"\n{db.name}: setting up ({load_average()})", flush=True)
    set_up(root, db, data, groups, result)
    print(f"  set up in {time.perf_counter() - started:.0f} s; measuring Next", flush=True)
    attempt(f"{db.name} Next", lambda: navigation(root, db, result))
    print("  measuring export and agreement", flush=True)
    attempt(f"{db.name} export and agreement", lambda: in_process(root, db, result))


def main() -> None:
    start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="concord-bench-projects-"))
    print(
        f"Concord projects benchmark: one project vs ten in one database ({root}); "
        f"{os.cpu_count()} cores; {load_average()}"
    )
    results: list[Result] = []
    pg: PostgresServer | None = None
    try:
        size = write_images(root / "images")
        labels = [label.name for label in load_settings({}).labels]
        groups = workload(labels)
        shapes = sum(len(records) for _, _, records in groups)
        print(
            f"{PROJECTS} image folders of {BATCHES * PER_BATCH:,} JPEGs ({WIDTH}x{HEIGHT}, "
            f"{size:,} bytes) in {BATCHES} batches written in {time.perf_counter() - start:.1f} s;"
            f" per project {shapes:,} shapes on {BATCHES * ANNOTATED:,} images by "
            f"{len(ANNOTATORS)} annotators"
        )
        pg_result = Result("PostgreSQL")
        results.append(pg_result)
        try:
            pg = PostgresServer().start()
            attempt("PostgreSQL", lambda: run(root, postgres(pg), "pg", groups, pg_result))
        except Exception:
            print(f"\nPostgreSQL FAILED:\n{traceback.format_exc()}")
        finally:
            if pg is not None:
                pg.stop()
        sqlite_result = Result("SQLite")
        results.append(sqlite_result)
        attempt("SQLite", lambda: run(root, sqlite(root), "lite", groups, sqlite_result))
        for result in results:
            attempt(f"{result.name} report", functools.partial(print_result, result))
    except Exception:
        print(f"\nset-up FAILED:\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"targets (ratio of medians, ten projects / one project, <= {NO_SLOWER})")
    for line in targets(results):
        print(f"  {line}")
    print(f"\ntotal run time {time.perf_counter() - start:.0f} s; {load_average()}")


if __name__ == "__main__":
    main()
