"""Fuzz: arbitrary files thrown at every importer, through the same entry as the app's
import card and `cli.py import`.

Each file is either imported or refused with short messages; nothing else escapes, nothing
invalid is stored, and every export and the agreement report still run afterwards.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from formats.registry import CODECS
from formats.resolve import ImportRejected
from storage.runtime import Services
from tests.fuzz_support import any_json, numbers, outputs_still_run, stored_problems
from tests.unit.callback_support import install_services, make_batch
from workflows.exchange import import_annotations

NAMES = ["img01.jpg", "img02.jpg", "nope.jpg", "../img01.jpg", ""]
LABELS = ["car", "person", "=cmd", "<b>x</b>", ""]
MAX_MESSAGE = 2000  # characters a refusal may take, all messages together


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Services:
    root: Path = tmp_path_factory.mktemp("fuzz-imports")
    make_batch(root / "images", [(400, 300), (64, 48)])
    return install_services(root, LABELS="car,person")


def _coco() -> st.SearchStrategy[object]:
    image = st.fixed_dictionaries(
        {"id": st.integers(0, 3) | any_json, "file_name": st.sampled_from(NAMES) | any_json},
        optional={"width": numbers | any_json, "height": numbers | any_json},
    )
    annotation = st.fixed_dictionaries(
        {
            "image_id": st.integers(0, 3) | any_json,
            "category_id": st.integers(0, 3) | any_json,
        },
        optional={
            "bbox": st.lists(numbers, max_size=6) | any_json,
            "segmentation": st.lists(st.lists(numbers, max_size=10), max_size=2) | any_json,
            "score": numbers | any_json,
        },
    )
    category = st.fixed_dictionaries(
        {"id": st.integers(0, 3) | any_json, "name": st.sampled_from(LABELS) | any_json}
    )
    return st.fixed_dictionaries(
        {
            "images": st.lists(image, max_size=3) | any_json,
            "annotations": st.lists(annotation, max_size=4) | any_json,
            "categories": st.lists(category, max_size=3) | any_json,
        }
    )


def _labelme() -> st.SearchStrategy[object]:
    shape = st.fixed_dictionaries(
        {
            "label": st.sampled_from(LABELS) | any_json,
            "shape_type": st.sampled_from(["rectangle", "polygon", "circle", "line", "linestrip"])
            | any_json,
            "points": st.lists(st.lists(numbers, max_size=3), max_size=6) | any_json,
        }
    )
    return st.fixed_dictionaries(
        {
            "imagePath": st.sampled_from(NAMES) | any_json,
            "shapes": st.lists(shape, max_size=3) | any_json,
        },
        optional={"imageWidth": numbers | any_json, "imageHeight": numbers | any_json},
    )


def _text_line() -> st.SearchStrategy[str]:
    token = st.sampled_from(["0", "1", "0.5", "-1", "nan", "inf", "1e308", "car", ","]) | st.text(
        max_size=5
    )
    return st.lists(token, max_size=7).map(" ".join)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _upload(data: st.DataObject, codec: str) -> tuple[str, bytes]:
    """A file for one codec: sometimes structured like the real thing, sometimes anything."""
    if data.draw(st.booleans(), label="raw bytes"):
        return f"f.{CODECS[codec].extension}", data.draw(st.binary(max_size=300))
    if codec == "coco":
        return "f.json", json.dumps(data.draw(_coco() | any_json)).encode()
    if codec == "labelme":
        return "img01.json", json.dumps(data.draw(_labelme() | any_json)).encode()
    lines = "\n".join(data.draw(st.lists(_text_line(), max_size=5))).encode()
    if codec == "yolo":
        yaml = data.draw(st.sampled_from([b"names: [car, person]\n", b"names: {0: car}\n", b""]))
        return "f.zip", _zip({"data.yaml": yaml, "labels/img01.txt": lines})
    if codec == "voc":
        xml = (
            b"<annotation><filename>img01.jpg</filename><size><width>400</width>"
            b"<height>300</height></size><object><name>car</name><bndbox><xmin>"
            + data.draw(
                st.sampled_from([b"1", b"-5", b"nan", b"1e999", b"x", b"450"]) | st.binary()
            )
            + b"</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>"
        )
        return "f.zip", _zip({"img01.xml": xml})
    header = b"image,annotator,label,kind,x0,y0,x1,y1,points\n"
    return "f.csv", header + lines


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(data=st.data())
def test_every_importer_imports_or_refuses_with_a_short_reason(services, data):
    codec = data.draw(st.sampled_from(sorted(CODECS)), label="format")
    filename, content = _upload(data, codec)
    try:
        import_annotations(services, codec, filename, content, annotator="fuzz")
        event(f"{codec}: imported")
    except ImportRejected as exc:
        event(f"{codec}: refused")
        text = "; ".join(exc.messages)
        assert exc.messages and text.strip(), "a refusal says why"
        assert len(text) <= MAX_MESSAGE * max(1, len(exc.messages)) and len(str(exc)) < 4000


def test_after_the_import_fuzz_nothing_invalid_is_stored_and_outputs_run(services):
    assert stored_problems(services) == []
    outputs_still_run(services)
