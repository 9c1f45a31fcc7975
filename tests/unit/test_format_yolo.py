"""YOLO txt + data.yaml: round trips through upload and resolve, file contents, bad files."""

from __future__ import annotations

import pytest
import yaml

from formats.archive import zip_files
from formats.model import ExportSet, FormatError, Shape
from formats.registry import codec_for, read_upload
from formats.yolo import export_yolo, import_yolo
from tests.unit.format_support import (
    EMPTY,
    LABELS,
    POLYGON,
    RECT,
    TALL,
    WIDE,
    assert_same_shapes,
    export_set,
    read_back,
    zip_members,
)

TALL_POLYGON = Shape("car", "polygon", points=((12.3, 450.7), (290.0, 10.0), (150.0, 499.0)))
WHOLE = Shape("person", "rect", (0.0, 0.0, 300.0, 500.0))
# The images as YOLO names them: the label file's path without labels/ and .txt.
REFS = {"batch1/a": WIDE, "b": TALL, "batch1/c": EMPTY}
DATA_YAML = b"names: [a, b, c, d, e]\n"


def round_trip(data: ExportSet, segments: bool) -> dict[str, tuple[Shape, ...]]:
    """Export, upload as a user would, resolve against the images: key -> shapes."""
    result = read_back("yolo", "export.zip", export_yolo(data, segments=segments), REFS)
    return {item.image.key: item.shapes for item in result}


def messages(files: dict[str, bytes], labels: tuple[str, ...] = LABELS) -> list[str]:
    with pytest.raises(FormatError) as caught:
        import_yolo(files, labels)
    return caught.value.messages


def test_rects_segment_polygons_and_empty_images_survive_a_round_trip():
    data = export_set((WIDE, (RECT, POLYGON)), (TALL, (WHOLE, TALL_POLYGON)), (EMPTY, ()))

    got = round_trip(data, segments=True)

    assert set(got) == {"batch1/a.jpg", "b.png", "batch1/c.jpg"}
    assert_same_shapes(got["batch1/a.jpg"], (RECT, POLYGON))
    assert_same_shapes(got["b.png"], (WHOLE, TALL_POLYGON))
    assert got["batch1/c.jpg"] == ()


def test_without_segments_a_polygon_comes_back_as_its_bounding_box():
    data = export_set((WIDE, (RECT, POLYGON)), (TALL, (TALL_POLYGON,)), (EMPTY, ()))

    got = round_trip(data, segments=False)

    assert_same_shapes(
        got["batch1/a.jpg"], (RECT, Shape("car", "rect", (100.5, 50.25, 300.0, 400.75)))
    )
    assert_same_shapes(got["b.png"], (Shape("car", "rect", (12.3, 10.0, 290.0, 499.0)),))
    assert got["batch1/c.jpg"] == ()


def test_circles_lines_and_paths_are_written_as_their_bounding_boxes():
    line = Shape("person", "line", (250.0, 400.0, 20.0, 30.0))
    path = Shape("car", "path", points=((5.0, 5.0), (50.0, 90.0), (120.0, 10.0)))
    circle = Shape("car", "circle", (100.0, 100.0, 160.0, 140.0))

    got = round_trip(export_set((TALL, (line, path, circle))), segments=True)

    assert_same_shapes(
        got["b.png"],
        (
            Shape("person", "rect", (20.0, 30.0, 250.0, 400.0)),
            Shape("car", "rect", (5.0, 5.0, 120.0, 90.0)),
            Shape("car", "rect", (100.0, 100.0, 160.0, 140.0)),
        ),
    )


def test_a_box_line_is_class_centre_and_size_as_fractions_of_width_and_height():
    archive = zip_members(export_yolo(export_set((WIDE, (RECT,)))))

    # cx = 60/640, cy = 45/480, w = 100/640, h = 50/480
    assert archive["labels/batch1/a.txt"] == b"0 0.093750 0.093750 0.156250 0.104167\n"


def test_a_segment_line_is_class_and_the_points_as_fractions():
    triangle = Shape("car", "polygon", points=((64.0, 48.0), (320.0, 48.0), (320.0, 240.0)))

    archive = zip_members(export_yolo(export_set((WIDE, (triangle,))), segments=True))

    assert archive["labels/batch1/a.txt"] == (
        b"1 0.100000 0.100000 0.500000 0.100000 0.500000 0.500000\n"
    )


def test_data_yaml_lists_the_labels_by_class_id_and_empty_images_get_empty_files():
    archive = zip_members(export_yolo(export_set((TALL, ()))))

    assert sorted(archive) == ["data.yaml", "labels/b.txt"]
    assert archive["labels/b.txt"] == b""
    assert yaml.safe_load(archive["data.yaml"]) == {
        "path": ".",
        "train": "images",
        "val": "images",
        "nc": 2,
        "names": {0: "person", 1: "car"},
    }


def test_without_data_yaml_class_ids_are_the_project_labels_in_order():
    files = {"labels/a.txt": b"1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.1 0.1\n"}

    (image,) = import_yolo(files, LABELS)

    assert image.name == "a"
    assert image.size is None
    assert [(s.label, s.where) for s in image.shapes] == [
        ("car", "labels/a.txt: line 1"),
        ("person", "labels/a.txt: line 3"),
    ]
    assert image.shapes[0].normalized
    assert image.shapes[0].coords == pytest.approx((0.4, 0.3, 0.6, 0.7))


def test_data_yaml_anywhere_with_names_as_a_mapping_wins_over_the_project_labels():
    files = {
        "dataset/data.yaml": b"nc: 2\nnames:\n  0: cat\n  1: dog\n",
        "dataset/train/labels/x/a.txt": b"1 0.5 0.5 0.2 0.2\n",
        "dataset/classes.txt": b"not a label file\n",
    }

    (image,) = import_yolo(files, LABELS)

    assert image.name == "x/a"
    assert [s.label for s in image.shapes] == ["dog"]


def test_a_single_uploaded_txt_is_read_as_the_label_file_of_its_stem():
    raw = read_upload(codec_for("yolo"), "a.txt", b"0 0.5 0.5 0.25 0.25\n", LABELS)

    assert [(image.name, len(image.shapes)) for image in raw] == [("a", 1)]


def test_a_class_id_outside_data_yaml_names_the_file_line_and_names():
    files = {"data.yaml": DATA_YAML, "labels/a.txt": b"0 .5 .5 .1 .1\n\n7 .5 .5 .1 .1\n"}

    assert messages(files) == ["labels/a.txt: line 3: class id 7 is not in data.yaml's 5 names"]


def test_a_class_id_outside_the_project_labels_says_so():
    files = {"labels/a.txt": b"2 .5 .5 .1 .1\n"}

    assert messages(files) == ["labels/a.txt: line 1: class id 2 is not in the project's 2 labels"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"0 0.5 0.5 0.1", "found 4 value(s)"),
        (b"0 0.1 0.1 0.2 0.2 0.3", "found 6 value(s)"),
        (b"0 0.1 0.1 0.2 0.2 0.3 0.3 0.4", "found 8 value(s)"),
        (b"person 0.5 0.5 0.1 0.1", "class id 'person' is not an integer"),
        (b"1.5 0.5 0.5 0.1 0.1", "class id '1.5' is not an integer"),
        (b"0 0.5 abc 0.1 0.1", "value 3 ('abc') is not a number"),
        (b"0 0.5 0.5 -0.1 0.1", "negative width or height"),
        (b"0 0.5 0.5 0.1 -0.1", "negative width or height"),
    ],
)
def test_a_bad_line_names_the_file_and_line(line: bytes, expected: str):
    files = {"labels/batch1/a.txt": b"0 0.5 0.5 0.1 0.1\n" + line + b"\n"}

    (message,) = messages(files)

    assert message.startswith("labels/batch1/a.txt: line 2: ")
    assert expected in message


def test_problems_of_every_label_file_are_reported_together():
    files = {"labels/a.txt": b"9 .5 .5 .1 .1\n", "labels/b.txt": b"0 .5\n0 x .5 .1 .1\n"}

    assert [m.split(": ")[:2] for m in messages(files)] == [
        ["labels/a.txt", "line 1"],
        ["labels/b.txt", "line 1"],
        ["labels/b.txt", "line 2"],
    ]


def test_unreadable_data_yaml_is_named():
    files = {"data.yaml": b"names: [a, b\n", "labels/a.txt": b"0 .5 .5 .1 .1\n"}

    (message,) = messages(files)

    assert message.startswith("data.yaml: not readable YAML")


def test_data_yaml_without_names_is_named():
    files = {"data.yaml": b"nc: 2\n", "labels/a.txt": b"0 .5 .5 .1 .1\n"}

    assert messages(files)[0].startswith("data.yaml: 'names' must be")


def test_an_archive_without_label_files_under_labels_is_refused():
    archive = zip_files({"data.yaml": DATA_YAML, "notes.txt": b"hi", "images/a.txt": b""})

    with pytest.raises(FormatError, match="no YOLO label files"):
        read_upload(codec_for("yolo"), "up.zip", archive, LABELS)


def test_a_label_missing_from_the_export_labels_gets_a_class_after_them():
    stray = Shape("bicycle", "rect", (10.0, 20.0, 110.0, 70.0))

    archive = zip_members(export_yolo(export_set((WIDE, (stray, RECT)))))

    assert yaml.safe_load(archive["data.yaml"])["names"] == {0: "person", 1: "car", 2: "bicycle"}
    lines = archive["labels/batch1/a.txt"].decode().splitlines()
    assert [line.split()[0] for line in lines] == ["2", "0"]
