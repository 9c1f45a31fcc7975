"""The `concord.predict_chunk` Celery task: a helper of a pre-annotation fan-out
(workflows.fanout). Registered on app.celery_app by app.py when REDIS_URL is set; the
Admin tab's job sends it through `launcher()`.

acks_late and reject_on_worker_lost: a task whose worker was killed is delivered again;
that is harmless, since the chunks themselves carry leases and a done chunk is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storage.fanout_board import redis_board
from storage.runtime import active_slug, current, detach_after_fork, project_scope
from workflows.fanout import help_run

TASK = "concord.predict_chunk"
HELPERS = 3  # predict_chunk tasks per run, besides the coordinator itself

_queue: Any = None


def predict_chunk(run_id: str, project: str | None = None) -> list[str]:
    """Do chunks of the run until none waits, in the project that started it (None: the
    first, as for a task sent before projects); the ids of those done here."""
    detach_after_fork()  # a forked pool child: the parent's connections are not its own
    with project_scope(project):
        services = current()
        return help_run(services, redis_board(services.settings.redis_url), run_id)


def register(queue: Any) -> None:
    """Make `queue` (a Celery app) run predict_chunk, and launch() send to it."""
    global _queue
    queue.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(predict_chunk)
    _queue = queue


def launcher() -> Callable[[str], None] | None:
    """Sends one predict_chunk task for a run, in the project being worked in when it is
    sent; None when no Celery app is registered."""
    queue = _queue
    if queue is None:
        return None

    def launch(run_id: str) -> None:
        queue.send_task(TASK, args=[run_id, active_slug()])

    return launch
