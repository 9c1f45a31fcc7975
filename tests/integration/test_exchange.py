"""Import and export through the store (SQLite and PostgreSQL) and a folder of images."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import delete

from config import load_settings
from domain.annotation import Annotation
from domain.status import ImageStatus
from formats.registry import FORMAT_NAMES
from formats.resolve import ImportRejected
from storage.runtime import Services, build_services
from storage.schema import ANNOTATIONS, STATUSES
from workflows.exchange import ExportFailed, export_annotations, import_annotations

WIDE, TALL, OTHER, SKIPPED = (
    "site-a/wide.jpg",
    "site-a/tall.png",
    "site-b/other.jpg",
    "site-b/s.jpg",
)
SIZES = {WIDE: (640, 480), TALL: (300, 500), OTHER: (200, 100), SKIPPED: (50, 40)}


def write_images(root: Path) -> None:
    for key, size in SIZES.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (90, 120, 150)).save(path)


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    write_images(tmp_path / "images")
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "IMAGE_SOURCE": str(tmp_path / "images"),
            "DATABASE_URL": database_url,
            "LABELS": "person,animal,vehicle",
        }
    )
    built = build_services(settings)
    yield built
    built.store.engine.dispose()


def record(number: int, key: str, who: str, kind: str, **geometry: object) -> Annotation:
    return Annotation(
        id=f"{who}-{number}",
        image_key=key,
        annotator=who,
        label="animal" if kind == "polygon" else "person",
        kind=kind,
        **geometry,
    )  # type: ignore[arg-type]


def alice_draws(services: Services) -> None:
    store = services.store
    store.sync_image(
        WIDE,
        "alice",
        [
            record(1, WIDE, "alice", "rect", coords=(10.0, 20.0, 110.0, 70.0)),
            record(
                2, WIDE, "alice", "polygon", points=((5.0, 6.0), (600.0, 40.5), (120.25, 479.0))
            ),
        ],
    )
    store.sync_image(
        OTHER, "alice", [record(3, OTHER, "alice", "rect", coords=(0.0, 0.0, 200.0, 100.0))]
    )
    store.set_status(TALL, "alice", ImageStatus.EMPTY)
    store.set_status(SKIPPED, "alice", ImageStatus.SKIPPED)


def shapes_of(services: Services, who: str) -> dict[str, list[tuple]]:
    rows = services.store.export_rows(who)
    found: dict[str, list[tuple]] = {}
    for r in rows.shapes:
        found.setdefault(r.image_key, []).append((r.label, r.kind, r.coords, r.points))
    return found


def close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 0.01 for x, y in zip(a, b))


CASES = [pytest.param(name, {}, id=name) for name in FORMAT_NAMES] + [
    pytest.param("yolo", {"segments": True}, id="yolo-segments")
]
BOXES_ONLY = {"csv-normalized", "yolo"}


@pytest.mark.parametrize(("format_name", "options"), CASES)
def test_export_then_import_gives_back_the_same_annotations(
    services: Services, format_name: str, options: dict
) -> None:
    alice_draws(services)
    original = shapes_of(services, "alice")
    exported = export_annotations(services, format_name, "alice", **options)
    with services.store.engine.begin() as conn:  # a fresh database
        conn.execute(delete(ANNOTATIONS))
        conn.execute(delete(STATUSES))

    report = import_annotations(services, format_name, exported.filename, exported.content, "alice")

    assert (report.images, report.empty, report.shapes) == (3, 1, 3)
    assert services.store.statuses_for("alice") == {WIDE: "done", OTHER: "done", TALL: "empty"}
    copied = shapes_of(services, "alice")
    assert sorted(copied) == sorted(original) == [WIDE, OTHER]
    for key in original:
        for (label, kind, coords, points), back in zip(original[key], copied[key]):
            assert back[0] == label
            if kind == "polygon" and format_name in BOXES_ONLY and not options:
                # this format holds boxes only: the polygon comes back as its bounding box
                assert back[1] == "rect" and close(back[2], (5.0, 6.0, 600.0, 479.0))
                continue
            assert back[1] == kind
            assert close(back[2], coords)
            assert len(back[3]) == len(points)
            assert all(close(p, q) for p, q in zip(back[3], points))


def test_importing_the_same_file_twice_changes_nothing(services: Services) -> None:
    alice_draws(services)
    exported = export_annotations(services, "coco", "alice")

    first = import_annotations(services, "coco", "a.json", exported.content, "model")
    again = import_annotations(services, "coco", "a.json", exported.content, "model")

    assert first.inserted == 3
    assert (again.inserted, again.deleted) == (0, 0)
    assert "nothing changed" in again.summary()
    assert sum(len(v) for v in shapes_of(services, "model").values()) == 3


def test_a_file_with_one_bad_record_writes_nothing(services: Services) -> None:
    alice_draws(services)
    coco = json.loads(export_annotations(services, "coco", "alice").content)
    coco["annotations"][-1]["bbox"] = [150.0, 50.0, 100.0, 60.0]  # past OTHER's 200 px width

    with pytest.raises(ImportRejected) as caught:
        import_annotations(services, "coco", "bad.json", json.dumps(coco).encode(), "model")

    assert "reaches outside the image (200x100)" in str(caught.value)
    assert caught.value.messages[0].startswith("bad.json")
    assert "model" not in services.store.annotators()
    assert services.store.statuses_for("model") == {}


def test_unknown_images_are_listed_and_nothing_is_written(services: Services) -> None:
    data = (
        "image,annotator,label,kind,x0,y0,x1,y1,points\n"
        f"{WIDE},,person,rect,1,2,3,4,\n"
        "site-a/gone.jpg,,person,rect,1,2,3,4,\n"
        "nowhere.png,,,,,,,,\n"
    ).encode()

    with pytest.raises(
        ImportRejected, match="2 image.s. are not in the image source: nowhere.png, site-a/gone.jpg"
    ):
        import_annotations(services, "csv", "x.csv", data)

    assert services.store.annotators() == []


def test_a_label_outside_the_project_is_refused(services: Services) -> None:
    data = f"image,label,x0,y0,x1,y1\n{WIDE},cat,0.1,0.1,0.2,0.2\n".encode()

    with pytest.raises(ImportRejected, match="b.csv: line 2: label 'cat' is not one of"):
        import_annotations(services, "csv-normalized", "b.csv", data)


def test_images_named_by_file_name_only_are_found_when_unambiguous(services: Services) -> None:
    xml = (
        "<annotation><filename>wide.jpg</filename><size><width>640</width>"
        "<height>480</height></size><object><name>vehicle</name><bndbox><xmin>1</xmin>"
        "<ymin>2</ymin><xmax>640</xmax><ymax>480</ymax></bndbox></object></annotation>"
    )

    report = import_annotations(services, "voc", "wide.xml", xml.encode(), "model")

    assert report.images == 1
    assert shapes_of(services, "model")[WIDE] == [("vehicle", "rect", (1.0, 2.0, 640.0, 480.0), ())]


def test_tidy_csv_export_of_everyone_keeps_the_annotator_column(services: Services) -> None:
    alice_draws(services)
    services.store.set_status(WIDE, "bob", ImageStatus.EMPTY)

    exported = export_annotations(services, "csv")

    lines = exported.content.decode().splitlines()
    assert exported.filename == "concord-csv-all.csv"
    assert f"{WIDE},bob,,,,,,," in lines
    assert sum(1 for line in lines if ",alice," in line) == 4  # 3 shapes + TALL found empty
    assert not any(SKIPPED in line for line in lines)  # skipped is not finished


def test_other_formats_write_a_folder_per_annotator(services: Services) -> None:
    alice_draws(services)
    services.store.set_status(WIDE, "bob", ImageStatus.EMPTY)

    exported = export_annotations(services, "coco")

    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert sorted(archive.namelist()) == ["alice/annotations.json", "bob/annotations.json"]
        bob = json.loads(archive.read("bob/annotations.json"))
    assert [i["file_name"] for i in bob["images"]] == [WIDE]
    assert bob["annotations"] == []


def test_export_of_one_batch(services: Services) -> None:
    alice_draws(services)

    exported = export_annotations(services, "csv", "alice", batch="site-b")

    assert {line.split(",")[0] for line in exported.content.decode().splitlines()[1:]} == {OTHER}


def test_export_with_nothing_finished_says_so(services: Services) -> None:
    with pytest.raises(ExportFailed, match="no finished images"):
        export_annotations(services, "coco", "nobody")


def test_an_unreadable_image_is_refused_on_import_and_left_out_of_exports(
    services: Services, tmp_path: Path
) -> None:
    alice_draws(services)
    (tmp_path / "images" / WIDE).write_bytes(b"not a jpeg at all")
    data = f"image,label,x0,y0,x1,y1\n{WIDE},person,0.1,0.1,0.2,0.2\n".encode()

    with pytest.raises(ImportRejected, match=f"image {WIDE}: {WIDE} is not an image Concord can"):
        import_annotations(services, "csv-normalized", "c.csv", data)
    exported = export_annotations(services, "csv", "alice")

    assert "1 image(s) left out: not readable in the source (site-a/wide.jpg)" in (
        exported.summary()
    )
    assert WIDE not in exported.content.decode()


def test_a_corrected_file_replaces_only_the_images_that_changed(services: Services) -> None:
    header = "image,label,x0,y0,x1,y1\n"
    first = f"{WIDE},person,0.1,0.1,0.2,0.2\n{WIDE},animal,0.3,0.3,0.4,0.4\n{OTHER},car,0,0,1,1\n"
    first = first.replace("car", "vehicle")
    fixed = first.replace("0.3,0.3,0.4,0.4", "0.3,0.3,0.5,0.5")

    import_annotations(services, "csv-normalized", "p.csv", (header + first).encode(), "model")
    report = import_annotations(
        services, "csv-normalized", "p.csv", (header + fixed).encode(), "model"
    )

    assert (report.inserted, report.deleted) == (2, 2)  # WIDE's two shapes; OTHER untouched
    assert shapes_of(services, "model")[WIDE][1][2] == (192.0, 144.0, 320.0, 240.0)


def test_sizes_read_once_are_remembered_by_the_database(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_draws(services)
    export_annotations(services, "csv", "alice")  # reads WIDE, TALL and OTHER's headers
    fresh = build_services(services.settings)  # a new worker: empty in-process caches
    reads: list[str] = []
    read_head_meta = fresh.images.source.read_head_meta
    monkeypatch.setattr(
        fresh.images.source,
        "read_head_meta",
        lambda key, size: reads.append(key) or read_head_meta(key, size),
    )
    rows = f"image,label,x0,y0,x1,y1\n{WIDE},person,0,0,1,1\n{OTHER},person,0,0,1,1\n"

    import_annotations(fresh, "csv-normalized", "p.csv", rows.encode(), "model")
    Image.new("RGB", (100, 50)).save(tmp_path / "images" / OTHER)  # the file changes
    report = import_annotations(fresh, "csv-normalized", "p.csv", rows.encode(), "model")

    assert reads == [OTHER]  # only the changed image's header was read again
    assert shapes_of(fresh, "model")[OTHER][0][2] == (0.0, 0.0, 100.0, 50.0)
    assert report.inserted == 1
    fresh.store.engine.dispose()


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
def test_the_consensus_exports_in_every_format(services: Services, format_name: str) -> None:
    for who, x0 in (("ann", 10.0), ("bob", 14.0), ("cy", 12.0)):
        services.store.sync_image(
            WIDE, who, [record(1, WIDE, who, "rect", coords=(x0, 20.0, x0 + 100, 70.0))]
        )
    services.store.set_status(TALL, "ann", ImageStatus.EMPTY)

    exported = export_annotations(services, format_name, consensus=True)
    report = import_annotations(services, format_name, "c", exported.content, "agreed")

    assert exported.annotators == ("consensus",)
    assert (report.images, report.shapes, report.empty) == (2, 1, 1)
    whose = "consensus" if format_name == "csv" else "agreed"  # tidy CSV names its annotator
    [(label, kind, coords, _)] = shapes_of(services, whose)[WIDE]
    assert (label, kind) == ("person", "rect")
    assert close(coords, (12.0, 20.0, 112.0, 70.0))  # the median box


def test_the_agreement_report_gives_median_active_seconds(services: Services) -> None:
    from analysis.report import agreement_report
    from workflows.agreement import load_work

    alice_draws(services)  # alice finished WIDE, OTHER and TALL, skipped SKIPPED
    for key, seconds in ((WIDE, 30.0), (OTHER, 10.0), (TALL, 12.0), (SKIPPED, 99.0)):
        services.store.add_active_time(key, "alice", seconds)

    report = agreement_report(load_work(services)).to_json()

    alice = next(row for row in report["per_annotator"] if row["annotator"] == "alice")
    assert alice["seconds_per_image"] == 12.0  # the skipped image does not count
