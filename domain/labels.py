"""Project labels and their colours."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import LabelError

# Okabe-Ito: distinguishable for the common forms of colour blindness.
PALETTE: tuple[str, ...] = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#0072B2",
    "#F0E442",
    "#000000",
)
DEFAULT_LABELS = "person,animal,vehicle,food,object"
MAX_LABEL_LENGTH = 64
# Names in parentheses are the app's own markers (e.g. "(missed)" in agreement reports), so
# a label spelled like one could be read as the marker.
RESERVED_LABEL_HINT = "names in parentheses, such as (missed), are reserved for the app"


def is_reserved_label(name: str) -> bool:
    """True for a name the app keeps for its own markers: one wrapped in parentheses."""
    return name.startswith("(") and name.endswith(")")


@dataclass(frozen=True)
class Label:
    """A label name with the colour its shapes are drawn in; its key on the keyboard (empty:
    its place, 1-9), a description shown as a tooltip (annotation guidelines), and whether
    it is retired (kept on old shapes, offered no more)."""

    name: str
    color: str
    hotkey: str = ""
    description: str = ""
    retired: bool = False


def offered(labels: tuple[Label, ...]) -> tuple[Label, ...]:
    """The labels people may choose for a new shape or a relabel: the ones not retired."""
    return tuple(label for label in labels if not label.retired)


def hotkeys(labels: tuple[Label, ...]) -> dict[str, str]:
    """label name -> the key that picks it: its own hotkey, else its place among the
    offered labels (1-9) when no other label took that key."""
    active = offered(labels)
    taken = {label.hotkey for label in active if label.hotkey}
    keys: dict[str, str] = {}
    for number, label in enumerate(active, start=1):
        if label.hotkey:
            keys[label.name] = label.hotkey
        elif number <= 9 and str(number) not in taken:
            keys[label.name] = str(number)
    return keys


def parse_labels(text: str) -> tuple[Label, ...]:
    """Turn 'cat,dog,...' into labels with palette colours; reject empty, repeated, too long
    or reserved names."""
    names = [part.strip() for part in text.split(",")]
    names = [name for name in names if name]
    if not names:
        raise LabelError("LABELS is empty: give at least one label name, e.g. LABELS=cat,dog")
    seen: set[str] = set()
    for name in names:
        if len(name) > MAX_LABEL_LENGTH:
            raise LabelError(f"label {name[:20]!r}... is longer than {MAX_LABEL_LENGTH} characters")
        if is_reserved_label(name):
            raise LabelError(f"label {name!r} cannot be used: {RESERVED_LABEL_HINT}")
        if name.lower() in seen:
            raise LabelError(f"label {name!r} appears twice in LABELS")
        seen.add(name.lower())
    return tuple(Label(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names))


def color_of(label: str, labels: tuple[Label, ...]) -> str:
    """The colour of a label; grey for a label the project does not know (e.g. an old one)."""
    for item in labels:
        if item.name == label:
            return item.color
    return "#808080"


def require_label(label: object, labels: tuple[Label, ...]) -> str:
    """Return the label if the project offers it (not retired), else raise a LabelError
    naming the choices."""
    names = [item.name for item in labels if not item.retired]
    if not isinstance(label, str) or label not in names:
        raise LabelError(f"unknown label {label!r}: choose one of {', '.join(names)}")
    return label
