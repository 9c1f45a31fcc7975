"""`python cli.py train`: people's labels teach the detector's label head, which `predict`
then applies; too little data is refused in one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from domain.annotation import Annotation
from storage.annotation_store import AnnotationStore
from tests.integration.test_cli import run
from tests.unit.plugin_detector import write_square_images

PEOPLE = {"red": "food", "blue": "vehicle"}


def square_project(tmp_path: Path, database_url: str, count: int) -> tuple[dict[str, str], dict]:
    """Square images in batch 'site', each labelled by ana after its colour."""
    truth = write_square_images(tmp_path / "images" / "site", count)
    store = AnnotationStore.from_url(database_url)
    try:
        store.replace_images(
            [
                (
                    f"site/{name}",
                    "ana",
                    [
                        Annotation(
                            f"ana-{name}",
                            f"site/{name}",
                            "ana",
                            PEOPLE[colour],
                            "rect",
                            tuple(map(float, box)),
                        )
                    ],
                )
                for name, (colour, box) in truth.items()
            ],
            actor="ana",
        )
    finally:
        store.engine.dispose()
    env = {
        "IMAGE_SOURCE": str(tmp_path / "images"),
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "DETECTOR": "tests.unit.plugin_detector:squares",
        "LABEL_MAP": "",
        "LABELS": "person,animal,vehicle,food,object",
    }
    return env, truth


def test_train_learns_peoples_labels_and_predict_applies_them(
    tmp_path: Path, sqlite_database_url: str
) -> None:
    env, truth = square_project(tmp_path, sqlite_database_url, 70)

    before_predict = run(env, "train")
    first = run(env, "predict", "--min-score", "0.1")
    trained = run(env, "train", "--json")
    text = run(env, "train", "--precision", "0.8")
    second = run(env, "predict", "--min-score", "0.1", "--json")
    out = tmp_path / "model.csv"
    exported = run(
        env, "export", "--format", "csv", "--annotator", "model:squares", "--out", str(out)
    )

    assert before_predict.returncode == 1
    assert before_predict.stderr.startswith("error: no shapes of model:squares stored")
    assert first.returncode == 0, first.stderr
    assert "detector squares 1.0;" in first.stdout
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["version"] == "1.0+head1"
    assert (report["objects"], report["boxes"], report["matched"]) == (70, 140, 70)
    held = report["held_out"]
    assert held["images"] == 14 and held["objects"] == 14
    assert held["accuracy_before"] <= 0.6 and held["accuracy_after"] > 0.9
    assert set(report["thresholds"]) == {"food", "vehicle"}
    assert all(t["precision"] >= 0.9 for t in report["thresholds"].values())
    assert Path(report["path"]).name == "head-1.json"
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("trained 1.0+head2 for detector squares")
    assert "held-out label accuracy (14 object(s) on 14 image(s)): before 0." in text.stdout
    assert "score thresholds for precision 0.8:" in text.stdout
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["version"] == "1.0+head2"
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    right = sum(
        any(
            row["image"] == f"site/{name}"
            and row["label"] == PEOPLE[colour]
            and float(row["x0"]) == box[0]
            for row in rows
        )
        for name, (colour, box) in truth.items()
    )
    assert right >= 66  # relabelled after the colour, not all food


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["train"], "error: too little to learn from: 8 object(s) of 2 label(s) on 8 image(s)"),
        (["train", "--precision", "1.5"], "error: --precision 1.5 is outside (0, 1]"),
    ],
)
def test_train_refuses_too_little_data_in_one_line(
    tmp_path: Path, sqlite_database_url: str, args: list[str], reason: str
) -> None:
    env, _ = square_project(tmp_path, sqlite_database_url, 8)
    assert run(env, "predict", "--min-score", "0.1").returncode == 0

    result = run(env, *args)

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(reason)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "models" / "squares").exists()
