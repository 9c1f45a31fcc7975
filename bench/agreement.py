"""What the agreement report costs: 1,000 to 10,000 images x 3 annotators x about 10 boxes.

Data, simulated in-process (numpy Generator, seed 0, the same recipe at every size): images of
640 x 480 px, each with 10 true boxes 30-120 px wide and tall, placed so that no two overlap
with IoU > 0.3 (40 candidates are drawn and kept in order while they fit; 10 fit on every
image of this seed). Three annotators finish every image; each draws every true box
with probability 0.97, with independent uniform noise of +-3 px on every edge, gives it
another label (one of 5) with probability 0.05, and adds one box of their own that is not there
with probability 0.3 per image: about 10 shapes per annotator and image, 300,000 rectangles at
10,000 images. The records are analysis.work.Work built directly (work_of), as the app builds
it from the store, so no database is involved.

Each size runs in a fresh process (this module with --size N), so that the sizes do not share
caches or memory. There it measures:

- the report: analysis.report.agreement_report(work, iou_threshold=0.5, resamples=200),
  wall and CPU seconds, once;
- peak RSS: VmHWM of the process during the report, reset through /proc/self/clear_refs just
  before it (where refused: the process's peak so far), next to the RSS just before it
  (interpreter, libraries and the data: the Work the report reads);
- the baseline, in the same process: the bare minimum of the same data with numpy only, the
  IoU matrix of every two annotators' boxes on every image (arrays built from the records'
  coords, no matching, no statistics); the best of 3;
- at the smallest size, the check: the same report assembled from the per-image functions that
  define the method (analysis.units, .consensus, .bias, .pairwise and the helpers of
  analysis.report: the report as computed before analysis.batch), its time, and whether the
  two reports are the same bit for bit (every field, per-object lists too; nan equals nan).

For the largest size, the report runs a second time with its steps timed (the functions of
analysis.batch and analysis.report it calls, wrapped in that process only; each step's own
time, nested steps taken out): the flat table of shapes, IoU and matching of every two
annotators, units (everyone's and the three leave-one-out clusterings), the leave-one-out
consensus, the bias against it, label data and alpha, the bootstrap intervals, presence alpha
and the pairwise agreement.

Growth: the time of each size over the previous size's, next to the ratio of images, and the
exponent log(t2 / t1) / log(n2 / n1) (1.0: linear). Prints figures and marks the target
(under 10 s and under 1 GB at 10,000 images) met or missed; never fails.

Usage: python -m bench.agreement               (all sizes: about half a minute on 2 cores)
       python -m bench.agreement --profile N   (cProfile tables of the report at N images)
       python -m bench.agreement --size N [--pieces] [--check]
                                               (one size in this process; the last line printed
                                                is JSON, read by the full run)
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import math
import os
import pstats
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

import analysis.batch as batch
import analysis.report as report
from analysis.bias import annotator_bias
from analysis.pairwise import pairwise_agreement
from analysis.work import Work, work_of
from bench.common import attempt
from domain.annotation import Annotation

SIZES = (1_000, 2_000, 5_000, 10_000)
WIDTH, HEIGHT = 640, 480
BOXES_PER_IMAGE = 10
CANDIDATES = 40  # true boxes drawn per image, kept in order while they fit
MAX_TRUE_IOU = 0.3
LABELS = ("bike", "car", "person", "sign", "tree")
ANNOTATORS = ("ann", "bob", "cy")
DRAW_PROBABILITY = 0.97
NOISE_PX = 3.0
SWAP_PROBABILITY = 0.05
EXTRA_PROBABILITY = 0.3
IOU_THRESHOLD = 0.5
RESAMPLES = 200
BASELINE_RUNS = 3  # the best of
TARGET_SECONDS = 10.0
TARGET_MB = 1024.0
PROFILE_LINES = 30
CHUNK = 1_000  # images simulated at once (bounds the candidates' IoU arrays)
ROOT = Path(__file__).resolve().parent.parent
STAMP = datetime(2024, 1, 1, tzinfo=UTC)

# the steps of agreement_report timed for the largest size: (label, functions), each function
# "module.name" in analysis; units_of's first call clusters everyone, the others leave one out
PIECES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("flat table of the shapes (table_of)", ("batch.table_of",)),
    ("IoU and matching of every two annotators (pair_matchings)", ("batch.pair_matchings",)),
    ("units of everyone (units_of, 1st call)", ("batch.units_of#1",)),
    ("leave-one-out units (units_of, 3 calls)", ("batch.units_of#2+",)),
    ("leave-one-out consensus (consensus_of)", ("batch.consensus_of",)),
    ("bias against it (annotator_bias)", ("batch.annotator_bias",)),
    ("label reliability data (label_data)", ("batch.label_data",)),
    ("label alpha, everyone and leave-one-out (alpha)", ("batch.alpha",)),
    (
        "bootstrap terms and intervals (alpha_terms, _interval)",
        ("batch.alpha_terms", "report._interval"),
    ),
    ("presence alpha with its interval (_estimate)", ("report._estimate",)),
    ("pairwise agreement (pairwise_agreement)", ("batch.pairwise_agreement",)),
)
MODULES = {"batch": batch, "report": report}


# ---------------------------------------------------------------- the data


def true_boxes(rng: np.random.Generator, images: int) -> list[np.ndarray]:
    """Per image, up to BOXES_PER_IMAGE boxes (n, 4) no two of which overlap above the cap."""
    found: list[np.ndarray] = []
    for start in range(0, images, CHUNK):
        count = min(CHUNK, images - start)
        size = rng.uniform(30.0, 120.0, (count, CANDIDATES, 2))
        x = rng.uniform(0.0, 1.0, (count, CANDIDATES)) * (WIDTH - size[..., 0])
        y = rng.uniform(0.0, 1.0, (count, CANDIDATES)) * (HEIGHT - size[..., 1])
        boxes = np.stack([x, y, x + size[..., 0], y + size[..., 1]], axis=-1)
        overlap = candidates_iou(boxes) > MAX_TRUE_IOU
        kept = np.zeros((count, CANDIDATES), dtype=bool)
        for k in range(CANDIDATES):  # in order: a candidate stays if it fits the ones kept
            clash = (overlap[:, k, :k] & kept[:, :k]).any(axis=1)
            kept[:, k] = ~clash & (kept[:, :k].sum(axis=1) < BOXES_PER_IMAGE)
        found.extend(boxes[i][kept[i]] for i in range(count))
    return found


def candidates_iou(boxes: np.ndarray) -> np.ndarray:
    """IoU of every two candidates of each image: (images, k, 4) -> (images, k, k)."""
    a, b = boxes[:, :, None, :], boxes[:, None, :, :]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return inter / (area[:, :, None] + area[:, None, :] - inter)


def simulate(images: int, seed: int = 0) -> tuple[Work, int]:
    """The Work of ANNOTATORS on `images` simulated images, and its number of shapes."""
    rng = np.random.default_rng(seed)
    records: list[Annotation] = []
    statuses: dict[tuple[str, str], str] = {}
    for number, boxes in enumerate(true_boxes(rng, images)):
        key = f"sim/{number:05d}.jpg"
        truth = rng.integers(0, len(LABELS), len(boxes))
        for who in ANNOTATORS:
            statuses[(key, who)] = "done"
            drawn = rng.random(len(boxes)) < DRAW_PROBABILITY
            noisy = boxes + rng.uniform(-NOISE_PX, NOISE_PX, boxes.shape)
            swapped = rng.random(len(boxes)) < SWAP_PROBABILITY
            shift = rng.integers(1, len(LABELS), len(boxes))  # never 0: another label
            labels = np.where(swapped, (truth + shift) % len(LABELS), truth)
            coords = noisy[drawn].tolist()
            names = [LABELS[code] for code in labels[drawn].tolist()]
            if rng.random() < EXTRA_PROBABILITY:
                w, h = rng.uniform(20.0, 80.0, 2)
                x, y = rng.uniform(0.0, WIDTH - w), rng.uniform(0.0, HEIGHT - h)
                coords.append([x, y, x + w, y + h])
                names.append(LABELS[int(rng.integers(0, len(LABELS)))])
            for box, label in zip(coords, names):
                records.append(
                    Annotation(
                        id=f"s{len(records)}",
                        image_key=key,
                        annotator=who,
                        label=label,
                        kind="rect",
                        coords=tuple(box),
                        created_at=STAMP,
                        updated_at=STAMP,
                    )
                )
    return work_of(records, statuses), len(records)


# ---------------------------------------------------------------- the baseline


def baseline(work: Work) -> int:
    """The IoU matrix of every two annotators' boxes on every image, numpy only; pairs done."""
    pairs = 0
    for done in work.by_image.values():
        boxes = {
            who: np.array([shape.coords for shape in shapes], dtype=float).reshape(-1, 4)
            for who, shapes in done.items()
        }
        for first, second in combinations(sorted(boxes), 2):
            a, b = boxes[first][:, None, :], boxes[second][None, :, :]
            width = np.maximum(
                0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
            )
            height = np.maximum(
                0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
            )
            inter = width * height
            union = (
                (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
                + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
                - inter
            )
            iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            pairs += iou.size
    return pairs


# ---------------------------------------------------------------- measuring


class Memory:
    """This process's peak resident memory, in MB (VmHWM, resettable through clear_refs)."""

    def __init__(self) -> None:
        self.resettable = self.reset()

    @staticmethod
    def reset() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    @staticmethod
    def status_mb(field: str) -> float:
        try:
            found = re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())
            if found:
                return int(found.group(1)) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def peak_mb(self) -> float:
        return self.status_mb("VmHWM")

    def current_mb(self) -> float:
        return self.status_mb("VmRSS")


class Probe:
    """Own time of chosen functions of analysis while active (nested ones taken out)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self._inner: list[float] = []  # per open call, the time of the calls nested in it

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            label = name
            if name == "batch.units_of":
                label += "#1" if self.calls[name] == 1 else "#2+"
            self._inner.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self.seconds[label] += spent - self._inner.pop()
                if self._inner:
                    self._inner[-1] += spent

        return wrapper

    @contextmanager
    def active(self) -> Iterator[Probe]:
        names = {name.split("#")[0] for _, functions in PIECES for name in functions}
        originals = {
            name: getattr(MODULES[name.split(".")[0]], name.split(".")[1]) for name in names
        }
        for name, function in originals.items():
            module, attribute = name.split(".")
            setattr(MODULES[module], attribute, self.timed(name, function))
        try:
            yield self
        finally:
            for name, function in originals.items():
                module, attribute = name.split(".")
                setattr(MODULES[module], attribute, function)


def run_report(work: Work) -> report.AgreementReport:
    return report.agreement_report(work, iou_threshold=IOU_THRESHOLD, resamples=RESAMPLES)


def measure_size(images: int, pieces: bool, check: bool) -> dict[str, Any]:
    """Everything measured for one size, in this process (see the module doc)."""
    memory = Memory()
    start = time.perf_counter()
    work, shapes = simulate(images)
    built = time.perf_counter() - start
    base = min(timed(lambda: baseline(work))[0] for _ in range(BASELINE_RUNS))
    data_mb = memory.current_mb()
    memory.reset()
    cpu = time.process_time()
    seconds, found = timed(lambda: run_report(work))
    cpu = time.process_time() - cpu
    result: dict[str, Any] = {
        "images": images,
        "shapes": shapes,
        "build_seconds": built,
        "seconds": seconds,
        "cpu": cpu,
        "data_mb": data_mb,
        "peak_mb": memory.peak_mb(),
        "resettable": memory.resettable,
        "baseline_seconds": base,
        "label_alpha": report.json_number(found.label_alpha.value),
        "mean_f1": float(np.mean([pair.f1 for pair in found.pairwise])),
    }
    if pieces:
        attempt("steps", lambda: result.update(timed_steps(work)))
    if check:
        attempt("check", lambda: result.update(checked(work, found)))
    return result


def checked(work: Work, found: report.AgreementReport) -> dict[str, Any]:
    """The per-image report's time, and how it differs from found (nothing, bit for bit)."""
    seconds, expected = timed(lambda: per_image_report(work))
    return {"per_image_seconds": seconds, "differences": differences(expected, found)}


def per_image_report(work: Work) -> report.AgreementReport:
    """The report assembled from the per-image functions that define the method, as
    agreement_report computed it before analysis.batch."""
    columns = report.label_columns(work, report.units_of(work, IOU_THRESHOLD))
    overall = report.alpha_of_columns(columns)
    per_annotator = []
    for annotator in work.annotators:
        others = work.without(annotator)
        units = report.units_of(others, IOU_THRESHOLD)
        effect = overall - report.alpha_of_columns(report.label_columns(others, units))
        agreed = report.consensus_from_units(others, units)
        per_annotator.append(annotator_bias(work, annotator, IOU_THRESHOLD, effect, agreed))
    return report.AgreementReport(
        iou_threshold=IOU_THRESHOLD,
        images=len(work.shared_images(2)),
        annotators=work.annotators,
        label_alpha=report.label_alpha(work, IOU_THRESHOLD, RESAMPLES),
        presence_alpha=report.presence_alpha(work, RESAMPLES),
        presence_kappa=report.presence_kappa(work),
        presence_kappa_reason=report.presence_kappa_reason(work),
        pairwise=pairwise_agreement(work, IOU_THRESHOLD),
        per_annotator=tuple(per_annotator),
        images_finished=len(work.images),
        units=sum(len(found) for found in columns.values()),
        resamples=RESAMPLES,
    )


def differences(expected: Any, found: Any, path: str = "report") -> list[str]:
    """Where two reports differ, field by field (floats exactly; nan equals nan)."""
    if dataclasses.is_dataclass(expected) and dataclasses.is_dataclass(found):
        return [
            text
            for item in dataclasses.fields(expected)
            for text in differences(
                getattr(expected, item.name), getattr(found, item.name), f"{path}.{item.name}"
            )
        ]
    if isinstance(expected, tuple) and isinstance(found, tuple) and len(expected) == len(found):
        return [
            text
            for number, (a, b) in enumerate(zip(expected, found))
            for text in differences(a, b, f"{path}[{number}]")
        ]
    both_nan = isinstance(expected, float) and isinstance(found, float) and math.isnan(expected)
    if expected == found or (both_nan and math.isnan(found)):
        return []
    return [f"{path}: {expected!r} != {found!r}"]


def timed_steps(work: Work) -> dict[str, Any]:
    """The report once more, with its steps timed (PIECES)."""
    probe = Probe()
    with probe.active():
        seconds = timed(lambda: run_report(work))[0]
    return {"probed_seconds": seconds, "pieces": dict(probe.seconds), "calls": dict(probe.calls)}


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def in_fresh_process(images: int, pieces: bool, check: bool) -> dict[str, Any] | None:
    """measure_size in a new interpreter; None (and why, printed) when it fails."""
    command = [sys.executable, "-m", "bench.agreement", "--size", str(images)]
    command += ["--pieces"] * pieces + ["--check"] * check
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"\n{images:,} images FAILED (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return None
    return json.loads(lines[-1])


# ---------------------------------------------------------------- report


def growth(previous: dict[str, Any] | None, result: dict[str, Any]) -> str:
    if previous is None:
        return "-"
    images = result["images"] / previous["images"]
    times = result["seconds"] / previous["seconds"]
    return (
        f"x{times:.2f} for x{images:g} images (exponent {math.log(times) / math.log(images):.2f})"
    )


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        f"agreement_report(work, iou_threshold={IOU_THRESHOLD}, resamples={RESAMPLES}); "
        f"{len(ANNOTATORS)} annotators; each size in a fresh process"
    )
    print()
    print(
        "| images | shapes | report s (cpu) | s per 1,000 images | growth vs previous size "
        "| baseline s | ours/baseline | RSS before report MB | peak RSS during report MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    previous = None
    for r in results:
        print(
            f"| {r['images']:,} | {r['shapes']:,} | {r['seconds']:.2f} ({r['cpu']:.2f}) "
            f"| {r['seconds'] * 1000 / r['images']:.2f} | {growth(previous, r)} "
            f"| {r['baseline_seconds']:.3f} | {r['seconds'] / r['baseline_seconds']:,.1f}x "
            f"| {r['data_mb']:,.0f} | {r['peak_mb']:,.0f} |"
        )
        previous = r
    print()
    print(
        "baseline: IoU matrix of every two annotators' boxes per image, numpy only (no matching, "
        f"no statistics), best of {BASELINE_RUNS}"
    )
    if not all(r["resettable"] for r in results):
        print("peak RSS: the process's peak so far (VmHWM could not be reset)")
    for r in results:
        print(
            f"  {r['images']:,} images: data simulated in {r['build_seconds']:.1f} s; "
            f"label alpha {r['label_alpha']}, mean pairwise F1 {r['mean_f1']:.3f}"
        )
    for r in results:
        if "differences" in r:
            same = not r["differences"]
            print(
                f"per-image functions (the method's definition; the report before analysis.batch) "
                f"at {r['images']:,} images: {r['per_image_seconds']:.2f} s, "
                f"{r['per_image_seconds'] / r['seconds']:.0f}x ours; same report bit for bit: "
                f"{'yes' if same else 'NO'}"
            )
            for text in r["differences"][:10]:
                print(f"    {text}")


def print_pieces(result: dict[str, Any]) -> None:
    pieces, total = result["pieces"], result["probed_seconds"]
    print()
    print(
        f"where the time goes at {result['images']:,} images (a second run, steps timed: "
        f"{total:.2f} s; each step's own time)"
    )
    print()
    print("| step | s | share |")
    print("|---|---|---|")
    counted = 0.0
    for label, names in PIECES:
        seconds = sum(pieces.get(name, 0.0) for name in names)
        counted += seconds
        print(f"| {label} | {seconds:.2f} | {seconds / total:.0%} |")
    rest = total - counted
    print(f"| rest (presence columns, report assembly) | {rest:.2f} | {rest / total:.0%} |")


def print_verdict(results: list[dict[str, Any]]) -> None:
    size = max(SIZES)
    print()
    print(f"target at {size:,} images: < {TARGET_SECONDS:.0f} s and < 1 GB")
    found = [r for r in results if r["images"] == size]
    if not found:
        print(f"  [MISSED] no result at {size:,} images")
        return
    seconds, peak = found[0]["seconds"], found[0]["peak_mb"]
    print(f"  {'[met]   ' if seconds < TARGET_SECONDS else '[MISSED]'} time {seconds:.2f} s")
    print(f"  {'[met]   ' if peak < TARGET_MB else '[MISSED]'} peak RSS {peak:,.0f} MB")


# ---------------------------------------------------------------- main


def profile(images: int) -> None:
    work, shapes = simulate(images)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(run_report, work)
    seconds = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    print(
        f"\n===== agreement_report, {images:,} images, {shapes:,} shapes: {seconds:.2f} s "
        "under cProfile (inflated by the profiler)"
    )
    print(out.getvalue())


def load_average() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.agreement", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", type=int, metavar="N", help="measure N images in this process")
    parser.add_argument("--pieces", action="store_true", help="with --size: time the steps too")
    parser.add_argument(
        "--check", action="store_true", help="with --size: compare with the per-image functions"
    )
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile the report at N images")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if args.size:
        print(json.dumps(measure_size(args.size, args.pieces, args.check)))
        return
    if args.profile:
        attempt("profile", lambda: profile(args.profile))
        return
    start = time.perf_counter()
    print(f"Concord agreement report benchmark; {os.cpu_count()} cores; {load_average()}")
    results = []
    for images in SIZES:
        found = in_fresh_process(images, images == max(SIZES), images == min(SIZES))
        if found is not None:
            print(
                f"  {images:,} images: report {found['seconds']:.2f} s, "
                f"peak RSS {found['peak_mb']:,.0f} MB",
                flush=True,
            )
            results.append(found)
    if results:
        attempt("table", lambda: print_table(results))
        if "pieces" in results[-1]:
            attempt("pieces", lambda: print_pieces(results[-1]))
        attempt("verdict", lambda: print_verdict(results))
    print(f"\ntotal run time {time.perf_counter() - start:.0f} s; {load_average()}")


if __name__ == "__main__":
    main()
