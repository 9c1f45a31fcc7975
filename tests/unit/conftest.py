"""Shared builders for unit tests: a canvas, project labels, fixed clocks and records."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from domain.annotation import Annotation
from domain.editing import Canvas
from domain.labels import Label, parse_labels

CREATED = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)
NOW = datetime(2024, 5, 1, 10, 30, 0, tzinfo=UTC)
LABELS: tuple[Label, ...] = parse_labels("person,animal,vehicle")
CANVAS = Canvas(image_key="batch/photo 1.jpg", width=640, height=480, annotator="alice")


def make_record(record_id: str, kind: str = "rect", **fields: Any) -> Annotation:
    """A stored record of alice's on CANVAS's image, created at CREATED."""
    defaults: dict[str, Any] = {
        "image_key": CANVAS.image_key,
        "annotator": CANVAS.annotator,
        "label": "person",
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    if kind in ("polygon", "path"):
        defaults["points"] = ((10.0, 10.0), (100.0, 20.0), (50.0, 90.0))
    else:
        defaults["coords"] = (10.0, 20.0, 110.0, 220.0)
    defaults.update(fields)
    return Annotation(id=record_id, kind=kind, **defaults)  # type: ignore[arg-type]


@pytest.fixture
def new_id() -> Callable[[], str]:
    """Ids for drawn shapes: new-1, new-2, ..."""
    numbers = count(1)
    return lambda: f"new-{next(numbers)}"


@pytest.fixture(scope="module")
def dash_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app as gunicorn loads it (its data in a temporary folder if first imported here)."""
    before = os.environ.get("DATA_DIR")
    if "app" not in sys.modules:
        os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("scope-app"))
    try:
        yield importlib.import_module("app").app
    finally:
        if before is None:
            os.environ.pop("DATA_DIR", None)
        else:
            os.environ["DATA_DIR"] = before
