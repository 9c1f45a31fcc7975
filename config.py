"""The one place that reads the environment: a frozen Settings dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.labels import DEFAULT_LABELS, Label, parse_labels
from models.detector_spec import DEFAULT_DETECTOR, DetectorSpecError, parse_detector_spec
from models.label_map import LabelMap, LabelMapError, label_map_for

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
    image_root: Path = DEFAULT_DATA_DIR / "images"  # projects' local folders are below it
    cache_dir: Path | None = None
    redis_url: str = ""
    max_image_pixels: int = 100_000_000
    presign_max_bytes: int = 2_000_000
    upload_max_bytes: int = 50 * 1024 * 1024  # the largest image one may upload from the browser
    users_file: Path | None = None  # TOML accounts (cli.py add-user); sign-in when set
    users: str = ""  # the same as name:role:hash entries, for PaaS without files
    secret_key: str = ""  # signs session cookies; required when accounts exist
    proxy_hops: int = 0  # proxies in front that set X-Forwarded-For (PaaS routers: 1)
    secure_cookies: bool = False  # send the session cookie over HTTPS only
    annotators_per_image: int | None = None  # None: everyone sees every image
    claim_minutes: int = 30  # how long an unfinished claim on an image lasts
    repeat_percent: int = 0  # share of finished images that come back (intra-rater)
    detector: str = DEFAULT_DETECTOR  # nanodet, none, module:factory or an ML backend's URL
    label_map: str = ""  # model classes -> project labels; empty: the default mapping
    suggestions: str = "auto"  # auto, on or off: offer the detector's shapes while annotating
    retrain_every: int = 0  # retrain the label head after every N finished images; 0: never
    session_hours: int = 12  # a signed-in session ends this long after sign-in
    session_idle_minutes: int = 60  # ... or after this long without a request
    allow_no_sign_in: bool = False  # serve beyond loopback with no accounts, on purpose

    @property
    def sign_in_configured(self) -> bool:
        """True when accounts are configured: every page then needs sign-in."""
        return self.users_file is not None or bool(self.users.strip())

    @property
    def suggestions_on(self) -> bool:
        """True when the annotate page offers the detector's shapes (SUGGESTIONS and the
        environment's ANNOTATORS_PER_IMAGE / REPEAT_PERCENT; see suggestions_enabled)."""
        return suggestions_enabled(
            self.suggestions, self.detector, self.annotators_per_image, self.repeat_percent
        )

    @property
    def label_mapping(self) -> LabelMap:
        """Which project label each model class becomes (LABEL_MAP, else the default)."""
        return label_map_for(self.label_map, [label.name for label in self.labels])


SUGGESTION_MODES = ("auto", "on", "off")


def suggestions_enabled(
    mode: str, detector: str, annotators_per_image: int | None, repeat_percent: int
) -> bool:
    """Whether suggestions are offered: never without a detector; `auto` is off when the
    work measures agreement (2+ annotators per image, or repeats), since people shown the same
    suggestions agree more than they would alone."""
    if detector.strip().lower() == "none" or mode == "off":
        return False
    if mode == "on":
        return True
    return not ((annotators_per_image or 0) >= 2 or repeat_percent > 0)


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


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r}: use 1 or 0")


def _detector(env: Mapping[str, str]) -> str:
    raw = env.get("DETECTOR", "").strip() or DEFAULT_DETECTOR
    try:
        return parse_detector_spec(raw).text
    except DetectorSpecError as exc:
        raise ConfigError(f"DETECTOR: {exc}") from None


def _suggestions(env: Mapping[str, str], detector: str) -> str:
    raw = env.get("SUGGESTIONS", "").strip().lower() or "auto"
    if raw not in SUGGESTION_MODES:
        raise ConfigError(f"SUGGESTIONS={raw!r}: use auto, on or off")
    if raw == "on" and detector == "none":
        raise ConfigError("SUGGESTIONS=on needs a detector, but DETECTOR=none")
    return raw


def _label_map(env: Mapping[str, str], labels: tuple[Label, ...]) -> str:
    raw = env.get("LABEL_MAP", "").strip()
    try:
        label_map_for(raw, [label.name for label in labels])
    except LabelMapError as exc:
        raise ConfigError(str(exc)) from None
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping, for tests)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR)
    source = env.get("IMAGE_SOURCE", "").strip()
    if source.startswith("s3:") and not source.startswith("s3://"):
        raise ConfigError(f"IMAGE_SOURCE={source!r}: write S3 sources as s3://bucket/prefix")
    if source.startswith("s3://") and not source[5:].split("/")[0]:
        raise ConfigError(f"IMAGE_SOURCE={source!r} names no bucket (s3://bucket/prefix)")
    try:
        labels = parse_labels(env.get("LABELS") or DEFAULT_LABELS)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    detector = _detector(env)
    return Settings(
        image_source=source or str(data_dir / "samples"),
        uses_sample_images=not source,
        database_url=_database_url(env.get("DATABASE_URL", "").strip(), data_dir),
        labels=labels,
        host=env.get("HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8050, 1, 65535),
        display_max_px=_int(env, "DISPLAY_MAX_PX", 2048, 64, 16384),
        data_dir=data_dir,
        image_root=Path(env.get("IMAGE_ROOT", "").strip() or data_dir / "images"),
        cache_dir=Path(env["CACHE_DIR"]) if env.get("CACHE_DIR", "").strip() else None,
        redis_url=env.get("REDIS_URL", "").strip(),
        max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 100_000_000, 1_000, 10_000_000_000),
        presign_max_bytes=_int(env, "PRESIGN_MAX_BYTES", 2_000_000, 0, 5_000_000_000),
        upload_max_bytes=_int(env, "UPLOAD_MAX_BYTES", 50 * 1024 * 1024, 1_000, 5_000_000_000),
        users_file=Path(env["USERS_FILE"]) if env.get("USERS_FILE", "").strip() else None,
        users=env.get("USERS", ""),
        secret_key=env.get("SECRET_KEY", "").strip(),
        proxy_hops=_int(env, "PROXY_HOPS", 0, 0, 5),
        secure_cookies=_flag(env, "SECURE_COOKIES"),
        annotators_per_image=_int(env, "ANNOTATORS_PER_IMAGE", 0, 0, 100) or None,
        claim_minutes=_int(env, "CLAIM_MINUTES", 30, 1, 24 * 60),
        repeat_percent=_int(env, "REPEAT_PERCENT", 0, 0, 50),
        retrain_every=_int(env, "RETRAIN_EVERY", 0, 0, 1_000_000),
        detector=detector,
        label_map=_label_map(env, labels),
        suggestions=_suggestions(env, detector),
        session_hours=_int(env, "SESSION_HOURS", 12, 1, 24 * 30),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 60, 5, 24 * 60 * 30),
        allow_no_sign_in=_flag(env, "ALLOW_NO_SIGN_IN"),
    )
