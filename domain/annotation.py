"""The annotation record: one shape drawn by one annotator on one image."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from domain.sources import edited_source

Kind = Literal["rect", "circle", "line", "polygon", "path"]
KINDS: tuple[str, ...] = get_args(Kind)
BOX_KINDS = ("rect", "circle", "line")
POINT_KINDS = ("polygon", "path")
Point = tuple[float, float]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Annotation:
    """A shape in original image pixels (origin top-left, y down).

    Rectangles, circles and lines use `coords` = (x0, y0, x1, y1); polygons and open paths
    use `points`. A circle's coords are its bounding box, as plotly draws it.
    """

    id: str
    image_key: str
    annotator: str
    label: str
    kind: Kind
    coords: tuple[float, ...] = ()
    points: tuple[Point, ...] = ()
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    source: str = "human"  # or model:<name>@<version> for a detector's shape
    version: int = 0  # the stored version this record was read at; 0: never stored
    score: float | None = None  # a detector's confidence in [0, 1]; None for people's shapes

    def with_geometry(
        self, coords: tuple[float, ...], points: tuple[Point, ...], now: datetime
    ) -> Annotation:
        """A copy with new geometry and a fresh updated time (an accepted suggestion whose
        geometry changes is marked edited)."""
        changed = (coords, points) != (self.coords, self.points)
        source = edited_source(self.source) if changed else self.source
        return replace(self, coords=coords, points=points, updated_at=now, source=source)

    def with_label(self, label: str, now: datetime) -> Annotation:
        """A copy with another label and a fresh updated time (an accepted suggestion given
        another label is marked edited)."""
        source = edited_source(self.source) if label != self.label else self.source
        return replace(self, label=label, updated_at=now, source=source)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the browser's store)."""
        return {
            "id": self.id,
            "image_key": self.image_key,
            "annotator": self.annotator,
            "label": self.label,
            "kind": self.kind,
            "coords": list(self.coords),
            "points": [list(p) for p in self.points],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "source": self.source,
            "version": self.version,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Annotation:
        """Rebuild a record from `to_dict` output; raises KeyError/ValueError on bad data."""
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown shape kind {kind!r}")
        return cls(
            id=str(data["id"]),
            image_key=str(data["image_key"]),
            annotator=str(data["annotator"]),
            label=str(data["label"]),
            kind=kind,
            coords=tuple(float(v) for v in data.get("coords") or ()),
            points=tuple((float(p[0]), float(p[1])) for p in data.get("points") or ()),
            created_at=_parse_time(data.get("created_at")),
            updated_at=_parse_time(data.get("updated_at")),
            source=str(data.get("source") or "human"),
            version=int(data.get("version") or 0),
            score=None if data.get("score") is None else float(data["score"]),
        )


def same_content(a: Annotation, b: Annotation) -> bool:
    """True when two records show the same shape (label, kind and geometry)."""
    return (a.label, a.kind, a.coords, a.points) == (b.label, b.kind, b.coords, b.points)


def _parse_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return utc_now()
