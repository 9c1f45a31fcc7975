"""Label QA's page query on a large store, with the (label, image_key) index of migration
0010 and, as the in-run baseline, the same database without it.

100,000 rectangles over 10 batches, 7 annotators and 5 labels (20,000 with the label asked
for) in SQLite; a page is 48 shapes (storage.shape_query.shapes_page: a count and a page).
Median of 7 per case. Prints figures and the ratio; never fails.

Usage: python -m bench.label_qa [--shapes 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.common import attempt  # noqa: E402
from storage.annotation_store import AnnotationStore  # noqa: E402
from storage.schema import ANNOTATIONS  # noqa: E402
from storage.shape_query import ShapeScope, shapes_page  # noqa: E402

LABELS = ("person", "animal", "vehicle", "food", "object")
PAGE = 48
CASES = {
    "everyone, page 1": (ShapeScope(), 0),
    "everyone, page 400": (ShapeScope(), PAGE * 399),
    "one annotator, one batch": (ShapeScope(("a3",), "b4"), 0),
}


def fill(store: AnnotationStore, count: int) -> None:
    """count rectangles: image i//10 of batch i%10, annotator i%7, label i%5."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": f"s{i}",
            "image_key": f"b{i % 10}/img{i // 10:06d}.jpg",
            "annotator": f"a{i % 7}",
            "label": LABELS[i % 5],
            "kind": "rect",
            "geometry": {"coords": [1, 2, 30, 40]},
            "created_at": now,
            "updated_at": now,
            "source": "human",
            "score": None,
            "version": 1,
        }
        for i in range(count)
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(ANNOTATIONS), rows[start : start + 5000])


def median_ms(store: AnnotationStore, scope: ShapeScope, offset: int) -> float:
    times = []
    for _ in range(7):
        started = time.perf_counter()
        shapes_page(store.engine, "animal", scope, offset, PAGE)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="concord-qa-") as tmp:
        store = AnnotationStore.from_url(f"sqlite:///{tmp}/annotations.db")
        started = time.perf_counter()
        fill(store, args.shapes)
        print(f"{args.shapes:,} shapes stored in {time.perf_counter() - started:.1f} s")
        indexed = {name: median_ms(store, *case) for name, case in CASES.items()}
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_annotations_label_image"))
        plain = {name: median_ms(store, *case) for name, case in CASES.items()}
        store.engine.dispose()
    print(f"\nA page of {PAGE} shapes labelled 'animal' (median of 7, SQLite):")
    print(f"  {'':28} {'indexed':>9} {'no index':>9}  ratio")
    for name in CASES:
        ratio = plain[name] / indexed[name] if indexed[name] else float("nan")
        print(f"  {name:28} {indexed[name]:7.1f} ms {plain[name]:7.1f} ms  {ratio:.1f}x faster")


if __name__ == "__main__":
    attempt("label QA query", main)
