"""Listings and metadata shared by workers through flask-caching's Redis and file backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import flask
import pytest

from config import load_settings
from storage.caches import cache_config, make_caches
from storage.catalog import Catalog
from tests.servers import RedisServer
from tests.unit.callback_support import make_batch
from tests.unit.test_catalog import CountingSource


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["filesystem", "redis"])
def settings(request, tmp_path: Path):
    base = load_settings({"DATA_DIR": str(tmp_path / "data")})
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        return replace(base, redis_url=server.url)
    return replace(base, cache_dir=tmp_path / "cache")


def worker_catalog(settings, source: CountingSource) -> Catalog:
    """What one gunicorn worker builds: its own Flask app and caches, the same settings."""
    meta, _renditions = make_caches(flask.Flask("worker"), settings)
    return Catalog(source, meta, page_size=2)


def test_a_page_listed_by_one_worker_is_not_listed_again_by_another(settings, tmp_path) -> None:
    make_batch(tmp_path / "images" / "day1", [(20, 10)] * 5)
    source = CountingSource(tmp_path / "images")
    first, second = worker_catalog(settings, source), worker_catalog(settings, source)
    first.refresh()  # a clean generation: the Redis server is shared by the module's tests

    assert first.key_at("day1", 3) == "day1/img04.jpg"
    listed = len(source.listings)
    assert second.key_at("day1", 3) == "day1/img04.jpg"
    assert second.meta("day1/img01.jpg") == first.meta("day1/img01.jpg")
    assert len(source.listings) == listed

    make_batch(tmp_path / "images" / "day1", [(20, 10)] * 6)
    second.refresh()  # Refresh pressed in one worker is seen by the other
    assert first.total("day1") == 6
    assert len(source.listings) > listed


def test_the_backend_follows_the_settings(tmp_path: Path) -> None:
    base = load_settings({"DATA_DIR": str(tmp_path)})

    assert cache_config(base, "meta")["CACHE_TYPE"] == "SimpleCache"
    with_dir = replace(base, cache_dir=tmp_path / "c")
    assert cache_config(with_dir, "renditions")["CACHE_DIR"] == str(tmp_path / "c" / "renditions")
    with_redis = replace(with_dir, redis_url="redis://127.0.0.1:1/0")
    assert cache_config(with_redis, "meta")["CACHE_TYPE"] == "RedisCache"


def test_a_redis_outage_makes_misses_not_failures(tmp_path: Path, caplog) -> None:
    server = RedisServer().start()
    make_batch(tmp_path / "images", [(20, 10)] * 3)
    source = CountingSource(tmp_path / "images")
    settings = replace(load_settings({"DATA_DIR": str(tmp_path)}), redis_url=server.url)
    catalog = worker_catalog(settings, source)
    try:
        assert catalog.total("") == 3
        server.stop()
        with caplog.at_level(logging.WARNING, logger="concord.cache"):
            assert catalog.total("") == 3  # listed again, from the source
            assert catalog.key_at("", 2) == "img03.jpg"
        assert "metadata cache unavailable" in caplog.text
    finally:
        server.stop()
