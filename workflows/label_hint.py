"""The label pre-selected for a shape a person draws: the trained label head's answer for the
drawn box when it is sure (HINT_MIN_PROBABILITY) and answers a project label, else the active
label. Only new shapes are hinted; moving or resizing a shape never relabels it.

Nothing is done without a trained head under DATA_DIR/models, for the configured detector, while
suggestions are offered (not while agreement is measured, nor with SUGGESTIONS=off). The head
needs only the image's pixels: no detector runs, so onnxruntime is never loaded for this. The
head is kept per process and read again when a newer one is trained; the upright pixels of the
last two images are kept too (a person draws several boxes on one image).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from domain.editing import Canvas
from domain.errors import DomainError
from domain.geometry import clamp_geometry, geometry_of_shape, is_degenerate
from domain.relayout import ShapeChange
from models.detector import DetectorError
from models.detector_spec import DetectorSpecError, parse_detector_spec
from models.features import Box
from models.head import Head, head_folder, head_numbers, load_head_quietly
from storage.errors import StorageError
from storage.renditions import upright_rgb
from storage.runtime import Services
from workflows.suggest import detector_for, loaded_detector, offer

log = logging.getLogger("concord.hint")

HINT_MIN_PROBABILITY = 0.8  # the head's probability needed to override the active label
PIXELS_KEPT = 2  # images whose upright pixels are kept per process

_lock = threading.Lock()
_heads: dict[tuple[str, str], tuple[tuple[int, int], Head | None]] = {}
_pixels: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_unloadable: set[str] = set()  # detector specs whose load failed here: not tried on every draw


def hint_drawn(services: Services, canvas: Canvas, change: ShapeChange, active: str) -> ShapeChange:
    """The change with each newly drawn rect, circle or polygon labelled by hinted_label (its
    bounding box); edits, erasures and unreadable shapes are left as they are."""
    head = _head_for(services) if change.added else None
    if head is None:
        return change
    added = []
    for shape in change.added:
        box = _drawn_box(shape, canvas)
        label = active if box is None else _answer(services, head, canvas.image_key, box, active)
        if label != active:
            part = shape.get("label")
            shape = {**shape, "label": {**(part if isinstance(part, dict) else {}), "text": label}}
        added.append(shape)
    return dataclasses.replace(change, added=tuple(added))


def hinted_label(services: Services, image_key: str, box: Box, active: str) -> str:
    """The head's label for a box drawn on the image (x0, y0, x1, y1, image pixels) when it
    is at least HINT_MIN_PROBABILITY sure and the label is a project label; else `active`."""
    head = _head_for(services)
    return active if head is None else _answer(services, head, image_key, box, active)


def _answer(services: Services, head: Head, image_key: str, box: Box, active: str) -> str:
    """hinted_label with the head found."""
    pixels = _upright_pixels(services, image_key)
    if pixels is None:
        return active
    try:
        label, probability = head.label_for_box(pixels, box)
    except (ValueError, IndexError) as exc:  # a head whose inputs do not fit: say, carry on
        log.warning("label head %s not used for a drawn box: %s", head.number, exc)
        return active
    names = {known.name for known in services.settings.labels}
    return label if probability >= HINT_MIN_PROBABILITY and label in names else active


def forget_hints() -> None:
    """Drop the kept heads, pixels and failed loads (tests switch settings between cases)."""
    with _lock:
        _heads.clear()
        _pixels.clear()
        _unloadable.clear()


def _drawn_box(shape: Any, canvas: Canvas) -> Box | None:
    """The bounding box of a drawn rect, circle or polygon inside the image, or None."""
    try:
        kind, coords, points = geometry_of_shape(shape)
    except (DomainError, AttributeError, TypeError, ValueError):
        return None  # apply_shape_change explains it
    if kind not in ("rect", "circle", "polygon"):
        return None
    coords, points = clamp_geometry(kind, coords, points, canvas.width, canvas.height)
    if is_degenerate(kind, coords, points):
        return None
    if points:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        return (min(xs), min(ys), max(xs), max(ys))
    x0, y0, x1, y1 = coords
    return (x0, y0, x1, y1)


def _head_for(services: Services) -> Head | None:
    """The newest head of the configured detector, kept until a newer one is saved; None
    (cheaply: one folder listing) when no head was ever trained or suggestions are not
    offered."""
    data_dir = Path(services.settings.data_dir)
    if not any((data_dir / "models").glob("*/head-*.json")):
        return None
    if not offer(services).shown:
        return None
    name = _detector_name(services.settings.detector)
    if name is None:
        return None
    numbers = head_numbers(data_dir, name)
    if not numbers:
        return None
    try:
        stamp = (
            numbers[-1],
            (head_folder(data_dir, name) / f"head-{numbers[-1]}.json").stat().st_mtime_ns,
        )
    except OSError:
        return None
    where = (str(data_dir), name)
    with _lock:
        kept = _heads.get(where)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    head = load_head_quietly(data_dir, name)
    with _lock:
        _heads[where] = (stamp, head)
    return head


def _detector_name(spec: str) -> str | None:
    """The configured detector's name (its heads' folder): the loaded one's, the built-in's,
    or a factory's, loaded once (as Suggest does); an ML backend's only once Suggest has
    reached it (drawing never waits on the network)."""
    found = loaded_detector(spec)
    if found is not None:
        return found.name
    try:
        parsed = parse_detector_spec(spec)
    except DetectorSpecError:
        return None
    if parsed.kind == "nanodet":
        return "nanodet"  # models.nanodet's name: known without loading onnxruntime
    if parsed.kind != "factory" or spec in _unloadable:
        return None
    try:
        return detector_for(spec).name
    except DetectorError as exc:
        log.warning("no label hints: %s", exc)
        with _lock:
            _unloadable.add(spec)
        return None


def _upright_pixels(services: Services, key: str) -> np.ndarray | None:
    """The image's upright RGB pixels, kept for the last PIXELS_KEPT images; None (logged)
    when the image cannot be read."""
    where = (services.images.source.description, key)
    with _lock:
        found = _pixels.get(where)
        if found is not None:
            _pixels.move_to_end(where)
            return found
    try:
        pixels = upright_rgb(services.images.source.read(key), key)
    except (StorageError, OSError, ValueError) as exc:
        log.warning("no label hint on %s: %s", key, exc)
        return None
    with _lock:
        _pixels[where] = pixels
        while len(_pixels) > PIXELS_KEPT:
            _pixels.popitem(last=False)
    return pixels
