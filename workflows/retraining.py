"""Optional retraining after every N finished images (RETRAIN_EVERY): each time the people's
finished images pass another multiple of N, one worker, whichever claims that multiple
first in the database, trains the label head again in the background (as cli.py train)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from models.learning import TrainingError
from storage.errors import StorageError
from storage.runtime import Services

log = logging.getLogger("concord.models")
CLAIM = "retrain:{}"  # the app setting one worker claims for a multiple of N

Start = Callable[[Callable[[], None]], None]


def due_multiple(finished: int, every: int) -> int | None:
    """The multiple of `every` the finished count has reached, or None (off, or none yet)."""
    if every <= 0 or finished < every:
        return None
    return finished // every


def in_background(work: Callable[[], None]) -> None:
    """Run work in a daemon thread of this process."""
    threading.Thread(target=work, name="concord-retrain", daemon=True).start()


def maybe_retrain(services: Services, start: Start = in_background) -> bool:
    """Start retraining when the finished images reached a multiple of RETRAIN_EVERY that no
    worker has claimed yet; True when this call started it. Never raises: navigation calls
    it, and a database or training problem is logged, not shown."""
    every = services.settings.retrain_every
    if every <= 0:
        return False
    try:
        multiple = due_multiple(services.store.count_finished_by_people(), every)
        if multiple is None or not services.app_settings.claim(CLAIM.format(multiple), "1"):
            return False
    except StorageError as exc:
        log.warning("retraining not checked: %s", exc)
        return False
    start(lambda: _train(services, multiple * every))
    return True


def _train(services: Services, finished: int) -> None:
    try:
        from workflows.training import train_from_corrections  # the analysis stack: jobs only

        report = train_from_corrections(services)
    except (TrainingError, StorageError) as exc:
        log.warning("retraining after %d finished images skipped: %s", finished, exc)
        return
    except Exception:  # a background thread must not die silently
        log.exception("retraining after %d finished images failed", finished)
        return
    log.warning("retrained after %d finished images: %s", finished, report.summary())
