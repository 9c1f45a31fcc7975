"""Files built to exhaust the server are refused quickly, in little memory, with a short
message saying why (issue 16, point 9). Each bomb is imported in a child process, whose
time and peak memory are measured."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from domain.shape_rules import MAX_SHAPES_PER_IMAGE
from formats import archive
from formats.archive import unzip, zip_files
from formats.model import MAX_MESSAGE_CHARS, MAX_MESSAGES, FormatError
from formats.registry import codec_for, read_upload
from formats.resolve import ImportRejected, reject, resolve
from tests.unit.bomb_support import import_in_child
from tests.unit.format_support import LABELS, WIDE

SECONDS = 5.0  # budget of one refusal (the bombs took 23 s and more before)
MEGABYTES = 64.0  # budget of peak memory growth while refusing (they took 825 MB and more)
BOX = b"0 0.5 0.5 0.1 0.1\n"


def within_budget(outcome, why: str) -> None:
    assert outcome.images == 0, "the bomb was imported"
    assert outcome.seconds < SECONDS, f"took {outcome.seconds:.1f} s"
    assert outcome.grown_mb < MEGABYTES, f"peak memory grew by {outcome.grown_mb:.0f} MB"
    assert len(outcome.text) < 2000, f"a {len(outcome.text):,}-character refusal"
    assert why in outcome.text


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- YAML --------------------------------------------------------------------------------

LAUGHS = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    b"names: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
)


def yolo_zip(data_yaml: bytes) -> bytes:
    return zip_files({"data.yaml": data_yaml, "labels/a.txt": BOX})


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    outcome = import_in_child("yolo", write(tmp_path / "laughs.zip", yolo_zip(LAUGHS)))

    within_budget(outcome, "data.yaml: line 1: YAML anchors and aliases (& and *) are not allowed")


def test_a_yaml_anchor_alone_is_refused_too() -> None:
    with pytest.raises(FormatError, match="anchors and aliases"):
        read_upload(codec_for("yolo"), "y.zip", yolo_zip(b"names: &n [person, car]\n"), LABELS)


def test_a_data_yaml_over_one_megabyte_is_refused() -> None:
    padding = "".join(f"# {n * 7919 % 1000003:07d}\n" for n in range(110_000))
    big = b"names: [person, car]\n" + padding.encode()  # 1,100,021 bytes that deflate 3:1

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("yolo"), "y.zip", yolo_zip(big), LABELS)

    assert caught.value.messages == [
        "data.yaml: 1,100,021 bytes; a data.yaml may have at most 1,000,000"
    ]


def test_a_deeply_nested_data_yaml_is_refused_with_a_message(tmp_path: Path) -> None:
    nested = b"names: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"

    outcome = import_in_child("yolo", write(tmp_path / "deep.zip", yolo_zip(nested)))

    within_budget(outcome, "data.yaml: nested too deeply")


@pytest.mark.parametrize(
    "document",
    [b"names: " + b"9" * 5000, b"names: !!timestamp 2020-99-99", b"names: [a, !!float x]"],
)
def test_a_data_yaml_whose_values_cannot_be_built_is_refused_with_a_message(
    document: bytes,
) -> None:
    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("yolo"), "y.zip", yolo_zip(document), LABELS)

    assert caught.value.messages[0].startswith("data.yaml: not readable YAML (")


def test_an_ordinary_data_yaml_still_names_the_classes() -> None:
    data = yolo_zip(b"path: .\nnames:\n  0: person\n  1: car\n")

    (image,) = read_upload(codec_for("yolo"), "y.zip", data, LABELS)

    assert [shape.label for shape in image.shapes] == ["person"]


# --- zip ---------------------------------------------------------------------------------


def deflated(members: dict[str, int], filler: bytes = b" ") -> bytes:
    """A zip whose members are `size` bytes of `filler`, written without holding them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        out.writestr("data.yaml", b"names: [person, car]\n")
        for name, size in members.items():
            with out.open(name, "w", force_zip64=True) as member:
                member.write(BOX)
                chunk = filler * (1 << 20)
                for _ in range(size // len(chunk)):
                    member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = deflated({"labels/a.txt": 100 << 20})  # 100 MB of spaces in about 100 kB
    assert len(bomb) < 200_000

    outcome = import_in_child("yolo", write(tmp_path / "bomb.zip", bomb))

    within_budget(outcome, "bomb.zip: labels/a.txt is compressed")
    assert "more than 100:1" in outcome.text


def test_a_member_over_the_member_cap_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    data = zip_files({"labels/a.txt": BOX * 100, "labels/b.txt": BOX})

    with pytest.raises(FormatError) as caught:
        unzip(data, "up.zip")

    assert caught.value.messages == [
        "up.zip: labels/a.txt unpacks to 1,800 bytes; one file may have at most 1,000"
    ]


def test_an_archive_over_the_total_cap_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1000)
    data = zip_files({f"labels/{n}.txt": BOX * 20 for n in range(3)})

    with pytest.raises(FormatError) as caught:
        unzip(data, "up.zip")

    assert caught.value.messages == [
        "up.zip: the archive unpacks to 1,080 bytes; an import may unpack to at most 1,000"
    ]


def test_an_archive_with_too_many_files_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    data = zip_files({f"labels/{n}.txt": BOX for n in range(3)})

    with pytest.raises(FormatError, match="up.zip: 3 files in the archive; at most 2"):
        unzip(data, "up.zip")


def test_a_member_that_unpacks_to_more_than_its_header_says_is_refused() -> None:
    data = bytearray(zip_files({"labels/a.txt": BOX * 1000}))
    # Shrink the size stated in the central directory (4 bytes at offset 24 of the entry).
    entry = data.rindex(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (100).to_bytes(4, "little")

    with pytest.raises(FormatError, match="up.zip: labels/a.txt cannot be unpacked"):
        unzip(bytes(data), "up.zip")


def test_a_normal_archive_still_unpacks_in_order() -> None:
    files = {"data.yaml": b"names: [person]\n", "labels/a.txt": BOX, "labels/b.txt": b""}

    assert unzip(zip_files(files), "ok.zip") == files


def test_a_zip_is_refused_for_a_single_file_format_without_unpacking_it(monkeypatch) -> None:
    def unpacked(*args: object) -> dict[str, bytes]:
        raise AssertionError("unpacked a zip the format cannot read")

    monkeypatch.setattr("formats.registry.unzip", unpacked)
    data = zip_files({"instances.json": b"{}"})

    with pytest.raises(FormatError, match="a zip archive, but coco is a single file"):
        read_upload(codec_for("coco"), "c.zip", data, LABELS)


# --- JSON and CSV ------------------------------------------------------------------------

NESTED = b"[" * 100_000 + b"]" * 100_000


def test_deeply_nested_coco_json_is_refused_with_a_message(tmp_path: Path) -> None:
    outcome = import_in_child("coco", write(tmp_path / "instances.json", NESTED))

    within_budget(outcome, "instances.json: the JSON is nested too deeply")


def test_deeply_nested_labelme_json_is_refused_with_a_message(tmp_path: Path) -> None:
    data = zip_files({"a.json": b'{"imagePath": "a.jpg", "shapes": ' + NESTED + b"}"})

    outcome = import_in_child("labelme", write(tmp_path / "labelme.zip", data))

    within_budget(outcome, "a.json: the JSON is nested too deeply")


def test_deeply_nested_points_in_a_csv_cell_are_refused_with_a_message(tmp_path: Path) -> None:
    cell = "[" * 60_000 + "]" * 60_000
    text = f"image,annotator,label,kind,x0,y0,x1,y1,points\na.jpg,,person,path,,,,,{cell}\n"

    outcome = import_in_child("csv", write(tmp_path / "tidy.csv", text.encode()))

    within_budget(outcome, "tidy.csv: line 2: points must be a JSON list of [x, y] pairs")


def test_a_json_file_over_the_size_cap_is_refused(monkeypatch) -> None:
    monkeypatch.setattr("formats.coco.MAX_JSON_BYTES", 100)
    data = json.dumps({"images": [], "annotations": [], "categories": [], "info": "x" * 100})
    assert len(data) == 163

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("coco"), "big.json", data.encode(), LABELS)

    assert caught.value.messages == ["big.json: 163 bytes; a JSON file may have at most 100"]


# --- XML ---------------------------------------------------------------------------------


def test_a_billion_laughs_in_utf16_is_refused_before_expansion(tmp_path: Path) -> None:
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi")
    )
    head = '<?xml version="1.0" encoding="utf-16"?>'
    xml = f"{head}<!DOCTYPE x [{entities}]><annotation>&i;</annotation>"
    data = zip_files({"Annotations/a.xml": xml.encode("utf-16")})

    outcome = import_in_child("voc", write(tmp_path / "voc.zip", data))

    within_budget(outcome, "Annotations/a.xml: DTDs are not allowed")


# --- messages ----------------------------------------------------------------------------


def test_a_file_with_many_bad_lines_gets_a_bounded_refusal() -> None:
    lines = "".join(f"9 0.{n:06d} 0.5 0.1 0.1\n" for n in range(200_000)).encode()
    data = zip_files({"data.yaml": b"names: [person]\n", "labels/a.txt": lines})

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("yolo"), "y.zip", data, LABELS)

    messages = caught.value.messages
    assert len(messages) == MAX_MESSAGES + 1
    assert messages[0] == "labels/a.txt: line 1: class id 9 is not in data.yaml's 1 names"
    assert messages[-1] == "... and 199,950 more problems"


def test_a_long_file_name_is_cut_in_messages() -> None:
    member = "labels/" + "x" * 60_000 + ".txt"
    data = zip_files({"data.yaml": b"names: [person]\n", member: b"0 nope 0 0 0\n"})

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("yolo"), "y.zip", data, LABELS)

    (message,) = caught.value.messages
    assert len(message) <= MAX_MESSAGE_CHARS
    assert message.startswith("labels/xxxx") and message.endswith("('nope') is not a number")
    assert "(60,053 characters)" in message


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_a_huge_label_is_refused_by_the_reader_with_a_short_message(fmt: str) -> None:
    huge = "person" * 20_000
    if fmt == "coco":
        document = {
            "images": [{"id": 1, "file_name": "batch1/a.jpg", "width": 640, "height": 480}],
            "categories": [{"id": 1, "name": huge}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}],
        }
        name, data = "c.json", json.dumps(document).encode()
    else:
        name = "y.zip"
        data = zip_files({"data.yaml": f"names: [{huge}]\n".encode(), "labels/a.txt": BOX})

    with pytest.raises((FormatError, ImportRejected)) as caught:
        raw = read_upload(codec_for(fmt), name, data, LABELS)
        resolve(raw, {"batch1/a.jpg": WIDE, "a": WIDE}, LABELS, "alice")

    error = caught.value
    messages = reject(error, name).messages if isinstance(error, FormatError) else error.messages
    text = "\n".join(messages)
    assert len(text) < 500
    assert "120,000 characters" in text and "longer than 64" in text


# --- what one file may hold ----------------------------------------------------------------


def test_a_yolo_file_with_more_shapes_than_an_image_may_hold_stops_being_read() -> None:
    lines = "".join(f"0 0.5 0.5 0.{n % 9 + 1} 0.1\n" for n in range(MAX_SHAPES_PER_IMAGE + 500))
    data = zip_files({"data.yaml": b"names: [person]\n", "labels/a.txt": lines.encode()})

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("yolo"), "y.zip", data, LABELS)

    assert caught.value.messages == [
        f"labels/a.txt: line {MAX_SHAPES_PER_IMAGE + 1}: more than {MAX_SHAPES_PER_IMAGE:,} "
        f"shapes; an image may hold at most {MAX_SHAPES_PER_IMAGE:,} per annotator"
    ]


def test_millions_of_blank_lines_cost_no_memory(tmp_path: Path) -> None:
    blank = b"0 0.5 0.5 0.1 0.1\n" + b"\n" * 30_000_000 + b"0 0.5 0.5 0.2 0.2\n"

    outcome = import_in_child("yolo", write(tmp_path / "a.txt", blank))

    assert outcome.images == 1 and outcome.messages == []
    assert outcome.grown_mb < MEGABYTES, f"peak memory grew by {outcome.grown_mb:.0f} MB"


def test_a_voc_xml_over_the_size_cap_is_refused(monkeypatch) -> None:
    monkeypatch.setattr("formats.voc.MAX_XML_BYTES", 100)
    xml = b"<annotation><filename>a.jpg</filename>" + b" " * 100 + b"</annotation>"
    assert len(xml) == 151

    with pytest.raises(FormatError) as caught:
        read_upload(codec_for("voc"), "v.zip", zip_files({"Annotations/a.xml": xml}), LABELS)

    assert caught.value.messages == [
        "Annotations/a.xml: 151 bytes; a VOC XML file may have at most 100"
    ]


def test_the_apps_own_zips_may_be_unpacked_without_the_caps(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    data = zip_files({f"labels/{n}.txt": BOX for n in range(3)})

    assert len(unzip(data, "export.zip", capped=False)) == 3
    with pytest.raises(FormatError, match="3 files in the archive"):
        unzip(data, "export.zip")


# --- numbers JSON allows but no image has ----------------------------------------------------


@pytest.mark.parametrize("width", ["Infinity", "NaN", "1e400", "-Infinity"])
def test_an_infinite_or_nan_image_size_is_refused_with_a_message(width: str) -> None:
    coco = (
        f'{{"images": [{{"id": 1, "file_name": "a.jpg", "width": {width}, "height": 10}}],'
        ' "annotations": [], "categories": []}'
    )
    labelme = f'{{"imagePath": "a.jpg", "shapes": [], "imageWidth": {width}, "imageHeight": 10}}'

    with pytest.raises(FormatError, match="image id 1: width and height must be positive"):
        read_upload(codec_for("coco"), "c.json", coco.encode(), LABELS)
    with pytest.raises(FormatError, match="a.json: imageWidth and imageHeight must be positive"):
        read_upload(codec_for("labelme"), "l.zip", zip_files({"a.json": labelme.encode()}), LABELS)


@pytest.mark.parametrize("width", ["9" * 5000, "²"])
def test_a_voc_size_that_is_no_plain_number_is_ignored_as_unknown(width: str) -> None:
    xml = (
        "<annotation><filename>a.jpg</filename>"
        f"<size><width>{width}</width><height>10</height></size></annotation>"
    )

    (image,) = read_upload(
        codec_for("voc"), "v.zip", zip_files({"Annotations/a.xml": xml.encode()}), LABELS
    )

    assert image.size is None  # as for other tools' 0 or empty sizes: resolve uses the image's


def test_a_labelme_circle_of_astronomic_radius_is_read_then_refused_by_resolve() -> None:
    shape = {"label": "person", "shape_type": "circle", "points": [[0, 0], [1e200, 1e200]]}
    document = {"imagePath": "a.jpg", "shapes": [shape]}
    data = zip_files({"batch1/a.json": json.dumps(document).encode()})

    raw = read_upload(codec_for("labelme"), "l.zip", data, LABELS)
    with pytest.raises(ImportRejected) as caught:
        resolve(raw, {"batch1/a.jpg": WIDE}, LABELS, "alice")

    (message,) = caught.value.messages
    assert message.startswith("batch1/a.json: shape 1: the circle reaches outside the image")


def test_a_directory_of_too_many_entries_is_refused_before_it_is_parsed(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)  # so at most 2 * 2 + 1000 entries are parsed
    data = zip_files({f"labels/{n}.txt": b"" for n in range(1100)})

    def parsed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", parsed)
    with pytest.raises(FormatError) as caught:
        unzip(data, "up.zip")

    assert caught.value.messages == [
        "up.zip: 1,100 files in the archive; at most 2 may be imported at once"
    ]
