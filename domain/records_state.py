"""The records store's content: one image's records plus whether they reached the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.annotation import Annotation, records_from_dicts


@dataclass(frozen=True)
class RecordsState:
    """What the browser holds for the current image."""

    image_key: str | None
    annotator: str | None
    records: tuple[Annotation, ...]
    unsaved: bool = False
    error: str | None = None
    rev: int = 0
    loaded: bool = True  # False when the stored records could not be read: edits are refused
    # (id, version) of the stored shapes as last read or saved: what a save may change or
    # delete. None for states from before versions (the save then makes the store equal).
    known: tuple[tuple[str, int], ...] | None = None
    notice: str | None = None  # why the last change was not applied (e.g. another tab's edit)

    def to_data(self) -> dict[str, Any]:
        """JSON for the dcc.Store."""
        return {
            "image_key": self.image_key,
            "annotator": self.annotator,
            "items": [r.to_dict() for r in self.records],
            "unsaved": self.unsaved,
            "error": self.error,
            "rev": self.rev,
            "loaded": self.loaded,
            "known": None if self.known is None else [list(k) for k in self.known],
            "notice": self.notice,
        }

    def belongs_to(self, image_key: str | None, annotator: str | None) -> bool:
        """True when these records are this annotator's on this image."""
        return bool(image_key) and (self.image_key, self.annotator) == (image_key, annotator)


def state_from_data(data: Any) -> RecordsState:
    """Read the store's JSON, tolerating an empty or foreign value."""
    if not isinstance(data, dict):
        return RecordsState(None, None, ())
    return RecordsState(
        image_key=data.get("image_key"),
        annotator=data.get("annotator"),
        records=records_from_dicts(data.get("items")),
        unsaved=bool(data.get("unsaved")),
        error=data.get("error"),
        rev=int(data.get("rev") or 0),
        loaded=bool(data.get("loaded", True)),
        known=_known(data.get("known")),
        notice=data.get("notice") if isinstance(data.get("notice"), str) else None,
    )


def tab_id_of(raw: Any) -> str | None:
    """A browser tab's id (a page load's random hex), or None when it is not one."""
    return raw if isinstance(raw, str) and 0 < len(raw) <= 36 else None


def known_of(records: tuple[Annotation, ...]) -> tuple[tuple[str, int], ...]:
    """The (id, version) pairs of stored records."""
    return tuple((r.id, r.version) for r in records)


def _known(raw: Any) -> tuple[tuple[str, int], ...] | None:
    if not isinstance(raw, list):
        return None
    pairs = []
    for item in raw:
        try:
            pairs.append((str(item[0]), int(item[1])))
        except (TypeError, ValueError, IndexError):
            continue
    return tuple(pairs)
