"""Where a labeler is: a batch, an image key and its position, settled against the listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.catalog import Catalog
from storage.images import ROOT_BATCH


@dataclass(frozen=True)
class Place:
    """An image in a batch; key and index are None when the batch has no images."""

    batch: str
    key: str | None
    index: int | None

    def to_data(self) -> dict[str, Any]:
        """For the position store."""
        return {"batch": self.batch, "key": self.key, "index": self.index}


def place_from_data(data: dict[str, Any] | None) -> tuple[str | None, str | None, int | None]:
    """(batch, key, index) remembered in the position store, each None if absent or odd."""
    data = data if isinstance(data, dict) else {}
    batch = data.get("batch")
    key = data.get("key")
    index = data.get("index")
    return (
        batch if isinstance(batch, str) else None,
        key if isinstance(key, str) else None,
        index if isinstance(index, int) and not isinstance(index, bool) else None,
    )


def first_place(catalog: Catalog, batch: str | None = None) -> Place:
    """The first image of a batch; of the first batch if that batch is no longer listed."""
    if batch is not None:
        first = catalog.key_at(batch, 0)
        if first is not None:
            return Place(batch, first, 0)
        if batch in catalog.batches().names:
            return Place(batch, None, None)  # still there, but without images
    names = catalog.batches().names
    name = names[0] if names else ROOT_BATCH
    first = catalog.key_at(name, 0)
    return Place(name, first, 0 if first is not None else None)


def settle(catalog: Catalog, data: dict[str, Any] | None) -> tuple[Place, str | None]:
    """The remembered place if its image is still listed, else the nearest sensible one,
    with a note saying why the labeler is not where they were."""
    batch, key, index = place_from_data(data)
    if batch is not None and key is not None:
        found = catalog.locate(batch, key, index)
        if found is not None:
            return Place(batch, key, found), None
    place = first_place(catalog, batch)
    if key is not None and place.key != key:
        return place, f"{key} is no longer in the batch; showing {place.key or 'nothing'}."
    return place, None


def step(catalog: Catalog, place: Place, delta: int) -> Place:
    """The image delta places away in the same batch, or the same place at either end."""
    if place.index is None:
        return place
    index = place.index + delta
    key = catalog.key_at(place.batch, index) if index >= 0 else None
    return Place(place.batch, key, index) if key is not None else place
