"""A model's suggestions on the annotate page, and a labeler's decisions on them (pure).

A suggestion is one of the detector's shapes on the image (its stored model:<name> record):
shown as a dashed outline and a row with Accept / Reject, never part of the labeler's
records until accepted. Accepting makes a new shape of the labeler's own (a new id, their
name, the suggestion's label and geometry, `source` = the model's source, `score` kept);
either decision is recorded as an event ("accept" in the transaction of the shape it
creates, "reject" on its own), so what people do with suggestions can be learned from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.annotation import KINDS, Annotation, Kind
from domain.changes import DECISIONS
from domain.editing import Canvas

ACCEPT, REJECT = DECISIONS


@dataclass(frozen=True)
class Suggestion:
    """One shape a detector suggests: its id (the model's record id, stable for one model
    version on one image), project label, geometry in original pixels, score and source."""

    id: str
    label: str
    kind: Kind
    coords: tuple[float, ...]
    points: tuple[tuple[float, float], ...]
    score: float
    source: str  # model:<name>@<version>

    def to_json(self) -> dict[str, Any]:
        """JSON for the browser's suggestions store and for a decision event's `before`."""
        return {
            "id": self.id,
            "label": self.label,
            "kind": self.kind,
            "coords": list(self.coords),
            "points": [list(p) for p in self.points],
            "score": self.score,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        """Rebuild from to_json; KeyError/ValueError/TypeError on anything else."""
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown shape kind {kind!r}")
        return cls(
            id=str(data["id"]),
            label=str(data["label"]),
            kind=kind,
            coords=tuple(float(v) for v in data.get("coords") or ()),
            points=tuple((float(p[0]), float(p[1])) for p in data.get("points") or ()),
            score=float(data["score"]),
            source=str(data["source"]),
        )

    @property
    def caption(self) -> str:
        """What the outline and the list say: 'person 0.87'."""
        return f"{self.label} {self.score:.2f}"


def suggestion_of(record: Annotation) -> Suggestion:
    """A detector's stored record as a suggestion (a record without a score counts as 1)."""
    score = 1.0 if record.score is None else float(record.score)
    return Suggestion(
        record.id, record.label, record.kind, record.coords, record.points, score, record.source
    )


@dataclass(frozen=True)
class Decision:
    """A labeler's accept or reject of one suggestion; an accept names the shape it made."""

    action: str  # ACCEPT or REJECT
    suggestion: Suggestion
    shape_id: str | None = None

    def event_values(self) -> dict[str, Any]:
        """The event's annotation_id, before (the suggestion) and after ({"id": the shape}
        for an accept)."""
        return {
            "annotation_id": self.shape_id or self.suggestion.id,
            "before": self.suggestion.to_json(),
            "after": {"id": self.shape_id} if self.shape_id else None,
        }


def accepted(
    suggestion: Suggestion, canvas: Canvas, new_id: Callable[[], str], now: datetime
) -> Annotation:
    """The labeler's own new shape for an accepted suggestion: editable like any other, and
    still saying where it came from (source, score)."""
    return Annotation(
        id=new_id(),
        image_key=canvas.image_key,
        annotator=canvas.annotator,
        label=suggestion.label,
        kind=suggestion.kind,
        coords=suggestion.coords,
        points=suggestion.points,
        created_at=now,
        updated_at=now,
        source=suggestion.source,
        score=suggestion.score,
    )


def shown(suggestions: Iterable[Suggestion], min_score: Any) -> tuple[Suggestion, ...]:
    """The suggestions at or above the slider's minimum score, best first."""
    floor = float(min_score) if isinstance(min_score, int | float) else 0.0
    return tuple(
        sorted((s for s in suggestions if s.score >= floor), key=lambda s: (-s.score, s.id))
    )


class RecordedEvent(Protocol):
    """What decided_ids reads of a recorded event (storage.history.Event has it)."""

    @property
    def action(self) -> str: ...
    @property
    def before(self) -> Mapping[str, Any] | None: ...
    @property
    def change(self) -> str: ...
    @property
    def undoes(self) -> str | None: ...


def decided_ids(events: Sequence[RecordedEvent]) -> set[str]:
    """Ids of the suggestions a labeler accepted or rejected on an image, less decisions
    undone since (undo re-records the decision with `undoes` set): those are not offered
    again."""
    undone = {e.undoes for e in events if e.undoes}
    return {
        str((e.before or {}).get("id"))
        for e in events
        if e.action in DECISIONS and e.undoes is None and e.change not in undone
    }


@dataclass(frozen=True)
class SuggestionsState:
    """What the browser's suggestions store holds: the undecided suggestions on one image for
    one labeler, and what the page says about them."""

    image_key: str | None
    annotator: str | None
    items: tuple[Suggestion, ...] = ()
    detector: str = ""  # "nanodet g-416-1a2b3c4d"
    origin: str = ""  # "stored" (found earlier) or "detected" (just now)
    seconds: float = 0.0

    def to_data(self) -> dict[str, Any]:
        """JSON for the dcc.Store."""
        return {
            "image_key": self.image_key,
            "annotator": self.annotator,
            "items": [s.to_json() for s in self.items],
            "detector": self.detector,
            "origin": self.origin,
            "seconds": round(self.seconds, 4),
        }

    def belongs_to(self, canvas: Canvas | None) -> bool:
        """True when these are the suggestions for this canvas's image and labeler."""
        return canvas is not None and (self.image_key, self.annotator) == (
            canvas.image_key,
            canvas.annotator,
        )

    def without(self, ids: set[str]) -> SuggestionsState:
        """The state less the suggestions decided on."""
        return SuggestionsState(
            self.image_key,
            self.annotator,
            tuple(s for s in self.items if s.id not in ids),
            self.detector,
            self.origin,
            self.seconds,
        )


def suggestions_from_data(data: Any) -> SuggestionsState:
    """Read the store's JSON, tolerating an empty or foreign value (bad items are dropped)."""
    if not isinstance(data, dict):
        return SuggestionsState(None, None)
    items = []
    for item in data.get("items") or []:
        try:
            items.append(Suggestion.from_json(item))
        except (KeyError, ValueError, TypeError, IndexError, AttributeError):
            continue
    seconds = data.get("seconds")
    return SuggestionsState(
        data.get("image_key") if isinstance(data.get("image_key"), str) else None,
        data.get("annotator") if isinstance(data.get("annotator"), str) else None,
        tuple(items),
        str(data.get("detector") or ""),
        str(data.get("origin") or ""),
        float(seconds) if isinstance(seconds, int | float) else 0.0,
    )
