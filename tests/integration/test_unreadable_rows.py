"""Bad stored rows (written before the write checks, by an older release, or by hand) are
skipped and reported by every reader: the annotate page, the six exports, the consensus
export, the Agreement tab and `cli.py export` / `agreement`. Nothing else is lost."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from callbacks import annotations
from callbacks.agreement import agreement_job
from callbacks.exchange import export_job
from domain.annotation import Annotation
from formats.registry import FORMAT_NAMES
from storage.annotation_store import AnnotationStore
from storage.runtime import Services
from storage.schema import ANNOTATIONS
from tests.integration.test_cli import run as run_cli
from tests.unit.callback_support import call, install_services, make_batch
from workflows.exchange import export_annotations

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "agreement-report.schema.json").read_text())
A, B = "img01.jpg", "img02.jpg"

# (id, image, annotator, label, kind, geometry as stored): each one unusable
BAD_ROWS = [
    ("bad-one", A, "ann", "car", "rect", '{"coords": [5.0], "points": []}'),
    ("bad-eight", A, "bob", "car", "rect", '{"coords": [1, 2, 3, 4, 5, 6, 7, 8], "points": []}'),
    ("bad-nan", A, "ann", "car", "rect", '{"coords": [NaN, 1, 20, 30], "points": []}'),
    ("bad-inf", B, "ann", "car", "circle", '{"coords": [Infinity, 1, 20, 30], "points": []}'),
    ("bad-kind", A, "bob", "car", "hexagon", '{"coords": [1, 2, 30, 40], "points": []}'),
    ("bad-two", B, "bob", "car", "polygon", '{"coords": [], "points": [[1, 1], [9, 9]]}'),
    ("bad-json", A, "ann", "car", "rect", '{"coords": [1, 2,'),
    ("bad-point", B, "ann", "car", "path", '{"coords": [], "points": [[1, "x"]]}'),
]
REASONS = {
    "wrong_coordinate_count": 2,
    "not_finite": 2,
    "unknown_kind": 1,
    "too_few_points": 1,
    "unreadable_geometry": 2,
}


def good(record_id: str, key: str, who: str, coords: tuple[float, ...], label: str = "car"):
    return Annotation(record_id, key, who, label, "rect", coords)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    make_batch(tmp_path / "images", [(640, 480), (400, 300)])
    services = install_services(tmp_path, LABELS="car,bike")
    store = services.store
    store.sync_image(A, "ann", [good("g1", A, "ann", (10, 10, 110, 90))])
    store.sync_image(A, "bob", [good("g2", A, "bob", (12, 10, 110, 92))])
    # a label the project no longer has: kept, and exported under its name
    store.sync_image(B, "ann", [good("g3", B, "ann", (5, 5, 50, 60), label="retired")])
    store.sync_image(B, "bob", [good("g4", B, "bob", (5, 5, 52, 60))])
    insert_raw(services, BAD_ROWS)
    return services


def insert_raw(services: Services, rows: list[tuple[str, ...]]) -> None:
    """Rows straight into the SQLite file, as old data or a crafted request left them."""
    path = make_url(services.settings.database_url).database
    assert path
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO annotations (id, image_key, annotator, label, kind, geometry,"
            " created_at, updated_at, source, version)"
            " VALUES (?, ?, ?, ?, ?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'human', 1)",
            rows,
        )


def test_the_annotate_page_loads_the_good_shapes(services: Services) -> None:
    image = {"key": A, "width": 640, "height": 480}

    records = call(annotations.load_records, "image-store.data", image, "ann", None)

    assert records["error"] is None
    assert [item["id"] for item in records["items"]] == ["g1"]
    # a save of what the page holds leaves the unreadable rows alone (nothing is lost)
    saved = services.store.sync_image(
        A, "ann", [replace(good("g1", A, "ann", (10, 10, 120, 90)), version=1)], known=[("g1", 1)]
    )
    assert [r.id for r in saved] == ["g1"]
    assert len(services.store.export_rows().skipped) == len(BAD_ROWS)


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
def test_every_export_writes_the_good_shapes_and_counts_the_skipped(
    services: Services, format_name: str
) -> None:
    exported = export_annotations(services, format_name)

    assert exported.shapes == 4
    assert exported.images == 4  # (image, annotator) pairs
    assert f"{len(BAD_ROWS)} stored shape(s) left out as unusable" in exported.summary()
    assert "2 unreadable geometry" in exported.summary()
    assert exported.content
    texts = b"".join(_members(exported.content)).decode()
    if format_name in ("csv", "coco", "labelme", "csv-normalized", "voc"):
        assert "retired" in texts  # the retired label is exported under its name


def test_the_export_panel_says_what_was_left_out(services: Services) -> None:
    download, message = export_job("coco", None, None, False, lambda done, total, what: None)

    assert download["filename"] == "concord-coco-all.zip"
    assert message.color == "warning"
    assert f"{len(BAD_ROWS)} stored shape(s) left out as unusable" in str(message.children)


def _members(content: bytes) -> list[bytes]:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return [content]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [archive.read(name) for name in archive.namelist()]


def test_the_consensus_export_and_the_agreement_tab_report_the_skipped(
    services: Services,
) -> None:
    consensus = export_annotations(services, "coco", consensus=True)
    data, _key, alert = agreement_job(0.5, None, lambda done, what: None)

    assert consensus.shapes == 2
    assert f"{len(BAD_ROWS)} stored shape(s) left out" in consensus.summary()
    assert data["images_shared"] == 2
    assert data["shapes_left_out"]["count"] == len(BAD_ROWS)
    assert data["shapes_left_out"]["by_reason"] == REASONS
    assert {row["id"] for row in data["shapes_left_out"]["first"]} == {r[0] for r in BAD_ROWS}
    assert f"{len(BAD_ROWS)} stored shape(s) left out as unusable" in str(alert.children)


def cli(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    settings = services.settings
    env = {
        "IMAGE_SOURCE": str(settings.image_source),
        "DATABASE_URL": settings.database_url,
        "DATA_DIR": str(settings.data_dir),
        "LABELS": "car,bike",
    }
    return run_cli(env, *args)


def test_cli_export_and_agreement_report_the_skipped(services: Services, tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    exported = cli(services, "export", "--format", "coco", "--out", str(out))
    as_json = cli(services, "agreement", "--json", "--resamples", "10")
    as_text = cli(services, "agreement", "--resamples", "10")

    assert exported.returncode == 0, exported.stderr
    assert "4 shape(s)" in exported.stdout
    assert f"{len(BAD_ROWS)} stored shape(s) left out as unusable" in exported.stdout
    assert zipfile.is_zipfile(out)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["shapes_left_out"]["by_reason"] == REASONS
    assert as_text.returncode == 0, as_text.stderr
    assert f"Stored shapes left out as unusable: {len(BAD_ROWS)}" in as_text.stdout
    assert "bad-one" in as_text.stdout


def test_bad_rows_are_skipped_on_every_backend(store: AnnotationStore) -> None:
    store.sync_image(A, "ann", [good("g1", A, "ann", (10, 10, 110, 90))])
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    crafted = [  # what PostgreSQL's JSON column accepts (it refuses NaN and broken JSON)
        ("bad-one", "rect", {"coords": [5.0], "points": []}),
        ("bad-kind", "hexagon", {"coords": [1, 2, 30, 40], "points": []}),
        ("bad-two", "polygon", {"coords": [], "points": [[1, 1], [9, 9]]}),
        ("bad-point", "path", {"coords": [], "points": [[1, "x"]]}),
        ("bad-shape", "rect", ["not", "an", "object"]),
    ]
    with store.engine.begin() as conn:
        conn.execute(
            insert(ANNOTATIONS),
            [
                {
                    "id": record_id,
                    "image_key": A,
                    "annotator": "ann",
                    "label": "car",
                    "kind": kind,
                    "geometry": geometry,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "source": "human",
                    "version": 1,
                }
                for record_id, kind, geometry in crafted
            ],
        )

    assert [r.id for r in store.annotations_for(A, "ann")] == ["g1"]
    rows = store.export_rows()
    assert [shape.coords for shape in rows.shapes] == [(10, 10, 110, 90)]
    assert {row.id: row.reason for row in rows.skipped} == {
        "bad-one": "wrong_coordinate_count",
        "bad-kind": "unknown_kind",
        "bad-two": "too_few_points",
        "bad-point": "unreadable_geometry",
        "bad-shape": "unreadable_geometry",
    }
