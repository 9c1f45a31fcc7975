"""What an import accepts: known images and labels, shapes inside the image."""

from __future__ import annotations

import pytest

from formats.model import ImageRef, RawImage, RawShape, Shape
from formats.resolve import ImportRejected, resolve

IMG = ImageRef("b/img.jpg", 640, 480)
LABELS = ("person", "animal")


def one(*shapes: RawShape, name: str = "b/img.jpg", size: tuple[int, int] | None = None) -> list:
    return [RawImage(name, shapes, "f.json: image 1", size=size)]


def rect(*coords: float, label: str = "person", normalized: bool = False) -> RawShape:
    return RawShape(label, "rect", coords, where="f.json: record 3", normalized=normalized)


def test_a_box_touching_the_right_and_bottom_edges_is_valid() -> None:
    back = resolve(one(rect(600, 400, 640, 480)), {IMG.key: IMG}, LABELS, "model")

    assert back[0].shapes == (Shape("person", "rect", (600.0, 400.0, 640.0, 480.0)),)
    assert back[0].annotator == "model"


def test_normalized_coordinates_scale_by_width_and_height() -> None:
    back = resolve(one(rect(0.25, 0.5, 1.0, 1.0, normalized=True)), {IMG.key: IMG}, LABELS, "m")

    assert back[0].shapes[0].coords == (160.0, 240.0, 640.0, 480.0)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (rect(-1, 10, 50, 60), r"f.json: record 3: the rect reaches outside the image \(640x480\)"),
        (rect(10, 10, 641, 60), "reaches outside the image"),
        (rect(10, 10, 50, 480.5), "reaches outside the image"),
        (rect(10, 10, 10, 60), "has no area"),
        (rect(1, 2, 3, 4, label="cat"), "label 'cat' is not one of the project's labels"),
        (RawShape("person", "polygon", points=((1, 1), (2, 2))), "needs at least 3 points"),
        (RawShape("person", "polygon", points=((1, 1), (2, 2), (700, 3))), "outside the image"),
        (rect(1, 2, float("nan"), 4), "not a finite number"),
        # under 1e-4 px: not zero before rounding, zero once kept to 4 decimals
        (rect(10.00001, 10, 10.00004, 60), "the rect has no area once rounded to 4 decimals"),
        (rect(10, 20.00002, 50, 20.000041), "no area once rounded to 4 decimals"),
        (
            RawShape("person", "polygon", points=((1, 1), (1.00001, 1.00004), (1.00004, 1))),
            "the polygon has no area once rounded",
        ),
        (RawShape("person", "polygon", points=((1, 1), (2, 2), (3, 3))), "polygon has no area:"),
        (RawShape("person", "line", (5, 5, 5.00001, 5.00002)), "the line has no length once"),
        (RawShape("person", "path", points=((7, 7), (7.00002, 7))), "the path has no length"),
    ],
)
def test_a_bad_shape_is_refused_naming_its_record(shape: RawShape, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        resolve(one(rect(1, 2, 3, 4), shape), {IMG.key: IMG}, LABELS, "m")


def test_the_smallest_box_kept_reads_back_as_it_was_written() -> None:
    [first] = resolve(one(rect(10.00004, 10, 10.00016, 60)), {IMG.key: IMG}, LABELS, "m")
    box = first.shapes[0].coords
    [again] = resolve(one(rect(*box)), {IMG.key: IMG}, LABELS, "m")

    assert box == (10.0, 10.0, 10.0002, 60.0)
    assert again.shapes == first.shapes


def test_unknown_images_are_all_listed() -> None:
    raw = one(rect(1, 2, 3, 4)) + one(name="x/missing.jpg") + one(name="other.png")

    with pytest.raises(ImportRejected) as caught:
        resolve(raw, {IMG.key: IMG}, LABELS, "m")

    assert caught.value.messages == (
        "2 image(s) are not in the image source: other.png, x/missing.jpg",
    )


def test_a_stated_size_that_differs_from_the_image_is_refused() -> None:
    with pytest.raises(ImportRejected, match="says 320x240 pixels, but b/img.jpg is 640x480"):
        resolve(one(rect(1, 2, 3, 4), size=(320, 240)), {IMG.key: IMG}, LABELS, "m")


def test_every_problem_is_reported_at_once() -> None:
    raw = one(rect(1, 2, 3, 4, label="cat"), rect(-5, 0, 4, 4), name="b/img.jpg")

    with pytest.raises(ImportRejected) as caught:
        resolve(raw, {IMG.key: IMG}, LABELS, "m")

    assert len(caught.value.messages) == 2


def test_the_same_image_twice_for_one_annotator_is_merged() -> None:
    raw = one(rect(1, 2, 3, 4)) + one(rect(5, 6, 7, 8))

    back = resolve(raw, {IMG.key: IMG}, LABELS, "m")

    assert len(back) == 1 and len(back[0].shapes) == 2
