"""Relabel or delete the shapes chosen in the label QA grid, through the normal saving: per
image, the stored shapes are read, changed as domain.bulk_edit plans, checked as every save
is (the image still in the source, the shape rules), and saved with the versions the page
showed, so a shape changed since in another tab is reported, not overwritten. One save (one
change id in the history) per image and annotator, under the acting person's name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.annotation import utc_now
from domain.bulk_edit import (
    DELETE,
    Refusal,
    Step,
    edit_image,
    label_problem,
    parse_targets,
    plan_bulk,
    summary,
)
from domain.labels import offered
from domain.record_checks import check_records
from domain.suggestions import REJECT, Decision, suggestion_of
from storage.autosave import image_size_now
from storage.errors import EditConflict, ImageNotFound, StorageError
from storage.shape_query import shapes_by_id

if TYPE_CHECKING:
    from storage.runtime import Services


@dataclass(frozen=True)
class BulkResult:
    """What an action did: how many shapes changed, those refused, and the sentence."""

    changed: int
    refused: tuple[Refusal, ...]
    message: str
    ok: bool = True  # False: the request itself was refused (nothing was changed)


def refused_request(reason: str) -> BulkResult:
    """A request refused as a whole."""
    return BulkResult(0, (), f"Nothing changed: {reason}.", ok=False)


def bulk_change(
    services: Services, actor: str, reviewer: bool, action: str, label: Any, raw_targets: Any
) -> BulkResult:
    """Relabel (to `label`) or delete the shapes `raw_targets` names, as `actor` (a
    reviewer's change to someone else's shape goes to gold). Every image is saved on its
    own: a refusal on one (conflict, image gone, a check failing) keeps the others."""
    labels = [item.name for item in offered(services.settings.labels)]  # not retired ones
    problem = label_problem(action, label, labels)
    targets = parse_targets(raw_targets)
    if problem or isinstance(targets, str):
        return refused_request(problem or str(targets))
    new_label = None if action == DELETE else str(label)
    try:
        found = shapes_by_id(services.store.engine, [t.id for t in targets])
    except StorageError as exc:
        return refused_request(str(exc))
    plan = plan_bulk(targets, found, actor, reviewer)
    refused = list(plan.refused)
    changed = on_gold = 0
    for (key, annotator), steps in plan.groups.items():
        done, problems = _save_image(services, key, annotator, steps, action, new_label, actor)
        changed += len(done)
        on_gold += sum(1 for step in steps if step.copy and step.shape.id in done)
        refused += problems
    message = summary(action, new_label, changed, refused, on_gold)
    return BulkResult(changed, tuple(refused), message)


def _save_image(
    services: Services,
    key: str,
    annotator: str,
    steps: list[Step],
    action: str,
    label: str | None,
    actor: str,
) -> tuple[tuple[str, ...], list[Refusal]]:
    """Save one image's part of the action; (ids of the shapes changed, shapes refused)."""

    def all_refused(reason: str) -> tuple[tuple[str, ...], list[Refusal]]:
        return (), [Refusal(step.shape.id, reason, key) for step in steps]

    store = services.store
    try:
        width, height = image_size_now(services.images, key)
        stored = store.annotations_for(key, annotator)
    except ImageNotFound:
        return all_refused("the image is no longer in the image source")
    except StorageError as exc:
        return all_refused(str(exc))
    edit = edit_image(key, annotator, stored, steps, action, label, utc_now())
    if not edit.writes:
        return (), list(edit.refused)
    labels = [item.name for item in services.settings.labels]
    stored_by_id = {r.id: r for r in stored}
    checked = check_records(key, annotator, edit.records, width, height, labels, (), stored_by_id)
    if checked.problems:
        return all_refused(checked.problems[0])
    decisions = [Decision(REJECT, suggestion_of(shape)) for shape in edit.rejected]
    try:
        store.sync_image(
            key, annotator, checked.records, edit.known, actor=actor, decisions=decisions
        )
    except EditConflict:
        return all_refused("changed since this page was shown (another tab?); reload to see it")
    except StorageError as exc:
        return all_refused(str(exc))
    return edit.changed, list(edit.refused)
