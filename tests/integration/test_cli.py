"""`python cli.py`: help, exit codes, one-line reasons, a fresh database, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    images = tmp_path / "images" / "site"
    images.mkdir(parents=True)
    Image.new("RGB", (640, 480)).save(images / "a.jpg")
    Image.new("RGB", (300, 500)).save(images / "b.jpg")
    return {
        "IMAGE_SOURCE": str(tmp_path / "images"),
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "LABELS": "car,bike",
    }


@pytest.mark.parametrize("command", [[], ["import"], ["export"]])
def test_help_exits_zero(command: list[str]) -> None:
    result = run({}, *command, "--help")

    assert result.returncode == 0
    assert "usage: python cli.py" in result.stdout


def test_import_into_a_fresh_database_then_export(env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "boxes.csv"
    csv_file.write_text("image,label,x0,y0,x1,y1\nsite/a.jpg,car,0.5,0.5,1,1\nsite/b.jpg,,,,,\n")

    imported = run(
        env, "import", str(csv_file), "--format", "csv-normalized", "--annotator", "model"
    )
    out = tmp_path / "out" / "export.zip"
    exported = run(env, "export", "--format", "yolo", "--annotator", "model", "--out", str(out))

    assert imported.returncode == 0, imported.stderr
    assert "2 image(s) (1 with no objects), 1 shape(s) for model" in imported.stdout
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(out) as archive:
        assert archive.read("labels/site/a.txt").decode().strip() == (
            "0 0.750000 0.750000 0.500000 0.500000"
        )
        assert archive.read("labels/site/b.txt") == b""


def test_a_rejected_import_fails_with_one_line_and_writes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [}')

    result = run(env, "import", str(bad), "--format", "coco")
    check = run(env, "export", "--format", "csv", "--out", str(tmp_path / "x.csv"))

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: import rejected, nothing written")
    assert "bad.json" in result.stderr and "line 1" in result.stderr
    assert check.returncode == 1 and "no finished images" in check.stderr


def test_a_folder_of_labelme_files_imports(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "labelme" / "site"
    folder.mkdir(parents=True)
    shape = {"label": "bike", "points": [[10, 20], [110, 70]], "shape_type": "rectangle"}
    doc = {"shapes": [shape], "imagePath": "a.jpg", "imageWidth": 640, "imageHeight": 480}
    (folder / "a.json").write_text(json.dumps(doc))

    result = run(env, "import", str(tmp_path / "labelme"), "--format", "labelme")

    assert result.returncode == 0, result.stderr
    assert "1 image(s) (0 with no objects), 1 shape(s) for import" in result.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["import", "missing.csv", "--format", "csv"], "missing.csv: no such file or folder"),
        (["export", "--format", "coco", "--out", "/tmp"], "is a folder"),
        (["export", "--format", "csv", "--segments", "--out", "x.csv"], "--format yolo only"),
    ],
)
def test_failures_exit_non_zero_with_a_reason(
    env: dict[str, str], args: list[str], reason: str
) -> None:
    result = run(env, *args)

    assert result.returncode == 1
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_format_name_is_refused_by_the_parser() -> None:
    result = run({}, "export", "--format", "xml", "--out", "x")

    assert result.returncode == 2
    assert "invalid choice: 'xml'" in result.stderr


def test_agreement_of_imported_annotators(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        "image,annotator,label,kind,x0,y0,x1,y1,points",
        "site/a.jpg,ann,car,rect,10,10,110,60,",
        "site/a.jpg,bob,car,rect,12,10,110,62,",
        "site/a.jpg,ann,bike,rect,300,300,400,400,",  # bob missed it
        "site/b.jpg,ann,,,,,,,",
        "site/b.jpg,bob,,,,,,,",
    ]
    (tmp_path / "two.csv").write_text("\n".join(rows) + "\n")
    assert run(env, "import", str(tmp_path / "two.csv"), "--format", "csv").returncode == 0

    result = run(env, "agreement", "--json", "--iou", "0.5")
    text = run(env, "agreement")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["iou_threshold"] == 0.5
    assert (report["images"], report["annotators"]) == (2, ["ann", "bob"])
    pair = report["pairwise"][0]
    assert (pair["a"], pair["b"], pair["images"]) == ("ann", "bob", 2)
    assert pair["f1"] == pytest.approx(2 * 1 / (2 + 1))  # one match of 2 + 1 objects
    ann, bob = (
        next(r for r in report["per_annotator"] if r["annotator"] == who) for who in ("ann", "bob")
    )
    # against ann alone (the others' consensus), bob missed the bike: 1 of 2 objects
    assert bob["miss_rate"] == pytest.approx(0.5)
    assert ann["extra_per_image"] == pytest.approx(0.5)  # the bike, over 2 images
    for key in ("log_area_ratio", "dx", "dy", "extra_per_image", "label_kappa_vs_consensus"):
        assert key in bob
    assert "seconds_per_image" in bob
    assert text.returncode == 0 and "Krippendorff's alpha" in text.stdout
    out = tmp_path / "consensus.csv"
    exported = run(env, "export", "--format", "csv", "--consensus", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text().splitlines()[1:]
    # half of two annotators suffices: both objects; the car's box is the median of both
    assert lines[0] == "site/a.jpg,consensus,car,rect,11,10,110,61,"
    assert lines[1] == "site/a.jpg,consensus,bike,rect,300,300,400,400,"
    assert lines[2] == "site/b.jpg,consensus,,,,,,,"


def test_history_lists_imports_and_edits_with_who_made_them(env: dict[str, str], tmp_path: Path):
    import csv

    from storage.annotation_store import AnnotationStore

    rows = "image,annotator,label,kind,x0,y0,x1,y1,points\nsite/a.jpg,ann,car,rect,1,2,30,40,\n"
    (tmp_path / "in.csv").write_text(rows)
    assert run(env, "import", str(tmp_path / "in.csv"), "--format", "csv").returncode == 0
    store = AnnotationStore.from_url(env["DATABASE_URL"])
    [shape] = store.annotations_for("site/a.jpg", "ann")
    store.sync_image("site/a.jpg", "ann", [], ((shape.id, shape.version),))  # ann deletes it
    store.engine.dispose()

    out = tmp_path / "history.csv"
    result = run(env, "history", "--out", str(out), "--batch", "site")
    assert result.returncode == 0 and result.stdout.strip() == f"wrote 4 events to {out}"
    events = list(csv.DictReader(out.open()))
    assert [(e["action"], e["actor"].split(":")[0]) for e in events] == [
        ("create", "cli"),
        ("status", "cli"),
        ("delete", "ann"),
        ("status", "ann"),
    ]
    assert json.loads(events[0]["after"])["coords"] == [1.0, 2.0, 30.0, 40.0]
    assert json.loads(events[2]["before"])["label"] == "car" and events[2]["after"] == ""
    assert run(env, "history", "--out", str(out), "--batch", "other").stdout.startswith("wrote 0")


def test_agreement_with_repeats_reports_intra_rater_alpha(
    env: dict[str, str], tmp_path: Path
) -> None:
    # ann's second pass (REPEAT_PERCENT keeps it as ann#repeat) missed the bike on a.jpg:
    # a defined intra-rater alpha, which once crashed both outputs
    rows = [
        "image,annotator,label,kind,x0,y0,x1,y1,points",
        "site/a.jpg,ann,car,rect,10,10,110,60,",
        "site/a.jpg,ann,bike,rect,300,300,400,400,",
        "site/a.jpg,ann#repeat,car,rect,12,10,110,62,",
        "site/b.jpg,ann,bike,rect,10,10,110,60,",
        "site/b.jpg,ann#repeat,bike,rect,10,10,110,60,",
        "site/b.jpg,bob,car,rect,10,10,110,60,",
    ]
    (tmp_path / "repeats.csv").write_text("\n".join(rows) + "\n")
    assert run(env, "import", str(tmp_path / "repeats.csv"), "--format", "csv").returncode == 0

    result = run(env, "agreement", "--json", "--resamples", "50", "--seed", "3")
    text = run(env, "agreement")
    bad = run(env, "agreement", "--resamples", "-1")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [ann] = report["intra_rater"]
    assert (ann["annotator"], ann["images_both_passes"]) == ("ann", 2)
    estimate = ann["label_alpha_estimate"]
    assert estimate["ci_low"] <= estimate["value"] <= estimate["ci_high"]
    assert report["method"]["interval"] == {
        **report["method"]["interval"],
        "resamples": 50,
        "seed": 3,
    }
    assert "#repeat" not in " ".join(report["annotators"])
    schema = json.loads((ROOT / "docs" / "agreement-report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    assert text.returncode == 0, text.stderr
    assert "Same annotator twice" in text.stdout and "200 draws, seed 0" in text.stdout
    assert bad.returncode == 1 and bad.stderr.startswith("error: --resamples -1 is negative")
    assert "Traceback" not in result.stderr + text.stderr + bad.stderr


def test_predict_with_a_plugin_stores_the_models_shapes(
    env: dict[str, str], tmp_path: Path
) -> None:
    plugin = {**env, "DETECTOR": "tests.unit.plugin_detector:make", "LABELS": "car,bike,object"}

    rows = [
        "image,annotator,label,kind,x0,y0,x1,y1,points",
        "site/a.jpg,ann,car,rect,1,2,30,40,",
        "site/a.jpg,bob,car,rect,2,2,31,41,",
    ]
    (tmp_path / "people.csv").write_text("\n".join(rows) + "\n")
    assert run(plugin, "import", str(tmp_path / "people.csv"), "--format", "csv").returncode == 0

    result = run(plugin, "predict", "--json", "--min-score", "0.1")
    out = tmp_path / "model.json"
    exported = run(
        plugin, "export", "--format", "coco", "--annotator", "model:fake", "--out", str(out)
    )
    agreement = run(plugin, "agreement", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["detector"], report["annotator"], report["images"]) == ("fake", "model:fake", 2)
    assert report["suggestions"] > 0 and report["problems"] == []
    assert exported.returncode == 0, exported.stderr
    coco = json.loads(out.read_text())
    assert coco["annotations"] and all(0 <= a["score"] <= 1 for a in coco["annotations"])
    report = json.loads(agreement.stdout)
    assert report["annotators"] == ["ann", "bob"]  # people only
    [fake] = report["models"]  # the model measured against them, on the one image they did
    assert (fake["name"], fake["version"], fake["images"]) == ("fake", "1.0", 1)
    assert (fake["precision"], fake["recall"], fake["objects_matched"]) == (1.0, 1.0, 1)
    assert report["suggestions"] == {"accepted_unchanged": 0, "left_out": False}
    strict = run(plugin, "agreement", "--json", "--without-suggestions")
    assert json.loads(strict.stdout)["suggestions"]["left_out"] is True


def test_predict_refuses_clearly_without_a_detector(env: dict[str, str]) -> None:
    none = run({**env, "DETECTOR": "none"}, "predict")
    missing = run({**env, "DETECTOR": "no_such_module:make"}, "predict")

    assert none.returncode == 1 and none.stderr.startswith("error: DETECTOR=none")
    assert missing.returncode == 1 and "no_such_module" in missing.stderr
    assert "Traceback" not in none.stderr + missing.stderr


def test_predict_with_the_built_in_model_on_the_sample_photos(tmp_path: Path) -> None:
    # the embedded default: sample photos, SQLite, DETECTOR=nanodet
    env = {"DATA_DIR": str(tmp_path / "data")}

    result = run(env, "predict")
    out = tmp_path / "model.csv"
    exported = run(
        env, "export", "--format", "csv", "--annotator", "model:nanodet", "--out", str(out)
    )

    assert result.returncode == 0, result.stderr
    assert "stored as model:nanodet" in result.stdout and "detector nanodet g-416-" in result.stdout
    assert exported.returncode == 0, exported.stderr
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    best = {}
    for image, _who, label, *_ in rows:
        best.setdefault(image, set()).add(label)
    assert "person" in best["01-astronaut.jpg"]
    assert "vehicle" in best["07-motorcycle.jpg"]  # COCO's motorcycle, mapped
