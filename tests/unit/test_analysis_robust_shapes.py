"""The agreement report survives any stored geometry: a scribbled outline costs seconds and
megabytes, not minutes and gigabytes, and a shape no region can be made of is left out and
reported instead of failing the whole report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analysis.report import agreement_report
from analysis.work import Work
from domain.annotation import Annotation

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "agreement-report.schema.json").read_text())

# A child process builds a scribble (the pen going back and forth across a region: every
# stroke crosses most others), saved by one annotator as a closed polygon and by another as
# an open path, next to a normal box of a third, and computes the report. It must finish
# within the alarm, its peak memory is printed with the report's JSON.
SCRIBBLE_REPORT = """
import json, signal, sys
def peak_kb():  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
import numpy as np
from analysis.report import agreement_report
from analysis.work import Work
from domain.annotation import Annotation

signal.alarm(int(sys.argv[2]))  # a hung GEOS call ends the process, not the test run
points = int(sys.argv[1])
rng = np.random.default_rng(0)
scribble = tuple(map(tuple, rng.uniform(100.0, 900.0, (points, 2)).tolist()))
box = Annotation("box", "img", "c", "cat", "rect", (100.0, 100.0, 900.0, 900.0))
work = Work({"img": {
    "a": (Annotation("poly", "img", "a", "cat", "polygon", points=scribble),),
    "b": (Annotation("path", "img", "b", "cat", "path", points=scribble),),
    "c": (box,),
}})
data = agreement_report(work, resamples=20).to_json()
peak_mb = peak_kb() / 1024
print(json.dumps({"peak_mb": peak_mb, "report": data}))
"""


def scribble_report(points: int, seconds: int = 60) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIBBLE_REPORT, str(points), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 10,
    )
    assert done.returncode == 0, f"the report did not come out in {seconds} s: {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("points", [1_000, 20_000])
def test_a_scribbled_shape_costs_seconds_not_minutes(points: int) -> None:
    found = scribble_report(points)

    assert found["peak_mb"] < 400
    report = found["report"]
    jsonschema.validate(report, SCHEMA)
    assert report["images_shared"] == 1
    # the scribbles are compared as the region scribbled over, and the report says so
    approximated = report["shapes_approximated"]
    assert approximated["count"] == 2
    assert {s["annotator"] for s in approximated["first"]} == {"a", "b"}
    assert "convex hull" in approximated["reasons"]["tangled_outline"]
    assert report["shapes_left_out"]["count"] == 0


def shape(key: str, who: str, number: int, kind: str, **geometry: Any) -> Annotation:
    return Annotation(f"{who}-{number}", key, who, "cat", kind, **geometry)  # type: ignore[arg-type]


GOOD = {
    "i1": {
        "a": (shape("i1", "a", 1, "rect", coords=(10.0, 10.0, 60.0, 50.0)),),
        "b": (shape("i1", "b", 1, "rect", coords=(12.0, 10.0, 60.0, 52.0)),),
    },
    "i2": {
        "a": (shape("i2", "a", 2, "polygon", points=((0.0, 0.0), (40.0, 0.0), (40.0, 30.0))),),
        "b": (shape("i2", "b", 2, "circle", coords=(100.0, 100.0, 140.0, 130.0)),),
    },
}
BAD = {
    "one coordinate": (shape("i1", "a", 3, "rect", coords=(5.0,)), "wrong_coordinate_count"),
    "eight coordinates": (
        shape("i2", "b", 3, "line", coords=tuple(float(v) for v in range(8))),
        "wrong_coordinate_count",
    ),
    "nan": (shape("i1", "b", 4, "rect", coords=(math.nan, 1.0, 5.0, 5.0)), "not_finite"),
    "infinity": (
        shape("i2", "a", 4, "polygon", points=((0.0, 0.0), (math.inf, 0.0), (1.0, 1.0))),
        "not_finite",
    ),
    "two-point polygon": (
        shape("i2", "a", 5, "polygon", points=((0.0, 0.0), (1.0, 1.0))),
        "too_few_points",
    ),
    "empty path": (shape("i1", "a", 6, "path"), "too_few_points"),
    "unknown kind": (shape("i1", "b", 7, "hexagon", coords=(1.0, 1.0, 2.0, 2.0)), "unknown_kind"),
}


def with_bad(good: dict[str, dict[str, tuple[Annotation, ...]]]) -> Work:
    by_image = {
        key: {who: list(shapes) for who, shapes in done.items()} for key, done in good.items()
    }
    for bad, _reason in BAD.values():
        by_image[bad.image_key][bad.annotator].append(bad)
    return Work({k: {w: tuple(s) for w, s in d.items()} for k, d in by_image.items()})


def test_unusable_shapes_are_left_out_and_reported_not_fatal() -> None:
    report = agreement_report(with_bad(GOOD), resamples=20)

    # the good shapes give the very numbers they give alone
    alone = agreement_report(Work(GOOD), resamples=20)
    assert report.pairwise == alone.pairwise
    assert report.label_alpha == alone.label_alpha
    assert report.units == alone.units
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    jsonschema.validate(data, SCHEMA)
    left_out = data["shapes_left_out"]
    assert left_out["count"] == len(BAD)
    assert {row["id"]: row["reason"] for row in left_out["first"]} == {
        bad.id: reason for bad, reason in BAD.values()
    }
    assert left_out["by_reason"] == {
        "wrong_coordinate_count": 2,
        "not_finite": 2,
        "too_few_points": 2,
        "unknown_kind": 1,
    }
    assert set(left_out["reasons"]) == set(left_out["by_reason"])
    assert alone.to_json()["shapes_left_out"]["count"] == 0
