"""`python cli.py` with gold: imported from COCO as --annotator gold (a reserved account name,
still an import target), exported in every format and imported back unchanged, scored
against in `agreement --json` and its text, and kept out of the people's agreement."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from domain.accounts import AccountError, account_name
from storage.annotation_store import AnnotationStore
from storage.review_store import ReviewStore
from tests.integration.test_cli import run
from tests.unit.test_agreement_callbacks import record
from tests.unit.test_gold_scores import SCHEMA

COCO = {
    "images": [
        {"id": 1, "file_name": "site/a.jpg", "width": 640, "height": 480},
        {"id": 2, "file_name": "site/b.jpg", "width": 300, "height": 500},
    ],
    "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bike"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 100, 50]},
        {
            "id": 2,
            "image_id": 1,
            "category_id": 2,
            "segmentation": [[300, 100, 400, 100, 350, 200]],
            "bbox": [300, 100, 100, 100],
        },
    ],
}
# ann matches gold's car exactly and calls the bike a car; bob misses the bike
PEOPLE = (
    "image,annotator,label,kind,x0,y0,x1,y1,points\n"
    "site/a.jpg,ann,car,rect,10,20,110,70,\n"
    'site/a.jpg,ann,car,polygon,300,100,400,200,"[[300,100],[400,100],[350,200]]"\n'
    "site/b.jpg,ann,,,,,,,\n"
    "site/a.jpg,bob,car,rect,10,20,110,70,\n"
    "site/b.jpg,bob,,,,,,,\n"
)


def environment(tmp_path: Path, name: str) -> dict[str, str]:
    images = tmp_path / "images" / "site"
    if not images.exists():
        images.mkdir(parents=True)
        Image.new("RGB", (640, 480)).save(images / "a.jpg")
        Image.new("RGB", (300, 500)).save(images / "b.jpg")
    return {
        "IMAGE_SOURCE": str(tmp_path / "images"),
        "DATABASE_URL": f"sqlite:///{tmp_path / name / 'annotations.db'}",
        "DATA_DIR": str(tmp_path / name),
        "LABELS": "car,bike",
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    found = environment(tmp_path, "first")
    coco = tmp_path / "gold.json"
    coco.write_text(json.dumps(COCO))
    result = run(found, "import", str(coco), "--format", "coco", "--annotator", "gold")
    assert result.returncode == 0, result.stderr
    assert "2 image(s) (1 with no objects), 2 shape(s) for gold" in result.stdout
    return found


def stored_gold(env: dict[str, str]) -> tuple[list[tuple[object, ...]], dict[str, str]]:
    store = AnnotationStore.from_url(env["DATABASE_URL"])
    try:
        rows = store.export_rows("gold")
    finally:
        store.engine.dispose()
    shapes = sorted(
        (r.image_key, r.label, r.kind, tuple(r.coords), tuple(map(tuple, r.points)))
        for r in rows.shapes
    )
    return shapes, {key: status for (key, _), status in rows.statuses.items()}


def test_gold_is_a_reserved_account_name_but_an_import_target(env: dict[str, str]) -> None:
    with pytest.raises(AccountError, match="reserved"):
        account_name("gold")

    shapes, statuses = stored_gold(env)

    assert statuses == {"site/a.jpg": "done", "site/b.jpg": "empty"}  # gold counts at once
    assert shapes == [
        ("site/a.jpg", "bike", "polygon", (), ((300.0, 100.0), (400.0, 100.0), (350.0, 200.0))),
        ("site/a.jpg", "car", "rect", (10.0, 20.0, 110.0, 70.0), ()),
    ]


# formats that keep boxes only give the polygon back as its bounding box
BOXES_ONLY = {"csv-normalized", "yolo"}


@pytest.mark.parametrize(
    "format_name", ["coco", "voc", "yolo", "yolo-segments", "labelme", "csv", "csv-normalized"]
)
def test_exported_gold_imports_back_as_the_same_gold(
    env: dict[str, str], tmp_path: Path, format_name: str
) -> None:
    codec = format_name.removesuffix("-segments")
    segments = codec != format_name
    extra = ["--segments"] if segments else []
    out = tmp_path / f"gold-{format_name}.out"
    exported = run(
        env, "export", "--format", codec, "--annotator", "gold", *extra, "--out", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    assert "2 image(s), 2 shape(s) by gold" in exported.stdout

    fresh = environment(tmp_path, "second")
    back = run(fresh, "import", str(out), "--format", codec, "--annotator", "gold")

    assert back.returncode == 0, back.stderr
    original, statuses = stored_gold(env)
    again, statuses_again = stored_gold(fresh)
    assert statuses_again == statuses
    if codec in BOXES_ONLY and not segments:
        original = [
            (key, label, "rect", (300.0, 100.0, 400.0, 200.0), ())
            if kind == "polygon"
            else (key, label, kind, coords, points)
            for key, label, kind, coords, points in original
        ]
        original.sort()
    assert [(k, lab, kind) for k, lab, kind, _, _ in again] == [
        (k, lab, kind) for k, lab, kind, _, _ in original
    ]
    for (_, _, _, coords, points), (_, _, _, want, want_points) in zip(again, original):
        assert coords == pytest.approx(want, abs=0.01)
        assert [c for p in points for c in p] == pytest.approx(
            [c for p in want_points for c in p], abs=0.01
        )


def test_export_of_everyone_gives_gold_its_own_folder_and_a_draft_is_not_gold(
    env: dict[str, str], tmp_path: Path
) -> None:
    store = AnnotationStore.from_url(env["DATABASE_URL"])
    try:  # b.jpg reopened, a reviewer's draft there: gold shapes without a finished status
        ReviewStore(store.engine).clear_review("site/b.jpg", "rev")
        draft = record("site/b.jpg", "gold", 0, "car", (1, 1, 9, 9))
        store.sync_image("site/b.jpg", "gold", [draft], actor="rev")
    finally:
        store.engine.dispose()
    out = tmp_path / "all.zip"

    result = run(env, "export", "--format", "labelme", "--out", str(out))
    table = tmp_path / "gold.csv"
    tidy = run(env, "export", "--format", "csv", "--annotator", "gold", "--out", str(table))

    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        assert sorted(n for n in archive.namelist() if n.startswith("gold/")) == [
            "gold/site/a.json"
        ]
    assert tidy.returncode == 0, tidy.stderr
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert {(r["image"], r["annotator"]) for r in rows} == {("site/a.jpg", "gold")}


def test_agreement_json_scores_everyone_against_gold_and_leaves_gold_out(
    env: dict[str, str], tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    assert run(env, "import", str(people), "--format", "csv").returncode == 0

    result = run(env, "agreement", "--json", "--resamples", "0")
    text = run(env, "agreement", "--resamples", "0")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["annotators"] == ["ann", "bob"] and data["images_with_gold"] == 2
    vs = {row["annotator"]: row["vs_gold"] for row in data["per_annotator"]}
    assert (vs["ann"]["objects_matched"], vs["ann"]["label_accuracy"]) == (2, 0.5)
    assert (vs["ann"]["precision"], vs["ann"]["recall"], vs["ann"]["mean_iou"]) == (1, 1, 1)
    assert vs["bob"]["recall"] == 0.5 and vs["bob"]["precision"] == 1.0
    assert [(p["label"], p["recall"]) for p in vs["bob"]["per_label"]] == [
        ("bike", 0.0),
        ("car", 1.0),
    ]
    assert text.returncode == 0, text.stderr
    assert "Against gold (reviewed annotations, 2 image(s)):" in text.stdout
    lines = text.stdout.splitlines()
    table = lines[lines.index("Against gold (reviewed annotations, 2 image(s)):") :]
    line = next(x for x in table if x.strip().startswith("bob "))
    assert line.split()[-6:] == ["2", "1.000", "0.500", "0.667", "1.000", "1.000"]
