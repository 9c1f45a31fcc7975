"""What export and import cost at scale: 10,000 images with 100,000 boxes, per format, in one run.

Set-up (in a temporary folder, removed at the end): an image folder of 10,000 small
non-square images (64x48 and 80x60 JPEG, 48x64 and 60x45 PNG; each variant encoded once,
its bytes written many times) in four batches (sub-folders), and a SQLite database filled
with 100,000 rectangles, 10 per image, by annotator "alice" (one `replace_images` call, timed
and printed too). Services are built as the app builds them: `build_services` with the app's
own in-process caches (`storage.caches.make_caches`: flask-caching SimpleCache, 20,000
metadata entries), so image sizes, read from file headers, are cached per process.

For each format of formats.registry.FORMAT_NAMES, in-process:

- export: `export_annotations(services, fmt, annotator="alice")`, first on fresh services
  (a fresh worker: "cold", the 10,000 image sizes are read from their headers), then again
  on the same services ("warm", sizes cached). The time is split, by wrapping functions in
  this process only, into reading the store (`export_rows`), image sizes (`images.info`),
  the rest of `collect_export`, and the codec's `write`.
- import: `import_annotations` of that export for a fresh annotator "bench-<fmt>" (so all
  100,000 rows are written), on fresh services ("first": the source is listed, as in a
  fresh worker; the sizes the cold export read are remembered in the database, so each is
  only checked against its file's fingerprint, a stat), then the same file again on the
  same services ("again": nothing to write). Split into parsing (`read_import_files`),
  listing the source, image sizes, matching, `resolve`, building records and
  `replace_images`. The tidy CSV names the annotator in a column, which wins over the
  import's default, so its export is imported with that column rewritten to "bench-csv".
- each format starts from the same store (alice's 100,000 shapes: the database file is
  copied after filling and put back before each format).
- peak RSS of this process during each step (VmHWM, reset before the step through
  /proc/self/clear_refs; where that is refused, the process's peak so far).

Baseline, in the same run: the bare minimum for the same data with the standard library,
from plain lists: the 100,000 rows written with the csv module and read back with
csv.reader; a COCO-shaped dict (10,000 images, 100,000 boxes with a 4-corner segmentation)
through json.dumps and json.loads; a zip of 10,000 small text members (one YOLO-like line per
box; deflate level 6 as formats/archive.py) written and read back. Import baselines add the
bare write: sqlite3 executemany of the 100,000 rows (9 columns) into a fresh table, one
transaction. Ratios compare: csv formats with the CSV baseline, coco with JSON, the zip
formats (voc, yolo, labelme) with the zip baseline.

Each step also prints its CPU time: on a busy machine, wall time above CPU time is time
spent waiting for a core (the load average is printed at the start and the end).

Prints figures and marks the target (under 10 s each) met or missed; never fails.

Usage: python -m bench.exchange [FORMAT ...]      (all formats: about 4 minutes on 2 cores)
       python -m bench.exchange --profile FORMAT  (cProfile tables of a cold export and a
                                                   first import instead of timings)
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import dataclasses
import functools
import io
import json
import os
import pstats
import re
import resource
import shutil
import sqlite3
import tempfile
import time
import traceback
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import workflows.exchange as exchange
from bench.common import attempt
from config import Settings, load_settings
from domain.annotation import Annotation, utc_now
from formats.registry import FORMAT_NAMES, Codec
from storage.caches import make_caches
from storage.runtime import Services, build_services
from storage.schema import ANNOTATIONS

IMAGES = 10_000
BATCHES = 4
BOXES_PER_IMAGE = 10
ANNOTATOR = "alice"
# (width, height, extension): non-square, both orientations, JPEG and PNG
VARIANTS: tuple[tuple[int, int, str], ...] = (
    (64, 48, "jpg"),
    (48, 64, "png"),
    (80, 60, "jpg"),
    (60, 45, "png"),
)
TARGET_SECONDS = 10.0
BASELINE_RUNS = 3  # the best of
PROFILE_LINES = 25

BASELINE_OF = {"csv": "csv", "csv-normalized": "csv", "coco": "json"}  # others: zip

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Boxes = list[tuple[str, str, Box]]  # (image key, label, box) for every box


# ---------------------------------------------------------------- small helpers


def ratio(ours: float, base: float) -> str:
    if not (ours > 0 and base > 0):
        return "n/a"
    return f"{ours / base:,.1f}x"


def mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def verdict(ok: bool) -> str:
    return "[met]   " if ok else "[MISSED]"


def seconds_text(step: Step | None) -> str:
    return "n/a" if step is None else f"{step.seconds:.2f}"


class Memory:
    """This process's peak resident memory during a step, in MB."""

    def __init__(self) -> None:
        self.resettable = self._reset()

    @staticmethod
    def _reset() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    def reset(self) -> None:
        if self.resettable:
            self._reset()

    @staticmethod
    def peak_mb() -> float:
        try:
            status = Path("/proc/self/status").read_text()
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:
                return int(found.group(1)) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MEMORY = Memory()


# ---------------------------------------------------------------- timing what happens inside


class Probe:
    """Times calls of chosen functions while active, by wrapping them in this process only.

    Totals are inclusive (a wrapped function called by another is counted in both)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._undo: list[Callable[[], None]] = []

    def timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return wrapper

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        own = name in vars(owner)
        original = getattr(owner, name)
        setattr(owner, name, self.timed(label or name, original))
        if own:
            self._undo.append(lambda: setattr(owner, name, original))
        else:  # a method looked up on the class: drop the instance attribute again
            self._undo.append(lambda: delattr(owner, name))

    def wrap_codecs(self) -> None:
        """codec_for as the workflow sees it gives codecs whose write and read are timed."""
        original = exchange.codec_for

        def codec_for(name: str) -> Codec:
            codec = original(name)
            return dataclasses.replace(
                codec,
                write=self.timed("codec write", codec.write),
                read=self.timed("codec read", codec.read),
            )

        exchange.codec_for = codec_for
        self._undo.append(lambda: setattr(exchange, "codec_for", original))

    @contextmanager
    def active(self, services: Services) -> Iterator[Probe]:
        self.wrap_codecs()
        for name in (
            "collect_export",
            "read_import_files",
            "all_keys",
            "match_images",
            "resolve",
            "records_of",
        ):
            self.wrap(exchange, name)
        self.wrap(services.store, "export_rows")
        self.wrap(services.store, "replace_images")
        self.wrap(services.images, "info")
        source = services.images.source
        for name in ("read_head", "read_head_meta", "stat", "list_keys", "path_of", "_inside"):
            if hasattr(source, name):  # path_of and _inside: the local folder source's checks
                self.wrap(source, name)
        try:
            yield self
        finally:
            for undo in reversed(self._undo):
                undo()
            self._undo.clear()

    def get(self, label: str) -> float:
        return self.seconds.get(label, 0.0)


@dataclass
class Step:
    """One measured call: wall time, peak RSS, what was inside, and what it returned."""

    seconds: float
    cpu: float  # this process's CPU time (user + system) during the step
    peak_mb: float
    probe: Probe
    value: Any

    def text(self) -> str:
        return f"{self.seconds:5.2f} s (cpu {self.cpu:.2f})"


def measure(services: Services, work: Callable[[], Any]) -> Step:
    probe = Probe()
    with probe.active(services):
        MEMORY.reset()
        cpu = time.process_time()
        start = time.perf_counter()
        value = work()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        peak = MEMORY.peak_mb()
    return Step(seconds, cpu, peak, probe, value)


def export_breakdown(step: Step) -> str:
    p = step.probe
    collect = p.get("collect_export")
    rows, sizes, write = p.get("export_rows"), p.get("info"), p.get("codec write")
    return (
        f"store read {rows:.2f} s, image sizes {sizes:.2f} s "
        f"({headers_read(p):,} headers read, {p.calls['stat']:,} stats, "
        f"path checks {p.get('path_of'):.2f} s), "
        f"rest of collect {collect - rows - sizes:.2f} s, codec write {write:.2f} s, "
        f"other {step.seconds - collect - write:.2f} s"
    )


def headers_read(p: Any) -> int:
    """Header reads, with or without the metadata that may come along."""
    return int(p.calls["read_head"] + p.calls["read_head_meta"])


def import_breakdown(step: Step) -> str:
    p = step.probe
    parse, listing = p.get("read_import_files"), p.get("all_keys")
    match, sizes = p.get("match_images"), p.get("info")
    resolve, records, write = p.get("resolve"), p.get("records_of"), p.get("replace_images")
    other = step.seconds - parse - match - resolve - records - write
    return (
        f"parse {parse:.2f} s, source listing {listing:.2f} s "
        f"({p.calls['list_keys']} list calls, _inside {p.get('_inside'):.2f} s), "
        f"image sizes {sizes:.2f} s ({headers_read(p):,} headers read, "
        f"path checks {p.get('path_of'):.2f} s), rest of matching "
        f"{match - listing - sizes:.2f} s, resolve {resolve:.2f} s, records {records:.2f} s, "
        f"replace_images {write:.2f} s, other {other:.2f} s"
    )


# ---------------------------------------------------------------- set-up


def image_bytes() -> list[tuple[int, int, str, bytes]]:
    """Each variant encoded once: a gradient, so it is not a trivial solid file."""
    encoded = []
    for width, height, ext in VARIANTS:
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG" if ext == "jpg" else "PNG")
        encoded.append((width, height, ext, buffer.getvalue()))
    return encoded


def key_of(number: int) -> str:
    batch = number * BATCHES // IMAGES + 1
    ext = VARIANTS[number % len(VARIANTS)][2]
    return f"batch-{batch}/img-{number:05d}.{ext}"


def write_images(folder: Path) -> dict[str, tuple[int, int]]:
    """IMAGES files in BATCHES sub-folders; key -> (width, height)."""
    variants = image_bytes()
    sizes: dict[str, tuple[int, int]] = {}
    for batch in range(1, BATCHES + 1):
        (folder / f"batch-{batch}").mkdir(parents=True)
    for number in range(IMAGES):
        width, height, _, data = variants[number % len(variants)]
        key = key_of(number)
        (folder / key).write_bytes(data)
        sizes[key] = (width, height)
    return sizes


def box_of(number: int, index: int) -> Box:
    """A box inside every variant (the smallest is 48x45), different per image."""
    x0 = 1.0 + 3 * index + (number % 5) * 0.5
    y0 = 1.0 + 2 * index + (number % 3) * 0.25
    return (x0, y0, x0 + 10.5 + number % 7, y0 + 8.25 + number % 5)


def boxes(labels: tuple[str, ...]) -> Boxes:
    """(key, label, box) for every box, plain data (the baseline's input too)."""
    return [
        (key_of(number), labels[(number + index) % len(labels)], box_of(number, index))
        for number in range(IMAGES)
        for index in range(BOXES_PER_IMAGE)
    ]


def fill_store(services: Services, plain: Boxes) -> float:
    """Store every box as alice's rectangles in one replace_images call; its seconds."""
    start_time = utc_now()
    grouped: dict[str, list[Annotation]] = {}
    for number, (key, label, coords) in enumerate(plain):
        records = grouped.setdefault(key, [])
        stamp = start_time + timedelta(microseconds=len(records))
        records.append(
            Annotation(
                id=f"{ANNOTATOR}-{number:06d}",
                image_key=key,
                annotator=ANNOTATOR,
                label=label,
                kind="rect",
                coords=coords,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    groups = [(key, ANNOTATOR, records) for key, records in grouped.items()]
    start = time.perf_counter()
    counts = services.store.replace_images(groups)
    seconds = time.perf_counter() - start
    if counts.inserted != len(plain):
        raise RuntimeError(f"filling the store wrote {counts.inserted} rows, not {len(plain)}")
    return seconds


def fresh_services(settings: Settings) -> Services:
    """Services as a freshly started worker has them: the app's caches, nothing cached."""
    meta, renditions = make_caches(flask.Flask("bench-exchange"), settings)
    return build_services(settings, meta, renditions)


def close(services: Services) -> None:
    services.store.engine.dispose()


def stored_shapes(settings: Settings) -> int:
    """Rows in the annotations table (each format's import adds 100,000 of its own)."""
    services = build_services(settings)
    try:
        with services.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ANNOTATIONS)).scalar_one())
    finally:
        close(services)


# ---------------------------------------------------------------- the baseline


@dataclass
class Baseline:
    """Seconds of the bare minimum, per kind: export, parse and (import only) store."""

    export: dict[str, float] = field(default_factory=dict)
    parse: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    store: float = float("nan")

    def import_seconds(self, kind: str) -> float:
        return self.parse[kind] + self.store


def best_of(work: Callable[[], Any]) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(BASELINE_RUNS):
        start = time.perf_counter()
        value = work()
        best = min(best, time.perf_counter() - start)
    return best, value


def baseline_rows(plain: Boxes) -> list[tuple[Any, ...]]:
    return [(key, ANNOTATOR, label, "rect", *coords, "") for key, label, coords in plain]


def csv_baseline(rows: list[tuple[Any, ...]], result: Baseline) -> None:
    def write() -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("image", "annotator", "label", "kind", "x0", "y0", "x1", "y1", "points"))
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")

    result.export["csv"], data = best_of(write)
    result.size["csv"] = len(data)
    result.parse["csv"], _ = best_of(lambda: list(csv.reader(io.StringIO(data.decode()))))


def json_baseline(
    plain: Boxes,
    sizes: dict[str, tuple[int, int]],
    labels: tuple[str, ...],
    result: Baseline,
) -> None:
    image_ids = {key: number for number, key in enumerate(sizes, 1)}
    category = {label: number for number, label in enumerate(labels, 1)}

    def write() -> bytes:
        document = {
            "images": [
                {"id": image_ids[key], "file_name": key, "width": w, "height": h}
                for key, (w, h) in sizes.items()
            ],
            "categories": [{"id": i, "name": name} for name, i in category.items()],
            "annotations": [
                {
                    "id": number,
                    "image_id": image_ids[key],
                    "category_id": category[label],
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "segmentation": [[x0, y0, x1, y0, x1, y1, x0, y1]],
                    "iscrowd": 0,
                }
                for number, (key, label, (x0, y0, x1, y1)) in enumerate(plain, 1)
            ],
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    result.export["json"], data = best_of(write)
    result.size["json"] = len(data)
    result.parse["json"], _ = best_of(lambda: json.loads(data))


def zip_baseline(
    plain: Boxes,
    sizes: dict[str, tuple[int, int]],
    labels: tuple[str, ...],
    result: Baseline,
) -> None:
    category = {label: number for number, label in enumerate(labels)}

    def write() -> bytes:
        lines: dict[str, list[str]] = {}
        for key, label, (x0, y0, x1, y1) in plain:
            w, h = sizes[key]
            lines.setdefault(key, []).append(
                f"{category[label]} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} "
                f"{(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}\n"
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for key, text in lines.items():
                archive.writestr(f"labels/{key.rsplit('.', 1)[0]}.txt", "".join(text))
        return buffer.getvalue()

    def read(data: bytes) -> list[list[list[str]]]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [
                [line.split() for line in archive.read(info).decode().splitlines()]
                for info in archive.infolist()
            ]

    result.export["zip"], data = best_of(write)
    result.size["zip"] = len(data)
    result.parse["zip"], _ = best_of(lambda: read(data))


def store_baseline(rows: list[tuple[Any, ...]], folder: Path, result: Baseline) -> None:
    """sqlite3 executemany of the rows into a fresh table with the same pragmas, one commit."""

    def write(number: int) -> None:
        connection = sqlite3.connect(folder / f"baseline-{number}.db")
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE t (image TEXT, annotator TEXT, label TEXT, kind TEXT, "
                "x0 REAL, y0 REAL, x1 REAL, y1 REAL, points TEXT)"
            )
            with connection:
                connection.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)", rows)
        finally:
            connection.close()

    runs = iter(range(BASELINE_RUNS))
    result.store, _ = best_of(lambda: write(next(runs)))


def run_baseline(
    plain: Boxes,
    sizes: dict[str, tuple[int, int]],
    labels: tuple[str, ...],
    folder: Path,
) -> Baseline:
    folder.mkdir()
    result = Baseline()
    rows = baseline_rows(plain)
    csv_baseline(rows, result)
    json_baseline(plain, sizes, labels, result)
    zip_baseline(plain, sizes, labels, result)
    store_baseline(rows, folder, result)
    return result


def print_baseline(b: Baseline) -> None:
    print()
    print(f"baseline: the bare minimum for the same data, best of {BASELINE_RUNS}")
    described = {
        "csv": "csv.writer of the rows / csv.reader",
        "json": "json.dumps of a COCO-shaped dict / json.loads",
        "zip": f"{IMAGES:,} text members zipped (deflate 6) / unzipped and split",
    }
    for kind, what in described.items():
        print(
            f"  {kind:<4} {what}: write {b.export[kind]:.2f} s ({mb(b.size[kind])}), "
            f"read {b.parse[kind]:.2f} s"
        )
    print(f"  store: sqlite3 executemany of {IMAGES * BOXES_PER_IMAGE:,} rows: {b.store:.2f} s")


# ---------------------------------------------------------------- the formats


@dataclass
class FormatResult:
    name: str
    cold: Step | None = None
    warm: Step | None = None
    size: int = 0
    shapes: int = 0
    first: Step | None = None
    again: Step | None = None

    def export_peak(self) -> float:
        return max((s.peak_mb for s in (self.cold, self.warm) if s), default=float("nan"))

    def import_peak(self) -> float:
        return max((s.peak_mb for s in (self.first, self.again) if s), default=float("nan"))

    def worst(self) -> float:
        steps = (self.cold, self.warm, self.first, self.again)
        return max((s.seconds for s in steps if s), default=float("nan"))


def import_content(name: str, content: bytes, who: str) -> bytes:
    """The export to import for `who`: the tidy CSV names the annotator in a column, which
    wins over the import's default, so that column is rewritten."""
    if name != "csv":
        return content
    return content.replace(f",{ANNOTATOR},".encode(), f",{who},".encode())


def run_export(settings: Settings, result: FormatResult) -> exchange.ExportFile:
    services = fresh_services(settings)
    try:

        def export() -> exchange.ExportFile:
            return exchange.export_annotations(services, result.name, annotator=ANNOTATOR)

        result.cold = measure(services, export)
        result.warm = measure(services, export)
        exported: exchange.ExportFile = result.warm.value
        result.size, result.shapes = len(exported.content), exported.shapes
        print(
            f"  export   cold {result.cold.text()}, warm {result.warm.text()}; "
            f"{exported.filename}: {mb(result.size)}, {exported.images:,} images, "
            f"{exported.shapes:,} shapes; peak RSS {result.export_peak():,.0f} MB"
        )
        print(f"    cold: {export_breakdown(result.cold)}")
        print(f"    warm: {export_breakdown(result.warm)}")
        return exported
    finally:
        close(services)


def run_import(settings: Settings, result: FormatResult, exported: exchange.ExportFile) -> None:
    services = fresh_services(settings)
    who = f"bench-{result.name}"
    data = import_content(result.name, exported.content, who)
    try:

        def upload() -> exchange.ImportReport:
            return exchange.import_annotations(
                services, result.name, exported.filename, data, annotator=who
            )

        result.first = measure(services, upload)
        result.again = measure(services, upload)
        first, again = result.first.value, result.again.value
        print(
            f"  import   first {result.first.text()}: {first.inserted:,} written, "
            f"{first.deleted:,} removed; again {result.again.text()}: "
            f"{again.inserted:,} written; peak RSS {result.import_peak():,.0f} MB"
        )
        print(f"    first: {import_breakdown(result.first)}")
        print(f"    again: {import_breakdown(result.again)}")
        if first.inserted != result.shapes or again.inserted or again.deleted:
            print(f"    note: {first.summary()} | {again.summary()}")
    finally:
        close(services)


def database_files(settings: Settings) -> list[Path]:
    database = Path(make_url(settings.database_url).database or "")
    return [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]


def save_store(settings: Settings) -> None:
    """Keep a copy of the filled database (every engine is closed: nothing is in flight)."""
    for path in database_files(settings):
        if path.exists():
            shutil.copyfile(path, path.with_name(path.name + ".saved"))


def restore_store(settings: Settings) -> None:
    """Put the filled database back, so each format starts from alice's 100,000 shapes."""
    for path in database_files(settings):
        saved = path.with_name(path.name + ".saved")
        path.unlink(missing_ok=True)
        if saved.exists():
            shutil.copyfile(saved, path)


def run_format(settings: Settings, name: str) -> FormatResult:
    """Export (cold, warm), then import that export (first, again); failures are printed."""
    result = FormatResult(name)
    restore_store(settings)
    print(f"\n{name} (the store holds {stored_shapes(settings):,} shapes)")
    exported = attempt(f"{name} export", lambda: run_export(settings, result))
    if exported is not None:
        attempt(f"{name} import", lambda: run_import(settings, result, exported))
    return result


# ---------------------------------------------------------------- report


def print_table(results: list[FormatResult], baseline: Baseline) -> None:
    print()
    print(
        f"{IMAGES:,} images, {IMAGES * BOXES_PER_IMAGE:,} boxes; export cold = fresh worker "
        "(sizes read from headers), warm = sizes cached; import first = fresh worker, "
        "fresh annotator; again = same file, nothing written"
    )
    print()
    print(
        "| format | export s (cold / warm) | bytes | import s (first / again) "
        "| ours/baseline (export / import) | peak RSS MB (export / import) |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        kind = BASELINE_OF.get(r.name, "zip")
        exported = ratio(r.warm.seconds, baseline.export[kind]) if r.warm else "n/a"
        imported = ratio(r.first.seconds, baseline.import_seconds(kind)) if r.first else "n/a"
        print(
            f"| {r.name} "
            f"| {seconds_text(r.cold)} / "
            f"{seconds_text(r.warm)} "
            f"| {r.size:,} "
            f"| {seconds_text(r.first)} / "
            f"{seconds_text(r.again)} "
            f"| {exported} / {imported} ({kind}) "
            f"| {r.export_peak():,.0f} / {r.import_peak():,.0f} |"
        )
    print()
    print(
        "ours/baseline: warm export vs the baseline's write; first import vs the baseline's "
        "read plus its sqlite3 insert"
    )
    if not MEMORY.resettable:
        print("peak RSS: the process's peak so far (VmHWM could not be reset)")
    print(f"target: < {TARGET_SECONDS:.0f} s each")
    for r in results:
        worst = r.worst()
        print(f"  {verdict(worst < TARGET_SECONDS)} {r.name}: slowest step {worst:.2f} s")


# ---------------------------------------------------------------- main


def load_average() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def set_up(root: Path, with_baseline: bool) -> tuple[Settings, Baseline | None]:
    """Settings, the images, the filled store and (if asked) the baseline."""
    settings = load_settings(
        {
            "DATA_DIR": str(root / "data"),
            "IMAGE_SOURCE": str(root / "images"),
            "DATABASE_URL": f"sqlite:///{root / 'a.db'}",
        }
    )
    labels = tuple(label.name for label in settings.labels)
    began = time.perf_counter()
    sizes = write_images(root / "images")
    print(f"{IMAGES:,} images in {BATCHES} batches written in {time.perf_counter() - began:.1f} s")
    plain = boxes(labels)
    services = fresh_services(settings)
    try:
        seconds = fill_store(services, plain)
    finally:
        close(services)
    save_store(settings)
    print(
        f"store filled with {len(plain):,} rectangles of {ANNOTATOR} by replace_images "
        f"in {seconds:.2f} s (SQLite)"
    )
    if not with_baseline:
        return settings, None
    return settings, run_baseline(plain, sizes, labels, root / "baseline")


def profile(settings: Settings, name: str) -> None:
    """cProfile of a cold export and of a first import, each on fresh services."""
    services = fresh_services(settings)
    try:
        exported: exchange.ExportFile = profiled(
            f"{name}: cold export",
            lambda: exchange.export_annotations(services, name, annotator=ANNOTATOR),
        )
    finally:
        close(services)
    who = f"profile-{name}"
    data = import_content(name, exported.content, who)
    services = fresh_services(settings)
    try:
        profiled(
            f"{name}: first import",
            lambda: exchange.import_annotations(
                services, name, exported.filename, data, annotator=who
            ),
        )
    finally:
        close(services)


def profiled(title: str, work: Callable[[], Any]) -> Any:
    """Run work under cProfile; print the functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    value = profiler.runcall(work)
    seconds = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    print(f"\n===== {title}: {seconds:.2f} s under cProfile (inflated by the profiler)")
    print(out.getvalue())
    return value


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.exchange", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "formats",
        nargs="*",
        metavar="FORMAT",
        help=f"formats to measure (default: all of {', '.join(FORMAT_NAMES)})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, print cProfile tables of a cold export and a first import",
    )
    args = parser.parse_args()
    unknown = [name for name in args.formats if name not in FORMAT_NAMES]
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}: choose from {FORMAT_NAMES}")
    return args


def main() -> None:
    args = arguments()
    formats = tuple(args.formats) or FORMAT_NAMES
    start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="concord-bench-exchange-"))
    print(f"Concord export/import benchmark, in-process ({root}); {load_average()}")
    results: list[FormatResult] = []
    try:
        settings, baseline = set_up(root, with_baseline=not args.profile)
        if baseline is None:
            for name in formats:
                attempt(f"{name} profile", functools.partial(profile, settings, name))
        else:
            print_baseline(baseline)
            for name in formats:
                results.append(run_format(settings, name))
            attempt("report", lambda: print_table(results, baseline))
    except Exception:
        print(f"\nset-up FAILED:\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\ntotal run time {time.perf_counter() - start:.0f} s; {load_average()}")


if __name__ == "__main__":
    main()
