"""Shared data and checks for the format tests: images, shapes, uploads and round trips."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import pytest

from formats.model import ExportSet, ImageAnnotations, ImageRef, Shape
from formats.registry import codec_for, read_upload
from formats.resolve import resolve

LABELS = ("person", "car")
WIDE = ImageRef("batch1/a.jpg", 640, 480)
TALL = ImageRef("b.png", 300, 500)
EMPTY = ImageRef("batch1/c.jpg", 640, 480)
RECT = Shape("person", "rect", (10.0, 20.0, 110.0, 70.0))
POLYGON = Shape("car", "polygon", points=((100.5, 50.25), (300.0, 60.0), (200.0, 400.75)))
TRIANGLE = ((100.0, 50.0), (400.5, 120.25), (250.0, 430.0))


def rect(x0: float, y0: float, x1: float, y1: float, label: str = "person") -> Shape:
    return Shape(label, "rect", (x0, y0, x1, y1))


def export_set(*items: tuple[ImageRef, tuple[Shape, ...]]) -> ExportSet:
    """alice's shapes on each image, with the LABELS."""
    return ExportSet(LABELS, tuple(ImageAnnotations(ref, "alice", shapes) for ref, shapes in items))


def sample(circle: Shape) -> ExportSet:
    """Every kind of shape on WIDE, two on a tall image in batch1/, none on c.jpg;
    `circle` is the circle the format under test keeps best."""
    wide = (
        rect(10, 20, 110, 70),
        Shape("car", "polygon", points=TRIANGLE),
        circle,
        Shape("car", "line", (600.0, 10.0, 20.5, 470.0)),  # drawn right to left
        Shape("person", "path", points=((5.0, 5.0), (60.0, 400.0), (630.0, 475.0))),
    )
    tall = (
        rect(0, 0, 300, 500, "car"),
        Shape("person", "polygon", points=((10.0, 490.0), (290.0, 480.0), (150.0, 20.0))),
    )
    return export_set(
        (WIDE, wide),
        (ImageRef("batch1/b.png", 300, 500), tall),
        (ImageRef("c.jpg", 300, 500), ()),
    )


def images_of(data: ExportSet) -> dict[str, ImageRef]:
    """The images of an export set by key, as the image source knows them."""
    return {item.image.key: item.image for item in data.items}


def read_back(
    codec: str, filename: str, content: bytes, refs: Mapping[str, ImageRef]
) -> list[ImageAnnotations]:
    """Upload `content` as a user would and resolve it against `refs` (name -> image)."""
    raw = read_upload(codec_for(codec), filename, content, LABELS)
    return resolve(raw, refs, LABELS, "bob")


def zip_members(archive: bytes) -> dict[str, bytes]:
    """Every member of a zip, as it stands in the archive."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def assert_same_shapes(got: tuple[Shape, ...], expected: tuple[Shape, ...]) -> None:
    """The same labels and kinds in the same order, coordinates within 0.01 px."""
    assert [(s.label, s.kind) for s in got] == [(s.label, s.kind) for s in expected]
    for g, e in zip(got, expected, strict=True):
        assert g.coords == pytest.approx(e.coords, abs=0.01)
        assert len(g.points) == len(e.points)
        for gp, ep in zip(g.points, e.points, strict=True):
            assert gp == pytest.approx(ep, abs=0.01)


def assert_round_trip(data: ExportSet, result: list[ImageAnnotations]) -> None:
    """`result` holds every image of `data`, each with its shapes (and none for an
    image with none)."""
    by_key = {item.image.key: item for item in result}
    assert set(by_key) == set(images_of(data))
    for item in data.items:
        assert by_key[item.image.key].image == item.image
        assert_same_shapes(by_key[item.image.key].shapes, item.shapes)
