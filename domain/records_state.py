"""The records store's content: one image's records plus whether they reached the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.annotation import Annotation
from domain.project_marks import MARK, made_in, mark_of


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
    # ids ("" when none) of entries the browser sent that are not records: refused on save
    unreadable: tuple[str, ...] = ()
    # the slug of the project whose image these are (the browser's store is shared by every
    # project open in it); None: made before projects, so the first project's
    project: str | None = None

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
            MARK: self.project,
        }

    def belongs_to(self, image_key: str | None, annotator: str | None) -> bool:
        """True when these records are this annotator's on this image."""
        return bool(image_key) and (self.image_key, self.annotator) == (image_key, annotator)

    def in_project(self, slug: str, first: bool) -> bool:
        """True when these are records of the project `slug` (`first`: the first project);
        another project's records are never saved, edited or shown in this one."""
        return made_in(self.project, slug, first)


def state_from_data(data: Any) -> RecordsState:
    """Read the store's JSON, tolerating an empty, foreign or malformed value (entries
    that are not records are kept aside as `unreadable`)."""
    if not isinstance(data, dict):
        return RecordsState(None, None, ())
    records, unreadable = _records(data.get("items"))
    return RecordsState(
        image_key=_text(data.get("image_key")),
        annotator=_text(data.get("annotator")),
        records=records,
        unsaved=bool(data.get("unsaved")),
        error=_text(data.get("error")),
        rev=_whole(data.get("rev")),
        loaded=bool(data.get("loaded", True)),
        known=_known(data.get("known")),
        notice=_text(data.get("notice")),
        unreadable=unreadable,
        project=mark_of(data),
    )


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _whole(raw: Any) -> int:
    try:
        return int(raw or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _records(items: Any) -> tuple[tuple[Annotation, ...], tuple[str, ...]]:
    """The records among the browser's items, and the ids of the entries that are not."""
    records: list[Annotation] = []
    unreadable: list[str] = []
    for item in items if isinstance(items, list) else []:
        try:
            records.append(Annotation.from_dict(item))
        except (KeyError, ValueError, TypeError, IndexError, OverflowError):
            raw_id = item.get("id") if isinstance(item, dict) else None
            unreadable.append(str(raw_id) if isinstance(raw_id, str | int) else "")
    return tuple(records), tuple(unreadable)


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
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            continue
    return tuple(pairs)
