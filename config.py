"""The one place that reads the environment: a frozen Settings dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.labels import DEFAULT_LABELS, Label, parse_labels

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class ConfigError(ValueError):
    """An environment variable has a value Concord cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with embedded defaults that work on a fresh machine."""

    image_source: str
    uses_sample_images: bool
    database_url: str
    labels: tuple[Label, ...]
    host: str
    port: int
    display_max_px: int
    data_dir: Path


def _database_url(raw: str | None, data_dir: Path) -> str:
    if not raw:
        return f"sqlite:///{data_dir / 'annotations.db'}"
    # PaaS hand out postgres://, which SQLAlchemy 2 no longer accepts; psycopg 3 is installed.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping, for tests)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR)
    source = env.get("IMAGE_SOURCE", "").strip()
    try:
        labels = parse_labels(env.get("LABELS") or DEFAULT_LABELS)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Settings(
        image_source=source or str(data_dir / "samples"),
        uses_sample_images=not source,
        database_url=_database_url(env.get("DATABASE_URL", "").strip(), data_dir),
        labels=labels,
        host=env.get("HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8050, 1, 65535),
        display_max_px=_int(env, "DISPLAY_MAX_PX", 2048, 64, 16384),
        data_dir=data_dir,
    )
