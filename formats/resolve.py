"""Check what a file gives against the image source and the label set, all or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.record_checks import check_geometry
from domain.shape_rules import too_many_shapes
from formats.model import FormatError, ImageAnnotations, ImageRef, RawImage, RawShape, Shape

MAX_MESSAGES = 50


@dataclass(frozen=True)
class ImportRejected(ValueError):
    """The file was refused; nothing was written. `messages` say why, record by record."""

    messages: tuple[str, ...]

    def __str__(self) -> str:
        more = len(self.messages) - 3
        head = "; ".join(self.messages[:3])
        return head + (f"; and {more} more" if more > 0 else "")


def reject(error: FormatError, filename: str) -> ImportRejected:
    """A FormatError from a codec as a rejection (naming the file if the codec did not)."""
    messages = [m if m.startswith(filename) else f"{filename}: {m}" for m in error.messages]
    return ImportRejected(tuple(messages))


def check_shape(shape: RawShape, ref: ImageRef, labels: Sequence[str]) -> Shape | str:
    """The shape in pixels, inside the image, with a known label; or why not (the same
    rule as every save: domain/record_checks)."""
    checked = check_geometry(
        shape.label,
        shape.kind,
        shape.coords,
        shape.points,
        ref.width,
        ref.height,
        labels,
        shape.where or ref.key,
        shape.normalized,
    )
    if isinstance(checked, str):
        return checked
    return Shape(shape.label, shape.kind, *checked)


def resolve(
    raw: Sequence[RawImage],
    refs: Mapping[str, ImageRef],
    labels: Sequence[str],
    annotator: str,
) -> list[ImageAnnotations]:
    """Turn a file's images into records to store, or raise ImportRejected listing every
    problem (unknown images, labels, sizes, shapes outside the image).

    `refs` maps each name the file uses to the source image it means (names missing from
    it are unknown images). Images given twice for the same annotator are merged."""
    problems: list[str] = []
    unknown = sorted({item.name for item in raw if item.name not in refs})
    if unknown:
        shown = ", ".join(unknown[:20]) + (
            f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        )
        problems.append(f"{len(unknown)} image(s) are not in the image source: {shown}")
    merged: dict[tuple[str, str], list[Shape]] = {}
    refs_by_key: dict[str, ImageRef] = {}
    for item in raw:
        ref = refs.get(item.name)
        if ref is None:
            continue
        if item.size is not None and item.size != (ref.width, ref.height):
            problems.append(
                f"{item.where}: the file says {item.size[0]}x{item.size[1]} pixels, "
                f"but {ref.key} is {ref.width}x{ref.height}"
            )
            continue
        who = item.annotator or annotator
        shapes = merged.setdefault((ref.key, who), [])
        refs_by_key[ref.key] = ref
        for shape in item.shapes:
            checked = check_shape(shape, ref, labels)
            if isinstance(checked, str):
                problems.append(checked)
            else:
                shapes.append(checked)
        if len(problems) > MAX_MESSAGES:
            break
    for (key, who), shapes in sorted(merged.items()):
        crowded = too_many_shapes(len(shapes))
        if crowded:
            problems.append(f"{key} ({who}): {crowded}")
    if problems:
        raise ImportRejected(tuple(problems[:MAX_MESSAGES]))
    return [
        ImageAnnotations(refs_by_key[key], who, tuple(shapes))
        for (key, who), shapes in sorted(merged.items())
    ]
