"""Tidy and normalized CSV: file contents, round trips and refusals."""

from __future__ import annotations

import csv
import io

import pytest

from formats.csv_normalized import export_csv_normalized, import_csv_normalized
from formats.csv_tidy import export_csv, import_csv
from formats.model import ExportSet, FormatError, ImageAnnotations, ImageRef, Shape
from formats.registry import CODECS, read_upload
from formats.resolve import resolve

WIDE = ImageRef("batch1/wide.jpg", 640, 480)
TALL = ImageRef("tall.png", 300, 500)
LABELS = ("person", "animal")
RECT = Shape("person", "rect", (10.0, 20.0, 110.0, 70.0))
POLY = Shape("animal", "polygon", (), ((5.0, 6.0), (250.0, 40.5), (120.25, 470.0)))


def sample() -> ExportSet:
    return ExportSet(
        LABELS,
        (
            ImageAnnotations(WIDE, "alice", (RECT, POLY)),
            ImageAnnotations(WIDE, "bob", ()),
            ImageAnnotations(TALL, "alice", (Shape("person", "rect", (0.0, 0.0, 300.0, 500.0)),)),
        ),
    )


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_tidy_csv_has_one_row_per_shape_and_a_marker_for_no_objects() -> None:
    table = rows(export_csv(sample()))

    assert table[0] == ["image", "annotator", "label", "kind", "x0", "y0", "x1", "y1", "points"]
    assert table[1] == ["batch1/wide.jpg", "alice", "person", "rect", "10", "20", "110", "70", ""]
    assert table[2][:8] == ["batch1/wide.jpg", "alice", "animal", "polygon", "5", "6", "250", "470"]
    assert table[2][8] == "[[5.0, 6.0], [250.0, 40.5], [120.25, 470.0]]"
    assert table[3] == ["batch1/wide.jpg", "bob", "", "", "", "", "", "", ""]


def test_tidy_csv_round_trip_keeps_annotators_shapes_and_empty_images() -> None:
    data = export_csv(sample())
    raw = read_upload(CODECS["csv"], "a.csv", data, LABELS)
    back = resolve(raw, {WIDE.key: WIDE, TALL.key: TALL}, LABELS, "import")

    assert back == sorted(sample().items, key=lambda i: (i.image.key, i.annotator))


def test_tidy_csv_annotator_column_wins_and_the_default_fills_empty_cells() -> None:
    data = b"image,annotator,label,kind,x0,y0,x1,y1,points\n" + (
        b"tall.png,,person,rect,1,2,3,4,\ntall.png,carol,person,rect,5,6,7,8,\n"
    )
    back = resolve(import_csv({"p.csv": data}), {"tall.png": TALL}, LABELS, "model")

    assert [(i.annotator, i.shapes[0].coords) for i in back] == [
        ("carol", (5.0, 6.0, 7.0, 8.0)),
        ("model", (1.0, 2.0, 3.0, 4.0)),
    ]


def test_normalized_csv_values_are_fractions_of_width_and_height() -> None:
    table = rows(export_csv_normalized(sample()))

    assert table[0] == ["image", "label", "x0", "y0", "x1", "y1"]
    x0, y0, x1, y1 = (float(v) for v in table[1][2:])
    assert (x0, y0, x1, y1) == pytest.approx((10 / 640, 20 / 480, 110 / 640, 70 / 480))
    assert table[3] == ["batch1/wide.jpg", "", "", "", "", ""]  # bob found nothing


def test_normalized_csv_round_trip_gives_boxes_in_pixels() -> None:
    one = ExportSet(LABELS, sample().items[:1] + sample().items[2:])
    raw = read_upload(CODECS["csv-normalized"], "n.csv", export_csv_normalized(one), LABELS)
    back = resolve(raw, {WIDE.key: WIDE, TALL.key: TALL}, LABELS, "alice")

    wide = back[0].shapes
    assert (wide[0].label, wide[0].kind) == ("person", "rect")
    assert wide[0].coords == pytest.approx(RECT.coords, abs=0.01)
    # a polygon becomes its bounding box: this format holds boxes only
    assert wide[1].kind == "rect"
    assert wide[1].coords == pytest.approx((5.0, 6.0, 250.0, 470.0), abs=0.01)
    assert back[1].shapes[0].coords == pytest.approx((0.0, 0.0, 300.0, 500.0))


def test_normalized_csv_no_objects_round_trip() -> None:
    empty = ExportSet(LABELS, (ImageAnnotations(TALL, "bob", ()),))
    raw = import_csv_normalized({"n.csv": export_csv_normalized(empty)})

    assert resolve(raw, {TALL.key: TALL}, LABELS, "bob") == list(empty.items)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image,label,xmin,ymin,xmax,ymax\n", r"line 1: missing column\(s\) x0, y0, x1, y1"),
        ("image,label,x0,y0,x1,y1\na.jpg,person,0.1,0.2,zero,0.4\n", "line 2: x1 = 'zero'"),
        ("image,label,x0,y0,x1,y1\na.jpg,person,0.1,0.2,1.5,0.4\n", "line 2: coordinates must"),
        ("image,label,x0,y0,x1,y1\na.jpg,,0.1,0.2,0.3,0.4\n", "line 2: the label cell is empty"),
        ("image,label,x0,y0,x1,y1\n,person,0.1,0.2,0.3,0.4\n", "line 2: the image cell is empty"),
    ],
)
def test_bad_normalized_csv_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        import_csv_normalized({"boxes.csv": text.encode()})


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a.jpg,,person,square,1,2,3,4,", "line 3: kind 'square' is not one of"),
        ('a.jpg,,person,polygon,,,,,"[[1,2],[3"', "line 3: points must be a JSON list"),
        ("a.jpg,,person,polygon,,,,,", "line 3: a polygon needs its points"),
        ("a.jpg,,,rect,1,2,3,4,", "line 3: the label cell is empty"),
        ("a.jpg,,person,rect,1,2,3,4,,extra", "line 3: more cells than columns"),
    ],
)
def test_bad_tidy_csv_is_refused_naming_the_line(row: str, message: str) -> None:
    text = f"image,annotator,label,kind,x0,y0,x1,y1,points\na.jpg,,person,rect,1,2,3,4,\n{row}\n"
    with pytest.raises(FormatError, match=message) as caught:
        import_csv({"shapes.csv": text.encode()})
    assert caught.value.messages[0].startswith("shapes.csv: line 3")


def test_csv_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(FormatError, match="not UTF-8"):
        import_csv({"latin.csv": "image,annotator\ncafé".encode("latin-1")})
