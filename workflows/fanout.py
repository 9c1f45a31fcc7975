"""Pre-annotating a batch over several Celery workers: the images are cut into chunks whose
ids wait in a Redis list; whoever takes part (the coordinator, which is the Admin tab's
background job, and the `predict_chunk` tasks it sends) takes a chunk, holds a lease on it
while it works (renewed per image), and marks it done with its report. A chunk whose lease
runs out (its worker was killed) is put back by the coordinator for someone else; a chunk
already done is never done again. The coordinator works on chunks too, so one worker with
one slot never waits for itself. Re-running an image rewrites the same rows (content ids),
so the part of a chunk a killed worker did is harmless.

The board is a small part of redis-py's client (`Board`), so a fake in-memory one tests
the coordination; storage.fanout_board gives the real one.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from storage.runtime import Services
from workflows.predict import PredictReport, predict_with
from workflows.suggest import detector_for

CHUNK_IMAGES = 25  # images per chunk: small enough to share, big enough to be worth a task
LEASE_S = 60.0  # a chunk whose worker said nothing for this long is given to someone else
POLL_S = 0.5  # how often the coordinator looks again while others work
KEEP_S = 24 * 3600  # a run's keys expire after this, should its coordinator die too
PREFIX = "concord:fanout"

Heartbeat = Callable[[], None]  # renews the chunk's lease; LeaseLost when it was taken back
Work = Callable[[Sequence[str], Heartbeat], dict[str, Any]]  # keys -> the chunk's report
Progress = Callable[[int, int, str], None]


class Board(Protocol):
    """The part of redis-py's client (decode_responses=True) the fan-out uses."""

    def rpush(self, name: str, *values: str) -> Any: ...
    def lmove(self, first_list: str, second_list: str, src: str = ..., dest: str = ...) -> Any: ...
    def lrem(self, name: str, count: int, value: str) -> Any: ...
    def lrange(self, name: str, start: int, end: int) -> Any: ...
    def hset(self, name: str, key: str, value: str) -> Any: ...
    def hget(self, name: str, key: str) -> Any: ...
    def hdel(self, name: str, *keys: str) -> Any: ...
    def hgetall(self, name: str) -> Any: ...
    def sadd(self, name: str, *values: str) -> Any: ...
    def sismember(self, name: str, value: str) -> Any: ...
    def scard(self, name: str) -> Any: ...
    def delete(self, *names: str) -> Any: ...
    def expire(self, name: str, time: int) -> Any: ...


class LeaseLost(Exception):
    """The chunk was given to someone else while this worker was at it (it was too slow)."""


@dataclass(frozen=True)
class Run:
    """The Redis keys of one fan-out run."""

    id: str

    def key(self, part: str) -> str:
        return f"{PREFIX}:{self.id}:{part}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            self.key(p) for p in ("meta", "chunks", "pending", "processing", "lease", "done")
        ) + (self.key("reports"),)


def worker_name() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def plan(
    board: Board,
    keys: Sequence[str],
    settings: dict[str, Any],
    chunk_images: int = CHUNK_IMAGES,
    run_id: str | None = None,
) -> Run:
    """Cut the keys into chunks and queue them; `settings` (JSON) are what workers need."""
    run = Run(run_id or uuid.uuid4().hex)
    chunks = [keys[i : i + chunk_images] for i in range(0, len(keys), chunk_images)]
    meta = {**settings, "total": len(chunks), "images": len(keys)}
    board.hset(run.key("meta"), "json", json.dumps(meta))
    for number, chunk in enumerate(chunks):
        board.hset(run.key("chunks"), str(number), json.dumps(list(chunk)))
    if chunks:
        board.rpush(run.key("pending"), *(str(n) for n in range(len(chunks))))
    for name in run.names:
        board.expire(name, KEEP_S)
    return run


def meta(board: Board, run: Run) -> dict[str, Any] | None:
    """What plan() stored for the workers; None once the run is over (or never was)."""
    found = board.hget(run.key("meta"), "json")
    return json.loads(found) if found else None


def _lease(owner: str, deadline: float) -> str:
    return json.dumps([owner, deadline])


def claim(board: Board, run: Run, owner: str, lease_s: float, now: float) -> str | None:
    """Take the next pending chunk (atomically into `processing`) with a lease; None when
    none waits. A chunk that is done already (delivered again) is dropped, not taken."""
    while True:
        chunk = board.lmove(run.key("pending"), run.key("processing"), "LEFT", "RIGHT")
        if chunk is None:
            return None
        if board.sismember(run.key("done"), chunk):
            board.lrem(run.key("processing"), 0, chunk)
            continue
        board.hset(run.key("lease"), chunk, _lease(owner, now + lease_s))
        return str(chunk)


def renew(board: Board, run: Run, chunk: str, owner: str, lease_s: float, now: float) -> None:
    """Push the chunk's deadline on; LeaseLost when it is no longer this owner's."""
    held = board.hget(run.key("lease"), chunk)
    if held is None or json.loads(held)[0] != owner:
        raise LeaseLost(f"chunk {chunk} of run {run.id} was given to another worker")
    board.hset(run.key("lease"), chunk, _lease(owner, now + lease_s))


def finish(board: Board, run: Run, chunk: str, report: dict[str, Any]) -> bool:
    """Store the chunk's report and mark it done; False when someone had done it already."""
    if board.sismember(run.key("done"), chunk):
        board.lrem(run.key("processing"), 0, chunk)
        return False
    board.hset(run.key("reports"), chunk, json.dumps(report))  # before `done`: never missing
    added = board.sadd(run.key("done"), chunk)
    board.lrem(run.key("processing"), 0, chunk)
    board.hdel(run.key("lease"), chunk)
    return bool(added)


def requeue_expired(
    board: Board, run: Run, now: float, unleased: dict[str, float], lease_s: float
) -> list[str]:
    """Put back in `pending` the chunks whose lease ran out; `unleased` remembers since when
    a chunk was seen taken but without a lease (its taker died between the two steps)."""
    back = []
    for chunk in board.lrange(run.key("processing"), 0, -1):
        if board.sismember(run.key("done"), chunk):
            board.lrem(run.key("processing"), 0, chunk)
            continue
        held = board.hget(run.key("lease"), chunk)
        if held is None:
            deadline = unleased.setdefault(chunk, now + lease_s)
        else:
            unleased.pop(chunk, None)
            deadline = float(json.loads(held)[1])
        if deadline < now and board.lrem(run.key("processing"), 0, chunk):
            board.hdel(run.key("lease"), chunk)
            board.rpush(run.key("pending"), chunk)
            unleased.pop(chunk, None)
            back.append(str(chunk))
    return back


def work_one(
    board: Board,
    run: Run,
    work: Work,
    owner: str,
    lease_s: float,
    clock: Callable[[], float] = time.time,
) -> str | None:
    """Claim one chunk, do it and mark it done; its id, or None when no chunk waits. A chunk
    taken back from this worker meanwhile is left to its new holder."""
    chunk = claim(board, run, owner, lease_s, clock())
    if chunk is None:
        return None
    keys = json.loads(board.hget(run.key("chunks"), chunk) or "[]")

    def heartbeat() -> None:
        renew(board, run, chunk, owner, lease_s, clock())

    try:
        report = work(keys, heartbeat)
        heartbeat()  # still ours: a chunk given away meanwhile is its new holder's to finish
    except LeaseLost:
        return chunk
    finish(board, run, chunk, {**report, "chunk": chunk, "worker": owner})
    return chunk


def work_all(board: Board, run: Run, work: Work, owner: str, lease_s: float = LEASE_S) -> list[str]:
    """A helper worker: do chunks until none waits (the coordinator sees to the rest)."""
    done = []
    while (chunk := work_one(board, run, work, owner, lease_s)) is not None:
        done.append(chunk)
    return done


def coordinate(
    board: Board,
    run: Run,
    work: Work,
    progress: Progress | None = None,
    lease_s: float = LEASE_S,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Work on chunks and put back the expired ones until every chunk is done; the chunks'
    reports, in chunk order. The run's keys are deleted afterwards."""
    found = meta(board, run)
    total = int(found["total"]) if found else 0
    owner = worker_name()
    unleased: dict[str, float] = {}
    try:
        while True:
            requeue_expired(board, run, clock(), unleased, lease_s)
            done = int(board.scard(run.key("done")))
            if progress:
                progress(done, total, f"{done} of {total} chunk(s) done")
            if done >= total:
                break
            if work_one(board, run, work, owner, lease_s, clock) is None:
                sleep(poll_s)
        reports = board.hgetall(run.key("reports"))
        return [json.loads(reports[c]) for c in sorted(reports, key=int)]
    finally:
        board.delete(*run.names)


def merge(reports: Sequence[dict[str, Any]], seconds: float) -> PredictReport:
    """One report for the run: the chunks' counts added up (each image is in one chunk)."""
    if not reports:
        raise ValueError("no chunk reports to merge")
    first = reports[0]
    return PredictReport(
        detector=str(first["detector"]),
        version=str(first["version"]),
        annotator=str(first["annotator"]),
        images=sum(int(r["images"]) for r in reports),
        suggestions=sum(int(r["suggestions"]) for r in reports),
        dropped=sum(int(r["dropped"]) for r in reports),
        seconds=seconds,
        problems=tuple(p for r in reports for p in r["problems"]),
        below_threshold=sum(int(r.get("below_threshold", 0)) for r in reports),
        head_note=next((str(r["head_note"]) for r in reports if r.get("head_note")), ""),
    )


def predict_work(services: Services, min_score: float, timeout_s: float) -> Work:
    """The chunk work of pre-annotation: predict_images with the configured detector,
    renewing the lease before each image."""
    detector = detector_for(services.settings.detector)

    def work(keys: Sequence[str], heartbeat: Heartbeat) -> dict[str, Any]:
        def progress(_done: int, _total: int, _key: str) -> None:
            heartbeat()

        report = predict_with(services, detector, keys, min_score, timeout_s, progress)
        return {**report.to_json(), "keys": list(keys)}

    return work


def fan_out(
    services: Services,
    board: Board,
    keys: Sequence[str],
    min_score: float,
    timeout_s: float,
    launch: Callable[[str], None],
    helpers: int,
    progress: Progress | None = None,
    chunk_images: int = CHUNK_IMAGES,
    lease_s: float = LEASE_S,
) -> PredictReport:
    """Pre-annotate the keys over `helpers` predict_chunk tasks (`launch(run_id)` sends one)
    and this process; the merged report. DetectorError when the detector cannot be loaded
    (before anything is queued). The lease outlasts one image's detection (`timeout_s`), the
    longest a worker goes without renewing it."""
    started = time.perf_counter()
    lease_s = max(lease_s, 1.5 * timeout_s)
    work = predict_work(services, min_score, timeout_s)
    if not keys:
        return merge([work([], lambda: None)], time.perf_counter() - started)
    settings = {"min_score": min_score, "timeout_s": timeout_s, "lease_s": lease_s}
    run = plan(board, keys, settings, chunk_images)
    for _ in range(helpers):
        launch(run.id)
    reports = coordinate(board, run, work, progress, lease_s)
    return merge(reports, time.perf_counter() - started)


def help_run(services: Services, board: Board, run_id: str) -> list[str]:
    """What a predict_chunk task does: chunks of the run until none waits; their ids (none
    when the run is over, as for a task delivered again later)."""
    run = Run(run_id)
    found = meta(board, run)
    if found is None:
        return []
    work = predict_work(services, float(found["min_score"]), float(found["timeout_s"]))
    return work_all(board, run, work, worker_name(), float(found["lease_s"]))
