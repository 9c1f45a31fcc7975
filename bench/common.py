"""Pieces every benchmark uses."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any


def attempt(what: str, work: Callable[[], Any]) -> Any:
    """Run one part; on failure print why and carry on (a benchmark never fails)."""
    try:
        return work()
    except Exception:
        print(f"\n{what} FAILED:\n{traceback.format_exc()}")
        return None
