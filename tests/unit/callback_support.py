"""Helpers to call Dash callbacks as plain functions, with a chosen trigger."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import copy_context
from pathlib import Path
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict
from PIL import Image

from config import load_settings
from storage.annotation_store import AnnotationStore
from storage.errors import SaveFailed
from storage.runtime import Services, build_services, install


def call(callback: Callable[..., Any], trigger: str | None, *args: Any) -> Any:
    """Run callback(*args) as Dash would after `trigger` ('id.prop') changed."""
    inputs = [{"prop_id": trigger, "value": 1}] if trigger else []

    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=inputs))
        return callback(*args)

    return copy_context().run(run)


def make_batch(folder: Path, sizes: list[tuple[int, int]]) -> list[str]:
    """Write solid-colour JPEGs of the given sizes; return their keys."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for number, size in enumerate(sizes, start=1):
        name = f"img{number:02d}.jpg"
        Image.new("RGB", size, (40 * number % 255, 90, 160)).save(folder / name)
        keys.append(name)
    return keys


def install_services(tmp_path: Path, **env: str) -> Services:
    """Services on a temporary folder and SQLite file, installed as the current ones."""
    settings = load_settings(
        {"DATA_DIR": str(tmp_path / "data"), "IMAGE_SOURCE": str(tmp_path / "images"), **env}
    )
    return install(build_services(settings, DictCache(), DictCache()))


class FlakyStore(AnnotationStore):
    """A real store whose writes fail while `failing` is set (a database gone away)."""

    failing = True

    def sync_image(self, *args: Any, **kwargs: Any) -> Any:
        if self.failing:
            raise SaveFailed("the database refused the change: connection lost")
        return super().sync_image(*args, **kwargs)


class DictCache:
    """Just enough of flask-caching: a dict."""

    def __init__(self) -> None:
        self.items: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.items.get(key)

    def set(self, key: str, value: object, timeout: int | None = None) -> object:
        self.items[key] = value
        return True
