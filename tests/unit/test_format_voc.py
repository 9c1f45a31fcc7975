"""Pascal VOC XML: round trips through upload and resolve, the XML itself, bad files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from formats.archive import zip_files
from formats.model import ExportSet, FormatError, ImageAnnotations, ImageRef, Shape
from formats.registry import codec_for, read_upload
from formats.resolve import ImportRejected, resolve
from formats.voc import export_voc, import_voc
from tests.unit.format_support import (
    EMPTY,
    LABELS,
    POLYGON,
    RECT,
    TALL,
    WIDE,
    assert_same_shapes,
    export_set,
    images_of,
    read_back,
    zip_members,
)


def round_trip(data: ExportSet) -> dict[str, tuple[Shape, ...]]:
    """Export, upload as a user would, resolve against the images: key -> shapes."""
    result = read_back("voc", "export.zip", export_voc(data), images_of(data))
    return {item.image.key: item.shapes for item in result}


def voc_xml(objects: str = "", path: str = "a.jpg", folder: str = "", size: str = "") -> bytes:
    size = size or "<width>640</width><height>480</height>"
    return (
        f"<annotation><folder>{folder}</folder><filename>a.jpg</filename><path>{path}</path>"
        f"<size>{size}<depth>3</depth></size>{objects}</annotation>"
    ).encode()


def box(xmin: str = "1", ymin: str = "2", xmax: str = "30", ymax: str = "40") -> str:
    return (
        f"<object><name>person</name><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin>"
        f"<xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>"
    )


def messages(files: dict[str, bytes]) -> str:
    with pytest.raises(FormatError) as caught:
        import_voc(files)
    return " | ".join(caught.value.messages)


def test_rects_polygons_and_empty_images_survive_a_round_trip_on_non_square_images():
    tall_polygon = Shape("car", "polygon", points=((12.3, 450.7), (290.0, 10.0), (150.0, 499.0)))
    whole = Shape("person", "rect", (0.0, 0.0, 300.0, 500.0))
    data = export_set((WIDE, (RECT, POLYGON)), (TALL, (whole, tall_polygon)), (EMPTY, ()))

    got = round_trip(data)

    assert set(got) == {"batch1/a.jpg", "b.png", "batch1/c.jpg"}
    assert_same_shapes(got["batch1/a.jpg"], (RECT, POLYGON))
    assert_same_shapes(got["b.png"], (whole, tall_polygon))
    assert got["batch1/c.jpg"] == ()


def test_circles_lines_and_paths_come_back_with_their_kind_and_line_direction():
    circle = Shape("car", "circle", (100.0, 100.0, 160.0, 140.0))
    backwards_line = Shape("person", "line", (250.0, 400.0, 20.5, 30.25))
    path = Shape("car", "path", points=((5.0, 5.0), (50.0, 90.0), (120.0, 10.0)))

    got = round_trip(export_set((TALL, (circle, backwards_line, path))))

    assert_same_shapes(got["b.png"], (circle, backwards_line, path))


def test_the_xml_states_the_box_in_pixels_with_no_shift_and_the_image_size():
    archive = zip_members(export_voc(export_set((WIDE, (RECT,)), (TALL, ()))))

    assert sorted(archive) == ["Annotations/b.xml", "Annotations/batch1/a.xml"]
    root = ET.fromstring(archive["Annotations/batch1/a.xml"])
    assert root.findtext("folder") == "batch1"
    assert root.findtext("filename") == "a.jpg"
    assert root.findtext("path") == "batch1/a.jpg"
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("640", "480")
    (obj,) = root.findall("object")
    assert obj.findtext("name") == "person"
    assert [obj.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == [
        "10",
        "20",
        "110",
        "70",
    ]
    assert obj.find("shape") is None  # a plain VOC box


def test_an_image_with_no_shapes_gets_an_xml_without_objects():
    archive = zip_members(export_voc(export_set((TALL, ()))))

    root = ET.fromstring(archive["Annotations/b.xml"])
    assert root.findtext("folder") == ""
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("300", "500")
    assert root.findall("object") == []


def test_a_polygon_carries_its_bounding_box_and_its_points():
    archive = zip_members(export_voc(export_set((WIDE, (POLYGON,)))))

    obj = ET.fromstring(archive["Annotations/batch1/a.xml"]).find("object")
    assert obj is not None
    assert [obj.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == [
        "100.5",
        "50.25",
        "300",
        "400.75",
    ]
    assert obj.findtext("shape") == "polygon"
    points = [(pt.findtext("x"), pt.findtext("y")) for pt in obj.iterfind("points/pt")]
    assert points == [("100.5", "50.25"), ("300", "60"), ("200", "400.75")]


def test_the_image_name_is_a_relative_path_else_folder_and_filename_else_filename():
    files = {
        "relative.xml": voc_xml(path="batch1/a.jpg", folder="ignored"),
        "absolute.xml": voc_xml(path="/home/me/images/a.jpg", folder="images"),
        "drive.xml": voc_xml(path="C:\\data\\a.jpg"),
        "escaping.xml": voc_xml(path="../a.jpg"),
    }

    names = {image.where: image.name for image in import_voc(files)}

    assert names == {
        "relative.xml": "batch1/a.jpg",
        "absolute.xml": "images/a.jpg",
        "drive.xml": "a.jpg",
        "escaping.xml": "a.jpg",
    }


def test_a_stated_size_is_kept_and_a_zero_size_means_unknown():
    files = {
        "sized.xml": voc_xml(),
        "zero.xml": voc_xml(size="<width>0</width><height>0</height>"),
    }

    sizes = {image.where: image.size for image in import_voc(files)}

    assert sizes == {"sized.xml": (640, 480), "zero.xml": None}


def test_a_size_that_differs_from_the_image_is_rejected_by_resolve():
    raw = import_voc({"Annotations/a.xml": voc_xml(objects=box())})

    with pytest.raises(ImportRejected) as caught:
        resolve(raw, {"a.jpg": ImageRef("a.jpg", 480, 640)}, LABELS, "bob")
    assert "Annotations/a.xml: the file says 640x480 pixels" in caught.value.messages[0]


def test_shapes_name_their_member_and_object_number():
    raw = import_voc({"Annotations/a.xml": voc_xml(objects=box() + box())})

    assert [shape.where for shape in raw[0].shapes] == [
        "Annotations/a.xml: object 1",
        "Annotations/a.xml: object 2",
    ]
    assert raw[0].shapes[0].coords == (1.0, 2.0, 30.0, 40.0)


def test_an_archive_without_xml_files_is_refused():
    with pytest.raises(FormatError, match="no Pascal VOC .xml files"):
        read_upload(codec_for("voc"), "up.zip", zip_files({"readme.txt": b"hi"}), LABELS)


def test_malformed_xml_names_the_member_and_line():
    bad = b"<annotation>\n<filename>a.jpg</filename>\n<size></annotation>"

    text = messages({"Annotations/a.xml": bad})

    assert text.startswith("Annotations/a.xml: line 3: not well-formed XML")


def test_a_dtd_is_refused_before_any_entity_is_expanded():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<annotation><filename>&lol2;</filename></annotation>"
    )

    assert messages({"Annotations/a.xml": laughs}) == "Annotations/a.xml: DTDs are not allowed"


def test_a_dtd_in_utf16_is_refused_too():
    laughs = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE a [<!ENTITY x "y">]><annotation/>'

    text = messages({"Annotations/a.xml": laughs.encode("utf-16")})

    assert text == "Annotations/a.xml: DTDs are not allowed"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ("<object><name>person</name></object>", "object 2: no <bndbox>"),
        (box(xmax=""), "object 2: <bndbox> has no <xmax>"),
        (box(ymin="top"), "object 2: ymin = 'top' is not a number"),
        (box(xmin="50", xmax="30"), "object 2: xmax < xmin or ymax < ymin"),
        (box(ymin="50", ymax="40"), "object 2: xmax < xmin or ymax < ymin"),
        (box().replace("<name>person</name>", ""), "object 2: no <name>"),
        (box().replace("</bndbox>", "</bndbox><shape>star</shape>"), "object 2: <shape> 'star'"),
        (box().replace("</bndbox>", "</bndbox><shape>polygon</shape>"), "object 2: a polygon"),
    ],
)
def test_a_bad_object_names_the_member_and_its_number(obj: str, expected: str):
    text = messages({"Annotations/a.xml": voc_xml(objects=box() + obj)})

    assert text.startswith(f"Annotations/a.xml: {expected}")


def test_problems_of_every_file_are_reported_together():
    files = {
        "Annotations/a.xml": voc_xml(objects=box(xmin="x")),
        "Annotations/b.xml": b"<annotation>",
    }

    with pytest.raises(FormatError) as caught:
        import_voc(files)
    assert [m.split(":")[0] for m in caught.value.messages] == [
        "Annotations/a.xml",
        "Annotations/b.xml",
    ]


def test_a_foreign_root_element_is_refused():
    assert messages({"a.xml": b"<svg/>"}) == "a.xml: the root element is <svg>, not <annotation>"


def test_two_images_of_the_same_stem_get_distinct_files_and_both_come_back():
    jpg = ImageRef("a.jpg", 640, 480)
    png = ImageRef("a.png", 300, 500)

    archive = zip_members(export_voc(export_set((jpg, (RECT,)), (png, ()))))
    got = round_trip(export_set((jpg, (RECT,)), (png, ())))

    assert sorted(archive) == ["Annotations/a.png.xml", "Annotations/a.xml"]
    assert_same_shapes(got["a.jpg"], (RECT,))
    assert got["a.png"] == ()


def test_markup_in_labels_and_names_is_escaped_and_comes_back() -> None:
    image = ImageRef('R&D/<odd> "name".jpg', 64, 48)
    shapes = (Shape('a<b & "c"', "polygon", (), ((1.0, 2.0), (30.0, 4.0), (10.0, 40.0))),)
    data = ExportSet(('a<b & "c"',), (ImageAnnotations(image, "alice", shapes),))

    content = export_voc(data)
    member = zip_members(content)['Annotations/R&D/<odd> "name".xml']
    ET.fromstring(member)  # well-formed
    back = import_voc(zip_members(content))

    assert back[0].name == image.key
    assert back[0].shapes[0].label == 'a<b & "c"'
    assert back[0].shapes[0].points == shapes[0].points
