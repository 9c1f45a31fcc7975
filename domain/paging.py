"""Moving through a batch of image keys."""

from __future__ import annotations


def resolve_key(keys: list[str], key: str | None) -> str | None:
    """The key if it is in the batch, else the first image (None for an empty batch)."""
    if key in keys:
        return key
    return keys[0] if keys else None


def step(keys: list[str], key: str | None, delta: int) -> str | None:
    """The key delta places away, stopping at either end of the batch."""
    here = resolve_key(keys, key)
    if here is None:
        return None
    index = min(max(keys.index(here) + delta, 0), len(keys) - 1)
    return keys[index]
