"""The Redis the fan-out of pre-annotation coordinates through (workflows.fanout)."""

from __future__ import annotations

from typing import Any


def redis_board(url: str) -> Any:
    """A redis-py client on REDIS_URL that answers in str (workflows.fanout.Board)."""
    import redis

    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
