"""Which source image a name in an import file means."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from storage.catalog import Catalog

Progress = Callable[[int, int, str], None]


def all_keys(catalog: Catalog, progress: Progress | None = None) -> list[str]:
    """Every image key of the source, batch by batch (lists what is not cached yet)."""
    keys: list[str] = []
    names = catalog.batches().names
    for number, batch in enumerate(names):
        if progress:
            progress(number, len(names), f"listing batch {batch or '(top level)'}")
        keys.extend(catalog.keys_from(batch, 0, catalog.total(batch)))
    return keys


def _stem(name: str) -> str:
    root, extension = posixpath.splitext(name)
    return root if extension else name


@dataclass(frozen=True)
class NameIndex:
    """Finds a source key for a file's image name: the exact key, the key without its
    extension (YOLO), or a file name that only one image of the source has."""

    keys: frozenset[str]
    by_stem: dict[str, list[str]]
    by_base: dict[str, list[str]]
    by_base_stem: dict[str, list[str]]

    @classmethod
    def of(cls, keys: Iterable[str]) -> NameIndex:
        """An index over the given source keys."""
        by_stem: dict[str, list[str]] = {}
        by_base: dict[str, list[str]] = {}
        by_base_stem: dict[str, list[str]] = {}
        key_set = frozenset(keys)
        for key in sorted(key_set):
            base = posixpath.basename(key)
            by_stem.setdefault(_stem(key), []).append(key)
            by_base.setdefault(base, []).append(key)
            by_base_stem.setdefault(_stem(base), []).append(key)
        return cls(key_set, by_stem, by_base, by_base_stem)

    def find(self, name: str) -> str | list[str] | None:
        """The key `name` means; a list of candidates when it is ambiguous; None if absent."""
        name = name.strip()
        name = name[2:] if name.startswith("./") else name
        if name in self.keys:
            return name
        base = posixpath.basename(name)
        for table, probe in (
            (self.by_stem, name),
            (self.by_base, base),
            (self.by_base_stem, _stem(base)),
        ):
            found = table.get(probe)
            if found:
                return found[0] if len(found) == 1 else found
        return None
