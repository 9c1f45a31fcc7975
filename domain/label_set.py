"""A project's label set, edited in the app: add, reorder, rename, retire, bring back, and
each label's colour, hotkey and description. Pure: a label set in, a new one (or a
LabelError saying why not) out. Renaming changes the stored shapes too; that is the
store's part (storage/label_rename.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from domain.errors import LabelError
from domain.labels import MAX_LABEL_LENGTH, PALETTE, RESERVED_LABEL_HINT, Label, is_reserved_label

MAX_DESCRIPTION_LENGTH = 500
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# keys the annotate page uses already (assets/keyboard.js): next, previous, suggest, accept
RESERVED_KEYS = frozenset("npsa")


def clean_label_name(raw: object) -> str:
    """A label name: not empty, not too long, not spelled like the app's markers."""
    name = " ".join(str(raw or "").split())
    if not name:
        raise LabelError("a label needs a name")
    if len(name) > MAX_LABEL_LENGTH:
        raise LabelError(f"label {name[:20]!r}... is longer than {MAX_LABEL_LENGTH} characters")
    if is_reserved_label(name):
        raise LabelError(f"label {name!r} cannot be used: {RESERVED_LABEL_HINT}")
    return name


def clean_color(raw: object, fallback: str) -> str:
    """#rrggbb, or the fallback when left empty."""
    text = str(raw or "").strip()
    if not text:
        return fallback
    if not COLOR.match(text):
        raise LabelError(f"colour {text[:20]!r}: write it as #rrggbb, e.g. #E69F00")
    return text.upper()


def clean_hotkey(raw: object) -> str:
    """One letter or digit (empty: the label's place, 1-9)."""
    key = str(raw or "").strip().lower()
    if not key:
        return ""
    if len(key) != 1 or not key.isalnum() or not key.isascii():
        raise LabelError(f"hotkey {key[:10]!r}: use one letter or digit")
    if key in RESERVED_KEYS:
        raise LabelError(
            f"hotkey {key!r} is taken by the page (n next, p previous, s suggest, a accept all)"
        )
    return key


def clean_description(raw: object) -> str:
    """Annotation guidelines for a label, shown as its tooltip."""
    text = str(raw or "").strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise LabelError(f"a description is at most {MAX_DESCRIPTION_LENGTH} characters")
    return text


def _find(labels: Sequence[Label], name: str) -> Label | None:
    folded = name.casefold()
    return next((label for label in labels if label.name.casefold() == folded), None)


def check_label_set(labels: tuple[Label, ...]) -> tuple[Label, ...]:
    """The set's own rules: one label per name (ignoring case), one label per hotkey, and
    at least one label offered."""
    seen: dict[str, str] = {}
    keys: dict[str, str] = {}
    for label in labels:
        folded = label.name.casefold()
        if folded in seen:
            raise LabelError(f"label {label.name!r} appears twice")
        seen[folded] = label.name
        if label.hotkey and not label.retired:
            if label.hotkey in keys:
                raise LabelError(
                    f"hotkey {label.hotkey!r} is given to both {keys[label.hotkey]!r} and "
                    f"{label.name!r}"
                )
            keys[label.hotkey] = label.name
    if not any(not label.retired for label in labels):
        raise LabelError("at least one label must stay offered")
    return labels


def add_label(
    labels: tuple[Label, ...],
    name: object,
    color: object = "",
    hotkey: object = "",
    description: object = "",
) -> tuple[Label, ...]:
    """The set with a new label at the end; a retired label of that name is refused (bring
    it back instead, so its old shapes and the new ones stay one label on purpose)."""
    clean = clean_label_name(name)
    existing = _find(labels, clean)
    if existing is not None:
        state = "a retired label" if existing.retired else "a label"
        raise LabelError(f"{state} called {existing.name!r} exists already")
    fallback = PALETTE[len(labels) % len(PALETTE)]
    made = Label(
        clean, clean_color(color, fallback), clean_hotkey(hotkey), clean_description(description)
    )
    return check_label_set((*labels, made))


def edit_label(
    labels: tuple[Label, ...], name: str, color: object, hotkey: object, description: object
) -> tuple[Label, ...]:
    """The set with one label's colour, hotkey and description changed."""
    found = _require(labels, name)
    changed = replace(
        found,
        color=clean_color(color, found.color),
        hotkey=clean_hotkey(hotkey),
        description=clean_description(description),
    )
    return check_label_set(tuple(changed if label is found else label for label in labels))


def _require(labels: Sequence[Label], name: str) -> Label:
    found = _find(labels, name)
    if found is None:
        raise LabelError(f"there is no label called {name[:64]!r}")
    return found


def rename_label(
    labels: tuple[Label, ...], old: str, new: object, stored_names: Mapping[str, int]
) -> tuple[Label, ...]:
    """The set with a label renamed. Refused where it would merge two labels silently: the
    new name belongs to another label of the set (retired or not), or stored shapes carry
    it already (`stored_names`: label -> number of stored shapes)."""
    found = _require(labels, old)
    clean = clean_label_name(new)
    if clean == found.name:
        raise LabelError(f"{found.name!r} is called that already")
    other = _find(labels, clean)
    if other is not None and other is not found:
        state = "a retired label" if other.retired else "another label"
        raise LabelError(
            f"cannot rename {found.name!r} to {clean!r}: {state} has that name, and the two "
            "would become one. Retire one of them instead, or pick another name."
        )
    clash = {name: n for name, n in stored_names.items() if name.casefold() == clean.casefold()}
    clash.pop(found.name, None)  # a change of case only: its own shapes
    if clash:
        count = sum(clash.values())
        raise LabelError(
            f"cannot rename {found.name!r} to {clean!r}: {count} stored shape(s) are labelled "
            f"{next(iter(clash))!r} already, and the two would become one"
        )
    renamed = replace(found, name=clean)
    return check_label_set(tuple(renamed if label is found else label for label in labels))


def retire_label(labels: tuple[Label, ...], name: str, retired: bool = True) -> tuple[Label, ...]:
    """The set with a label retired (kept on old shapes, offered no more) or brought back.
    Refused when it would leave nothing to choose, or bring back a label whose hotkey
    another label has taken since."""
    found = _require(labels, name)
    if found.retired == retired:
        state = "retired" if retired else "offered"
        raise LabelError(f"{found.name!r} is {state} already")
    changed = replace(found, retired=retired)
    return check_label_set(tuple(changed if label is found else label for label in labels))


def reorder_labels(labels: tuple[Label, ...], names: Sequence[str]) -> tuple[Label, ...]:
    """The set in the order given (every label named once); the order sets the keys 1-9."""
    if sorted(n.casefold() for n in names) != sorted(label.name.casefold() for label in labels):
        raise LabelError("the new order must name every label once")
    return tuple(_require(labels, name) for name in names)
