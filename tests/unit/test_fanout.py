"""The fan-out of pre-annotation (workflows.fanout) on an in-memory board that behaves like
the few Redis commands it uses: chunks are done once each, a killed worker's chunk is done
again by another, a chunk delivered again is skipped, and the report counts every image
once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from workflows import fanout
from workflows.fanout import Heartbeat, LeaseLost, Run

SETTINGS = {"min_score": 0.5, "timeout_s": 10.0, "lease_s": 60.0}


class FakeBoard:
    """Redis lists, hashes and sets in dicts; every command is atomic, as in Redis."""

    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.sets: dict[str, set[str]] = {}
        self.lock = threading.Lock()

    def rpush(self, name: str, *values: str) -> int:
        with self.lock:
            self.lists.setdefault(name, []).extend(values)
            return len(self.lists[name])

    def lmove(self, first_list: str, second_list: str, src: str = "LEFT", dest: str = "RIGHT"):
        with self.lock:
            items = self.lists.get(first_list)
            if not items:
                return None
            value = items.pop(0 if src == "LEFT" else -1)
            target = self.lists.setdefault(second_list, [])
            target.append(value) if dest == "RIGHT" else target.insert(0, value)
            return value

    def lrem(self, name: str, count: int, value: str) -> int:
        with self.lock:
            items = self.lists.get(name, [])
            kept = [v for v in items if v != value]
            self.lists[name] = kept
            return len(items) - len(kept)

    def lrange(self, name: str, start: int, end: int) -> list[str]:
        with self.lock:
            items = self.lists.get(name, [])
            return list(items[start : None if end == -1 else end + 1])

    def hset(self, name: str, key: str, value: str) -> int:
        with self.lock:
            table = self.hashes.setdefault(name, {})
            new = key not in table
            table[key] = value
            return int(new)

    def hget(self, name: str, key: str) -> str | None:
        with self.lock:
            return self.hashes.get(name, {}).get(key)

    def hdel(self, name: str, *keys: str) -> int:
        with self.lock:
            table = self.hashes.get(name, {})
            return sum(table.pop(k, None) is not None for k in keys)

    def hgetall(self, name: str) -> dict[str, str]:
        with self.lock:
            return dict(self.hashes.get(name, {}))

    def sadd(self, name: str, *values: str) -> int:
        with self.lock:
            members = self.sets.setdefault(name, set())
            new = set(values) - members
            members.update(values)
            return len(new)

    def sismember(self, name: str, value: str) -> bool:
        with self.lock:
            return value in self.sets.get(name, set())

    def scard(self, name: str) -> int:
        with self.lock:
            return len(self.sets.get(name, set()))

    def delete(self, *names: str) -> int:
        with self.lock:
            gone = 0
            for name in names:
                for store in (self.lists, self.hashes, self.sets):
                    gone += store.pop(name, None) is not None  # type: ignore[attr-defined]
            return gone

    def expire(self, name: str, time: int) -> bool:
        return True

    def empty(self) -> bool:
        return not (self.lists or self.hashes or self.sets)


class FakePredict:
    """Counts how often each image was done, and by whom; optionally slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.done: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def work(self, who: str):
        def run(keys: Sequence[str], heartbeat: Heartbeat) -> dict[str, Any]:
            for key in keys:
                heartbeat()
                time.sleep(self.delay)
                with self.lock:
                    self.done.append((key, who))
            return report(keys)

        return run


def report(keys: Sequence[str]) -> dict[str, Any]:
    return {
        "detector": "fake",
        "version": "1.0",
        "annotator": "model:fake",
        "images": len(keys),
        "suggestions": 2 * len(keys),
        "dropped": 0,
        "below_threshold": 0,
        "seconds": 0.1,
        "problems": [f"{k}: unreadable" for k in keys if "7." in k],
        "head_note": "",
        "keys": list(keys),
    }


KEYS = [f"img{n:02d}.png" for n in range(40)]


def test_two_workers_share_a_batch_and_do_every_chunk_once() -> None:
    board = FakeBoard()
    run = fanout.plan(board, KEYS, SETTINGS, chunk_images=4)
    predict = FakePredict(delay=0.005)
    helper = threading.Thread(
        target=fanout.work_all, args=(board, run, predict.work("helper"), "helper")
    )
    helper.start()
    progress: list[tuple[int, int]] = []

    reports = fanout.coordinate(
        board, run, predict.work("coordinator"), lambda d, t, _w: progress.append((d, t)), 60, 0.01
    )
    helper.join()

    assert sorted(k for k, _ in predict.done) == KEYS  # every image once, none twice
    assert {who for _, who in predict.done} == {"helper", "coordinator"}
    assert [r["chunk"] for r in reports] == [str(n) for n in range(10)]
    assert progress[-1] == (10, 10)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert board.empty()  # the run's keys are gone
    merged = fanout.merge(reports, 1.5)
    assert (merged.images, merged.suggestions, merged.seconds) == (40, 80, 1.5)
    assert merged.problems == tuple(f"img{n}7.png: unreadable" for n in range(4))
    assert "40 image(s), 80 suggestion(s) stored as model:fake" in merged.summary()


def test_a_killed_workers_chunk_is_done_again_by_another_once_its_lease_expires() -> None:
    board = FakeBoard()
    run = fanout.plan(board, KEYS[:8], SETTINGS, chunk_images=4)
    now = [1000.0]
    # A worker takes chunk 0 and is killed: it never renews nor finishes.
    assert fanout.claim(board, run, "killed", 60, now[0]) == "0"
    predict = FakePredict()

    def sleep(seconds: float) -> None:
        now[0] += 30  # time passes while the coordinator waits

    reports = fanout.coordinate(
        board, run, predict.work("survivor"), lease_s=60, clock=lambda: now[0], sleep=sleep
    )

    assert sorted(k for k, _ in predict.done) == KEYS[:8]
    assert {r["worker"] for r in reports} == {fanout.worker_name()}
    assert now[0] > 1060  # chunk 0 waited for its lease to run out


def test_a_chunk_taken_back_is_left_to_its_new_holder() -> None:
    board = FakeBoard()
    run = fanout.plan(board, KEYS[:4], SETTINGS, chunk_images=4)
    chunk = fanout.claim(board, run, "slow", 60, 1000.0)
    assert chunk == "0"
    assert fanout.requeue_expired(board, run, 1061.0, {}, 60) == ["0"]

    with pytest.raises(LeaseLost):
        fanout.renew(board, run, "0", "slow", 60, 1062.0)
    assert fanout.claim(board, run, "fast", 60, 1062.0) == "0"
    assert fanout.finish(board, run, "0", report(KEYS[:4]))
    assert board.scard(run.key("done")) == 1


def test_a_taker_that_died_before_its_lease_was_written_is_found_too() -> None:
    board = FakeBoard()
    run = fanout.plan(board, KEYS[:4], SETTINGS, chunk_images=4)
    board.lmove(run.key("pending"), run.key("processing"))  # died right after the move
    unleased: dict[str, float] = {}

    assert fanout.requeue_expired(board, run, 1000.0, unleased, 60) == []
    assert fanout.requeue_expired(board, run, 1061.0, unleased, 60) == ["0"]
    assert board.lrange(run.key("pending"), 0, -1) == ["0"]


def test_a_done_chunk_delivered_again_is_skipped() -> None:
    board = FakeBoard()
    run = fanout.plan(board, KEYS[:8], SETTINGS, chunk_images=4)
    predict = FakePredict()
    assert fanout.work_one(board, run, predict.work("a"), "a", 60) == "0"
    board.rpush(run.key("pending"), "0")  # delivered again

    assert fanout.work_all(board, run, predict.work("b"), "b", 60) == ["1"]
    assert sorted(k for k, _ in predict.done) == KEYS[:8]
    assert not fanout.finish(board, run, "0", report(KEYS[:4]))  # a late second finish
    reports = board.hgetall(run.key("reports"))
    assert json.loads(reports["0"])["worker"] == "a"
    assert fanout.merge([json.loads(r) for r in reports.values()], 1).images == 8


def test_a_helper_of_a_finished_run_does_nothing(tmp_path) -> None:
    board = FakeBoard()
    assert fanout.help_run(None, board, "gone") == []  # type: ignore[arg-type]
    assert fanout.coordinate(board, Run("gone"), FakePredict().work("x")) == []
