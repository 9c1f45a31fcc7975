"""Which project label a detector's class becomes, or None when the suggestion is dropped.

Three cases, decided once from LABEL_MAP and LABELS:

- LABEL_MAP set (`vehicle=car,truck;animal=cat,dog;*=object`): only its entries count; `*`
  (written `*=label` or `label=*`) catches every class not listed; without `*` the rest is
  dropped.
- LABEL_MAP unset and LABELS the defaults (person, animal, vehicle, food, object in any
  order): a class named like a project label keeps it, the COCO groups below map onto
  person, animal, vehicle and food, and everything else becomes object.
- LABEL_MAP unset and other LABELS: a class named like a project label keeps it; the rest is
  dropped (set LABEL_MAP to keep more).

Names are compared ignoring case and surrounding spaces; a plug-in model's classes that are
not COCO's go through the same rules by name. The result is always a project label spelled
as in LABELS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.labels import DEFAULT_LABELS

if TYPE_CHECKING:  # config.py imports this module; numpy stays out of the command line's start
    from models.detector import Detection

# The 80 COCO detection classes in the standard order (the contiguous ids 0..79 models use).
COCO_CLASSES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)


def _span(first: str, last: str) -> tuple[str, ...]:
    return COCO_CLASSES[COCO_CLASSES.index(first) : COCO_CLASSES.index(last) + 1]


# The default project labels' share of COCO; every other class becomes "object".
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "animal": _span("bird", "giraffe"),
    "vehicle": _span("bicycle", "boat"),
    "food": _span("banana", "cake"),
}
DEFAULT_FALLBACK = "object"
WILDCARD = "*"


class LabelMapError(ValueError):
    """LABEL_MAP cannot be read, or names a label the project does not have."""


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


@dataclass(frozen=True)
class LabelMap:
    """Model class -> project label. `classes` holds (class key, label) pairs; `same_name`
    lets a class named like a project label keep it; `fallback` catches the rest (or None:
    dropped)."""

    classes: tuple[tuple[str, str], ...] = ()
    same_name: tuple[str, ...] = ()
    fallback: str | None = None

    def project_label(self, model_label: str) -> str | None:
        """The project label for a detector's class, or None when it is dropped."""
        key = _key(model_label)
        for name, label in self.classes:
            if name == key:
                return label
        for label in self.same_name:
            if _key(label) == key:
                return label
        return self.fallback

    def unknown_classes(self, model_labels: Iterable[str]) -> list[str]:
        """Classes LABEL_MAP lists that the model never answers (a typo, or another
        model's names), in LABEL_MAP's order; empty when the model's classes are unknown."""
        known = {_key(name) for name in model_labels}
        if not known:
            return []
        return [name for name, _ in self.classes if name not in known]


def parse_label_map(text: str, labels: Sequence[str]) -> LabelMap:
    """Read LABEL_MAP (`label=class,class;...;*=label`) against the project's labels;
    LabelMapError says which part is wrong."""
    targets = {_key(name): name for name in labels}
    classes: dict[str, str] = {}
    fallback: str | None = None
    for raw_part in text.split(";"):
        part = raw_part.strip()
        if not part:
            continue  # a trailing or doubled ';' is harmless, as in LABELS
        if part.count("=") != 1:
            problem = "has no '='" if "=" not in part else "has more than one '='"
            raise LabelMapError(
                f"LABEL_MAP part {part!r} {problem}: write label=class,class;... "
                "e.g. vehicle=car,truck;*=object"
            )
        left, right = (side.strip() for side in part.split("="))
        if left == WILDCARD:  # *=label: the fallback
            if not right:
                raise LabelMapError(f"LABEL_MAP part {part!r} names no label for '*'")
            if "," in right:
                raise LabelMapError(
                    f"LABEL_MAP part {part!r}: '*' goes to one label, not {right!r}"
                )
            left, right = right, WILDCARD
        if not left:
            raise LabelMapError(f"LABEL_MAP part {part!r} names no project label before '='")
        target = targets.get(_key(left))
        if target is None:
            raise LabelMapError(
                f"LABEL_MAP maps to {left!r}, which is not a label of this project "
                f"(LABELS: {', '.join(labels)})"
            )
        names = [name.strip() for name in right.split(",") if name.strip()]
        if not names:
            raise LabelMapError(f"LABEL_MAP part {part!r} names no model classes after '='")
        for name in names:
            if name == WILDCARD:
                if fallback is not None:
                    raise LabelMapError(f"LABEL_MAP maps '*' twice (to {fallback} and to {target})")
                fallback = target
                continue
            key = _key(name)
            if key in classes:
                raise LabelMapError(
                    f"LABEL_MAP maps the model class {name!r} twice "
                    f"(to {classes[key]} and to {target})"
                )
            classes[key] = target
    return LabelMap(tuple(classes.items()), (), fallback)


def has_default_labels(labels: Sequence[str]) -> bool:
    """True when the project's labels are the default five, in any order or case."""
    default = {_key(name) for name in DEFAULT_LABELS.split(",")}
    return len(labels) == len(default) and {_key(name) for name in labels} == default


def default_label_map(labels: Sequence[str]) -> LabelMap:
    """The mapping without LABEL_MAP: COCO's groups onto the default labels, or, for other
    LABELS, a class keeps only a project label of its own name (the rest is dropped)."""
    if not has_default_labels(labels):
        return LabelMap((), tuple(labels), None)
    spelled = {_key(name): name for name in labels}
    classes = tuple(
        (_key(name), spelled[group]) for group, names in DEFAULT_GROUPS.items() for name in names
    )
    return LabelMap(classes, tuple(labels), spelled[DEFAULT_FALLBACK])


def label_map_for(text: str, labels: Sequence[str]) -> LabelMap:
    """LABEL_MAP parsed against LABELS when it is set, else the default mapping."""
    if not text.replace(";", "").strip():
        return default_label_map(labels)
    return parse_label_map(text, labels)


def map_detections(
    detections: Iterable[Detection], label_map: LabelMap
) -> tuple[list[Detection], list[str]]:
    """(detections relabelled with project labels, the model classes that were dropped, each
    once in first-seen order)."""
    kept: list[Detection] = []
    dropped: list[str] = []
    for detection in detections:
        label = label_map.project_label(detection.label)
        if label is None:
            if detection.label not in dropped:
                dropped.append(detection.label)
            continue
        kept.append(dataclasses.replace(detection, label=label))
    return kept, dropped
