"""Pieces every benchmark uses: a part that may fail, and the memory of a server's workers."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def attempt(what: str, work: Callable[[], Any]) -> Any:
    """Run one part; on failure print why and carry on (a benchmark never fails)."""
    try:
        return work()
    except Exception:
        print(f"\n{what} FAILED:\n{traceback.format_exc()}")
        return None


def _status_mb(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field (VmRSS: resident now, VmHWM: peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def worker_memory(pid: int) -> list[tuple[int, float, float]]:
    """(pid, resident MB, peak MB) of a server process's workers (its children), or of the
    process itself when it has none (python app.py)."""
    rows = []
    for worker in child_pids(pid) or [pid]:
        try:
            rows.append((worker, _status_mb(worker, "VmRSS"), _status_mb(worker, "VmHWM")))
        except OSError:
            continue
    return rows


def print_worker_memory(pid: int, what: str = "app") -> None:
    """Print each worker's memory now and at its peak (never raises: a benchmark's aside)."""
    try:
        rows = worker_memory(pid)
    except OSError as exc:
        print(f"  {what}: worker memory unavailable ({exc})")
        return
    for worker, now, peak in rows:
        print(f"  {what}: worker {worker} resident {now:,.0f} MB, peak {peak:,.0f} MB")
