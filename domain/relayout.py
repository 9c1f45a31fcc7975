"""Tell apart what plotly's relayoutData says: new shapes, edits, erasures or something else.

Shapes in the figure carry `name` = the annotation id, so a full `shapes` list is diffed
against the ids the figure was given: unnamed shapes are new, missing ids were erased.
Indexed keys (`shapes[2].x0`, `shapes[0].path`) are edits of the shape at that position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_INDEXED = re.compile(r"^shapes\[(\d+)\](?:\.(x0|x1|y0|y1|path))?$")


@dataclass(frozen=True)
class ShapeChange:
    """What changed among the figure's shapes; empty when the event was about something else."""

    added: tuple[dict[str, Any], ...] = ()
    removed: tuple[str, ...] = ()
    edited: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when no shape was added, removed or edited."""
        return not (self.added or self.removed or self.edited)


def parse_relayout(data: Any, known_ids: Sequence[str]) -> ShapeChange:
    """Parse one relayoutData event against the ids of the shapes the figure shows, in order."""
    if not isinstance(data, dict):
        return ShapeChange()
    if "shapes" in data:
        return _diff_full_list(data["shapes"], known_ids)
    return _indexed_edits(data, known_ids)


def _diff_full_list(shapes: Any, known_ids: Sequence[str]) -> ShapeChange:
    if not isinstance(shapes, list):
        return ShapeChange(problems=("the figure sent a shapes value that is not a list",))
    known = set(known_ids)
    added: list[dict[str, Any]] = []
    present: list[str] = []
    edited: dict[str, dict[str, Any]] = {}
    for shape in shapes:
        if not isinstance(shape, dict) or not shape.get("type"):
            continue  # phantom entries plotly sometimes sends while drawing
        name = shape.get("name")
        if isinstance(name, str) and name in known:
            present.append(name)
            edited[name] = shape
        else:
            added.append(shape)
    removed = tuple(i for i in known_ids if i not in set(present))
    return ShapeChange(added=tuple(added), removed=removed, edited=edited)


def _indexed_edits(data: dict[str, Any], known_ids: Sequence[str]) -> ShapeChange:
    edited: dict[str, dict[str, Any]] = {}
    removed: list[str] = []
    problems: list[str] = []
    for key, value in data.items():
        match = _INDEXED.match(str(key))
        if not match:
            continue  # autosize, axis ranges, dragmode, ...
        index, attr = int(match.group(1)), match.group(2)
        if index >= len(known_ids):
            problems.append(f"an edit named shape {index + 1}, which the figure does not show")
            continue
        shape_id = known_ids[index]
        if attr is None:
            if value is None:
                removed.append(shape_id)
            elif isinstance(value, dict):
                edited.setdefault(shape_id, {}).update(value)
            continue
        edited.setdefault(shape_id, {})[attr] = value
    return ShapeChange(removed=tuple(removed), edited=edited, problems=tuple(problems))
