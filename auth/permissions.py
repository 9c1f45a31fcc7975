"""Which role a Dash callback request needs, from the component ids it reads and writes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from components.ids import ADMIN_PREFIXES, DEPLOYMENT_ADMIN_PREFIXES, REVIEWER_PREFIXES
from domain.accounts import RANK, Role


def role_for_id(component_id: str) -> Role:
    """The role a component belongs to (by its id's prefix)."""
    if component_id.startswith(ADMIN_PREFIXES):
        return Role.ADMIN
    if component_id.startswith(REVIEWER_PREFIXES):
        return Role.REVIEWER
    return Role.ANNOTATOR


def _ids(entries: Any) -> Iterator[str]:
    """Component ids in a request's outputs/inputs/state (lists, nested lists, or dicts)."""
    if isinstance(entries, dict):
        if "id" in entries:
            found = entries["id"]
            # pattern-matching ids are dicts: their "type" names the component family
            yield str(found.get("type", "")) if isinstance(found, dict) else str(found)
            return
        return
    if isinstance(entries, list):
        for entry in entries:
            yield from _ids(entry)


def callback_ids(body: Any) -> set[str]:
    """Every component id a callback request names in its outputs, inputs and state."""
    if not isinstance(body, dict):
        return set()
    found: set[str] = set()
    for part in ("outputs", "inputs", "state"):
        found.update(_ids(body.get(part)))
    if isinstance(body.get("output"), str):  # "id.prop" or "..a.p...b.q.."
        for piece in body["output"].strip(".").split("..."):
            found.add(piece.rsplit(".", 1)[0])
    return found


def role_needed(component_ids: Iterable[str]) -> Role:
    """The highest role any of the ids belongs to."""
    return max(
        (role_for_id(i) for i in component_ids), key=RANK.__getitem__, default=Role.ANNOTATOR
    )


def deployment_wide(component_ids: Iterable[str]) -> bool:
    """True when a request touches what only the deployment's admins manage (accounts,
    projects), whatever role a project gives."""
    return any(i.startswith(DEPLOYMENT_ADMIN_PREFIXES) for i in component_ids)
