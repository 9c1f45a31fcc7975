"""LabelMe JSON (zip): round trips, the files as LabelMe writes them, and bad files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from formats.archive import unzip, zip_files
from formats.labelme import export_labelme, import_labelme
from formats.model import ExportSet, FormatError, ImageRef, Shape
from formats.registry import CODECS, read_upload
from tests.unit.format_support import (
    LABELS,
    WIDE,
    assert_round_trip,
    export_set,
    images_of,
    read_back,
    rect,
    sample,
)

CIRCLE = Shape("person", "circle", (300.0, 200.0, 380.0, 280.0))  # a true circle


def members(data: ExportSet) -> dict[str, Any]:
    return {name: json.loads(content) for name, content in unzip(export_labelme(data)).items()}


def test_round_trip_keeps_shapes_and_the_empty_image() -> None:
    data = sample(CIRCLE)
    result = read_back("labelme", "export.zip", export_labelme(data), images_of(data))
    assert_round_trip(data, result)


def test_hand_checked_file_contents() -> None:
    files = members(sample(CIRCLE))
    assert list(files) == ["batch1/a.json", "batch1/b.json", "c.json"]
    wide = files["batch1/a.json"]
    assert {k: v for k, v in wide.items() if k != "shapes"} == {
        "version": "5.5.0",
        "flags": {},
        "imagePath": "a.jpg",
        "imageData": None,
        "imageHeight": 480,
        "imageWidth": 640,
    }
    assert wide["shapes"][0] == {
        "label": "person",
        "points": [[10, 20], [110, 70]],
        "group_id": None,
        "description": "",
        "shape_type": "rectangle",
        "flags": {},
        "mask": None,
    }
    shapes = [(s["shape_type"], s["points"]) for s in wide["shapes"]]
    assert shapes[1:] == [
        ("polygon", [[100, 50], [400.5, 120.25], [250, 430]]),
        ("circle", [[340, 240], [380, 240]]),
        ("line", [[600, 10], [20.5, 470]]),
        ("linestrip", [[5, 5], [60, 400], [630, 475]]),
    ]
    tall = files["batch1/b.json"]
    assert (tall["imageWidth"], tall["imageHeight"]) == (300, 500)
    assert files["c.json"]["shapes"] == []
    assert files["c.json"]["imagePath"] == "c.jpg"


def test_an_ellipse_becomes_a_polygon_a_near_circle_stays_a_circle() -> None:
    ellipse = Shape("car", "circle", (300.0, 200.0, 420.0, 260.0))
    nearly = Shape("car", "circle", (10.0, 10.0, 50.0, 50.4))
    data = export_set((WIDE, (ellipse, nearly)))
    first, second = members(data)["batch1/a.json"]["shapes"]
    assert first["shape_type"] == "polygon"
    assert len(first["points"]) == 32
    xs = [p[0] for p in first["points"]]
    ys = [p[1] for p in first["points"]]
    assert (min(xs), min(ys), max(xs), max(ys)) == (300, 200, 420, 260)
    assert second["shape_type"] == "circle"
    assert second["points"] == [[30, 30.2], [50.1, 30.2]]


def test_two_images_with_the_same_stem_get_separate_files() -> None:
    other = ImageRef("batch1/a.png", 640, 480)
    data = export_set((WIDE, (rect(1, 2, 3, 4),)), (other, (rect(5, 6, 7, 8),)))
    content = export_labelme(data)
    assert list(unzip(content)) == ["batch1/a.json", "batch1/a.png.json"]
    result = read_back("labelme", "export.zip", content, images_of(data))
    assert {item.image.key: item.shapes[0].coords for item in result} == {
        WIDE.key: (1, 2, 3, 4),
        other.key: (5, 6, 7, 8),
    }


def labelme_json(shapes: list[Any], **changes: Any) -> bytes:
    doc: dict[str, Any] = {
        "version": "5.2.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": "a.jpg",
        "imageData": None,
        "imageHeight": 480,
        "imageWidth": 640,
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def shape(shape_type: str, points: Any, label: Any = "car") -> dict[str, Any]:
    return {"label": label, "points": points, "group_id": None, "shape_type": shape_type}


def test_reads_files_as_labelme_writes_them() -> None:
    shapes = [
        shape("rectangle", [[110, 70], [10, 20]]),  # dragged up and to the left
        shape("circle", [[100, 100], [103, 104]]),  # rim point off the axis: radius 5
        shape("line", [[5, 6], [1, 2]]),
    ]
    files = {
        "ann/a.json": labelme_json(shapes, imagePath="..\\images\\a.jpg"),
        "ann/a.jpg": b"not read",
    }
    [image] = import_labelme(files)
    assert image.name == "images/a.jpg"
    assert image.size == (640, 480)
    assert image.where == "ann/a.json"
    assert [(s.kind, s.coords, s.where) for s in image.shapes] == [
        ("rect", (10, 20, 110, 70), "ann/a.json: shape 1"),
        ("circle", (95, 95, 105, 105), "ann/a.json: shape 2"),
        ("line", (5, 6, 1, 2), "ann/a.json: shape 3"),
    ]


def test_a_single_json_file_is_read_and_an_image_path_escaping_upwards_is_its_basename() -> None:
    content = labelme_json([], imagePath="../../photos/a.jpg", imageHeight=None)
    [image] = read_upload(CODECS["labelme"], "a.json", content, LABELS)
    assert image.name == "a.jpg"
    assert image.size is None
    assert image.shapes == ()


def bad(*members: tuple[str, bytes]) -> list[str]:
    with pytest.raises(FormatError) as caught:
        import_labelme(dict(members))
    return caught.value.messages


def test_a_zip_without_json_files_is_refused() -> None:
    content = zip_files({"a.jpg": b"image", "notes.txt": b"hi"})
    with pytest.raises(FormatError) as caught:
        read_upload(CODECS["labelme"], "export.zip", content, LABELS)
    assert "no LabelMe .json files were found" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"shapes": [', "x/a.json: not valid JSON: Expecting value (line 1, column 13)"),
        (b"[]", "x/a.json: the top level must be a JSON object"),
        (labelme_json([], imagePath=""), "x/a.json: imagePath is missing"),
        (labelme_json([], imageWidth=-3), "x/a.json: imageWidth and imageHeight must be positive"),
        (
            labelme_json([shape("rectangle", [[1, 2], [3, 4]]), shape("point", [[1, 2]])]),
            "x/a.json: shape 2: shape_type 'point' is not supported",
        ),
        (labelme_json([shape("polygon", [[1, 2]], label=None)]), "x/a.json: shape 1: the label"),
        (
            labelme_json([{"label": "car", "shape_type": "polygon"}]),
            "x/a.json: shape 1: the points",
        ),
        (
            labelme_json([shape("polygon", [[1, "2"], [3, 4], [5, 6]])]),
            "x/a.json: shape 1: points must be [x, y] pairs of numbers",
        ),
        (
            labelme_json([shape("line", [[1, 2], [3, 4], [5, 6]])]),
            "x/a.json: shape 1: a line needs exactly 2 points",
        ),
        (
            labelme_json([shape("linestrip", [[1, 2]])]),
            "x/a.json: shape 1: a linestrip needs at least 2 points",
        ),
    ],
)
def test_bad_files_name_the_member_and_shape(content: bytes, expected: str) -> None:
    messages = bad(("x/a.json", content), ("x/b.json", labelme_json([])))
    assert any(message.startswith(expected) for message in messages), messages


def test_problems_of_every_member_are_reported() -> None:
    messages = bad(
        ("a.json", labelme_json([shape("point", [[1, 2]])])),
        ("b.json", labelme_json([shape("rectangle", [[1, 2]]), shape("polygon", "x")])),
    )
    assert [": ".join(m.split(": ")[:2]) for m in messages] == [
        "a.json: shape 1",
        "b.json: shape 1",
        "b.json: shape 2",
    ]
