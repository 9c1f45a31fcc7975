"""A project's label set changed in the app: the pure rules of domain/label_set.py, the
set stored on the project (with the version check), and on a rename the stored shapes
following it, recorded in the history under the admin's name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain import label_set
from domain.errors import LabelError
from domain.labels import Label
from domain.projects import Project, ProjectError
from storage.label_rename import rename_stored_label, stored_label_counts
from storage.runtime import Services


def _store(services: Services, labels: tuple[Label, ...], version: int) -> Project:
    """Save the project with this label set; refused when it changed since `version`."""
    project = services.projects.by_id(services.project.id) or services.project
    return services.projects.save(replace(project, labels=labels), version)


def change_labels(
    services: Services, action: str, version: int, values: dict[str, object]
) -> Project:
    """Apply one edit to the project's label set and store it: `action` is add, edit,
    retire, restore or order (rename has its own function). Raises LabelError or
    ProjectError with a message for the admin."""
    labels = services.settings.labels
    name = str(values.get("name") or "")
    if action == "add":
        changed = label_set.add_label(
            labels, name, values.get("color"), values.get("hotkey"), values.get("description")
        )
    elif action == "edit":
        changed = label_set.edit_label(
            labels, name, values.get("color"), values.get("hotkey"), values.get("description")
        )
    elif action in ("retire", "restore"):
        changed = label_set.retire_label(labels, name, retired=action == "retire")
    elif action == "order":
        order = values.get("names")
        names: Sequence[str] = [str(n) for n in order] if isinstance(order, list) else []
        changed = label_set.reorder_labels(labels, names)
    else:
        raise LabelError(f"unknown change to the labels: {action[:20]!r}")
    return _store(services, changed, version)


def rename_label(services: Services, old: str, new: object, version: int, actor: str) -> int:
    """Rename a label in the set and on every stored shape of the project; how many shapes
    followed. Refused (nothing changed) where two labels would merge silently. The set is
    stored first (so a stale page is refused before any shape changes); if the shapes
    cannot follow, the set is put back."""
    labels = services.settings.labels
    changed = label_set.rename_label(labels, old, new, stored_label_counts(services.store.engine))
    old_name, new_name = next(
        (b.name, a.name) for a, b in zip(changed, labels, strict=True) if a.name != b.name
    )
    saved = _store(services, changed, version)
    try:
        return rename_stored_label(services.store, old_name, new_name, actor)
    except Exception:
        try:
            _store(services, labels, saved.version)
        except (ProjectError, LabelError):
            pass  # someone changed the set meanwhile: theirs stands
        raise
