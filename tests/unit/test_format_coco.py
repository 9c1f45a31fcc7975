"""COCO JSON: round trips, the file as COCO tools read it, and bad files."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pycocotools.coco import COCO

from formats.coco import export_coco, import_coco, polygon_area
from formats.model import ExportSet, FormatError, ImageAnnotations, Shape
from tests.unit.format_support import (
    LABELS,
    TRIANGLE,
    WIDE,
    assert_round_trip,
    images_of,
    read_back,
    rect,
    sample,
)

ELLIPSE = Shape("person", "circle", (300.0, 200.0, 420.0, 260.0))


def document(data: ExportSet) -> dict[str, Any]:
    return json.loads(export_coco(data).decode("utf-8"))


def test_round_trip_keeps_every_kind_and_the_empty_image() -> None:
    data = sample(ELLIPSE)
    result = read_back("coco", "export.json", export_coco(data), images_of(data))
    assert_round_trip(data, result)


def test_hand_checked_file_contents() -> None:
    doc = document(sample(ELLIPSE))
    assert doc["info"]["description"] == "Concord export"
    assert doc["licenses"] == []
    assert doc["categories"] == [
        {"id": 1, "name": "person", "supercategory": ""},
        {"id": 2, "name": "car", "supercategory": ""},
    ]
    assert doc["images"] == [
        {"id": 1, "file_name": "batch1/a.jpg", "width": 640, "height": 480},
        {"id": 2, "file_name": "batch1/b.png", "width": 300, "height": 500},
        {"id": 3, "file_name": "c.jpg", "width": 300, "height": 500},
    ]
    anns = doc["annotations"]
    assert [a["id"] for a in anns] == [1, 2, 3, 4, 5, 6, 7]
    assert [a["image_id"] for a in anns] == [1, 1, 1, 1, 1, 2, 2]
    box = anns[0]
    assert box["category_id"] == 1
    assert box["bbox"] == [10, 20, 100, 50]
    assert box["area"] == 5000
    assert box["segmentation"] == [[10, 20, 110, 20, 110, 70, 10, 70]]
    assert box["iscrowd"] == 0
    assert box["attributes"] == {"kind": "rect"}
    polygon = anns[1]
    assert polygon["category_id"] == 2
    assert polygon["bbox"] == [100, 50, 300.5, 380]
    assert polygon["segmentation"] == [[100, 50, 400.5, 120.25, 250, 430]]
    # shoelace by hand: |100*(120.25-430) + 400.5*(430-50) + 250*(50-120.25)| / 2
    assert polygon["area"] == pytest.approx(abs(-30975 + 152190 - 17562.5) / 2)
    circle = anns[2]
    assert circle["bbox"] == [300, 200, 120, 60]
    assert circle["attributes"] == {"kind": "circle"}
    assert len(circle["segmentation"][0]) == 64
    # a 32-gon inscribed in the ellipse: a little under pi * 60 * 30
    assert 0.98 * np.pi * 60 * 30 < circle["area"] < np.pi * 60 * 30
    line = anns[3]
    assert line["bbox"] == [20.5, 10, 579.5, 460]
    assert line["segmentation"] == []
    assert line["area"] == 0
    assert line["attributes"] == {"kind": "line", "points": [[600, 10], [20.5, 470]]}
    assert anns[4]["attributes"]["points"] == [[5, 5], [60, 400], [630, 475]]


def test_an_image_of_two_annotators_is_listed_once() -> None:
    data = ExportSet(
        LABELS,
        (
            ImageAnnotations(WIDE, "alice", (rect(1, 2, 3, 4),)),
            ImageAnnotations(WIDE, "bob", (rect(5, 6, 7, 8),)),
        ),
    )
    doc = document(data)
    assert [image["file_name"] for image in doc["images"]] == [WIDE.key]
    assert [a["image_id"] for a in doc["annotations"]] == [1, 1]


def test_pycocotools_reads_boxes_areas_and_masks(tmp_path: Any) -> None:
    data = sample(ELLIPSE)
    path = tmp_path / "export.json"
    path.write_bytes(export_coco(data))
    coco = COCO(str(path))
    assert sorted(coco.getImgIds()) == [1, 2, 3]
    assert coco.loadImgs(1)[0]["file_name"] == "batch1/a.jpg"
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(LABELS)
    ours = document(data)["annotations"]
    theirs = coco.loadAnns(coco.getAnnIds(imgIds=[1, 2, 3]))
    assert [a["bbox"] for a in theirs] == [a["bbox"] for a in ours]
    assert [a["area"] for a in theirs] == [a["area"] for a in ours]
    assert coco.getAnnIds(imgIds=[3]) == []

    mask = coco.annToMask(theirs[1])  # the triangle on the 640x480 image
    assert mask.shape == (480, 640)
    expected_area = polygon_area(TRIANGLE)
    assert abs(int(mask.sum()) - expected_area) < 0.03 * expected_area
    # pixel column c covers x in [c, c + 1): the mask spans [min, max + 1)
    rows, cols = np.nonzero(mask)
    assert abs(cols.min() - 100) <= 1 and abs(cols.max() + 1 - 400.5) <= 1
    assert abs(rows.min() - 50) <= 1 and abs(rows.max() + 1 - 430) <= 1

    box_rows, box_cols = np.nonzero(coco.annToMask(theirs[0]))  # the box (10,20)-(110,70)
    assert len(box_rows) == pytest.approx(5000, rel=0.03)
    assert abs(box_cols.min() - 10) <= 1 and abs(box_cols.max() + 1 - 110) <= 1
    assert abs(box_rows.min() - 20) <= 1 and abs(box_rows.max() + 1 - 70) <= 1


def foreign_file(**changes: Any) -> bytes:
    """A COCO file as another tool writes it: no attributes, one image, one category."""
    doc: dict[str, Any] = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 640, "height": 480}],
        "categories": [{"id": 3, "name": "car"}],
        "annotations": [
            {"id": 11, "image_id": 7, "category_id": 3, "bbox": [10, 20, 30, 40], "iscrowd": 0}
        ],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def annotation(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": 11, "image_id": 7, "category_id": 3, "bbox": [10, 20, 30, 40]}
    return base | fields


def test_foreign_segmentations_become_polygons_or_boxes() -> None:
    anns = [
        annotation(id=1, segmentation=[[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30, 20, 30]]),
        annotation(id=2, segmentation={"size": [480, 640], "counts": "abc"}, iscrowd=1),
        annotation(id=3, segmentation=[]),
        annotation(id=4, attributes={"occluded": False}),  # CVAT's attributes
    ]
    [image] = import_coco({"in.json": foreign_file(annotations=anns)})
    assert image.name == "a.jpg"
    assert image.size == (640, 480)
    assert image.where == "in.json: image id 7"
    kinds = [(s.kind, s.label, s.where) for s in image.shapes]
    assert kinds == [
        ("polygon", "car", "in.json: annotation id 1 part 1"),
        ("polygon", "car", "in.json: annotation id 1 part 2"),
        ("rect", "car", "in.json: annotation id 2"),
        ("rect", "car", "in.json: annotation id 3"),
        ("rect", "car", "in.json: annotation id 4"),
    ]
    assert image.shapes[1].points == ((20, 20), (30, 20), (30, 30), (20, 30))
    assert image.shapes[2].coords == (10, 20, 40, 60)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"images": [}', "in.json: not valid JSON: Expecting value (line 1, column 13)"),
        (b"[1, 2]", "in.json: the top level must be a JSON object"),
        (b'{"images": []}', "in.json: missing 'annotations', 'categories'"),
        (
            foreign_file(annotations=[annotation(image_id=8)]),
            "in.json: annotation id 11: image_id 8 is not among the images",
        ),
        (
            foreign_file(annotations=[annotation(category_id=1)]),
            "in.json: annotation id 11: category_id 1 is not among the categories",
        ),
        (
            foreign_file(annotations=[annotation(bbox=[1, 2, 3])]),
            "in.json: annotation id 11: bbox must be 4 numbers",
        ),
        (
            foreign_file(annotations=[annotation(bbox=[1, 2, "3", 4])]),
            "in.json: annotation id 11: bbox must be 4 numbers",
        ),
        (
            foreign_file(annotations=[annotation(bbox=[1, 2, 3, -4])]),
            "in.json: annotation id 11: bbox width and height must not be negative",
        ),
        (
            foreign_file(annotations=[annotation(attributes={"kind": "line"})]),
            "in.json: annotation id 11: attributes.points must be a list of [x, y] pairs",
        ),
        (
            foreign_file(images=[{"id": 7, "width": 640, "height": 480}]),
            "in.json: image id 7: file_name is missing",
        ),
        (
            foreign_file(images=[{"id": 7, "file_name": "a.jpg", "height": 480}]),
            "in.json: image id 7: width and height must be numbers",
        ),
        (
            foreign_file(images=[{"id": 7, "file_name": "a.jpg", "width": 0, "height": 480}]),
            "in.json: image id 7: width and height must be positive",
        ),
        (
            foreign_file(
                images=[
                    {"id": 7, "file_name": "a.jpg", "width": 640, "height": 480},
                    {"id": 7, "file_name": "b.jpg", "width": 640, "height": 480},
                ]
            ),
            "in.json: image id 7: image id 7 appears more than once",
        ),
        (
            foreign_file(categories=[{"id": 3}]),
            "in.json: category id 3: the category has no name",
        ),
    ],
)
def test_bad_files_name_the_file_and_record(content: bytes, expected: str) -> None:
    with pytest.raises(FormatError) as caught:
        import_coco({"in.json": content})
    assert any(message.startswith(expected) for message in caught.value.messages), (
        caught.value.messages
    )


def test_every_problem_of_a_file_is_reported() -> None:
    anns = [annotation(id=1, image_id=99), annotation(id=2, bbox=[0, 0, -1, 5])]
    with pytest.raises(FormatError) as caught:
        import_coco({"in.json": foreign_file(annotations=anns)})
    assert [m.split(":")[1].strip() for m in caught.value.messages] == [
        "annotation id 1",
        "annotation id 2",
    ]
