"""The database schema as SQLAlchemy Core tables. Changes to it go through a migration in
storage/migrations/versions/ too (a test compares the two)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A stored time, timezone-aware: SQLite gives back naive datetimes, written in UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


ANNOTATIONS = Table(
    "annotations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("image_key", String(1024), nullable=False),
    Column("annotator", String(64), nullable=False),
    Column("label", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("geometry", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # "human", or where a shape came from: model:<name>@<version> (accepted or stored
    # suggestions; "+edited" once a person changed one)
    Column("source", String(128), nullable=False, default="human"),
    Column("score", Float, nullable=True),  # a detector's confidence in [0, 1]
    # Bumped by every change: an edit made on an older version (another tab) is refused.
    Column("version", Integer, nullable=False, server_default="1"),
    # The browser tab that saved this version: its own later saves are not conflicts.
    Column("writer", String(36), nullable=True),
    Index("ix_annotations_image_annotator", "image_key", "annotator"),
    Index("ix_annotations_annotator", "annotator"),  # exports and imports by annotator
    Index("ix_annotations_label_image", "label", "image_key"),  # Label QA's pages (0010)
)

# Image sizes read from headers, by content fingerprint: a new worker (or an import after
# an export) finds them here instead of reading 10,000 headers again.
IMAGE_SIZES = Table(
    "image_sizes",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("fingerprint", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("format", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("orientation", Integer, nullable=False),
)

# Active seconds each annotator spent on each image (visible, focused, not idle), added up
# over visits; the browser measures, the server only adds.
ACTIVE_TIMES = Table(
    "active_times",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("annotator", String(64), primary_key=True),
    Column("seconds", Float, nullable=False),
)

STATUSES = Table(
    "image_statuses",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("annotator", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every change to shapes and statuses, append-only: who (actor) changed whose work
# (annotator) on which image, with the shape or status before and after. The events of
# one save share `change`; an undo's events name the change they undo in `undoes`.
EVENTS = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("image_key", String(1024), nullable=False),
    Column("annotator", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # create, edit, delete, status, accept, reject
    Column("annotation_id", String(64), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("change", String(36), nullable=False),
    Column("undoes", String(36), nullable=True),
    Index("ix_events_image_annotator", "image_key", "annotator"),
    Index("ix_events_change", "change"),
)

# With ANNOTATORS_PER_IMAGE = k, each image has k slots; a row is one annotator's claim on
# one (expires_at set) or their finished work (expires_at NULL). The primary key refuses a
# (k+1)-th holder whatever the race; the unique constraint, a second slot for one person.
ASSIGNMENTS = Table(
    "assignments",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("annotator", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("image_key", "annotator", name="uq_assignments_image_annotator"),
    Index("ix_assignments_annotator", "annotator"),
)

# Accounts an admin made in the app (USERS_FILE / USERS accounts are not stored here).
ACCOUNTS = Table(
    "accounts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Settings an admin changed in the app; they win over the environment's defaults.
APP_SETTINGS = Table(
    "app_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Wrong passwords, one row per sign-in attempt and kind ("name": the caseless name typed,
# "address": the client's address), so every worker and dyno counts the same attempts when
# REDIS_URL is unset. Rows older than the longest window are deleted now and then.
FAILED_SIGN_INS = Table(
    "failed_sign_ins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_failed_sign_ins_kind_key_at", "kind", "key", "at"),
)

# Signed-in sessions, one row each: the cookie carries a random token, the table only its
# sha256 (a copied database opens no session). `stamp` is a digest of the account's
# password hash and role when the session opened: a new password or role, or a removed
# account, ends it. Logout deletes the row; expired rows are deleted now and then.
SESSIONS = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("stamp", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_account", "account"),
)

# How many images each annotator has in each status per batch (the key's first folder,
# '' for the top level): kept in the transaction of every status change, so the progress
# bar reads three rows instead of every status of the annotator (migration 0008).
STATUS_COUNTS = Table(
    "status_counts",
    metadata,
    Column("annotator", String(64), primary_key=True),
    Column("batch", String(1024), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)

# An image's review status (migration 0009): accepted into gold, or sent back for rework;
# who set it and when. No row: not reviewed yet.
REVIEWS = Table(
    "reviews",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Per-image comment threads, oldest first (reviewers' rework reasons and replies).
COMMENTS = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("image_key", String(1024), nullable=False),
    Column("author", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", String(2000), nullable=False),
    Index("ix_comments_image", "image_key"),
)

# A request that one annotator redo one image, with the reviewer's comment; open (done_at
# NULL) until that annotator finishes the image again (in the status change's transaction).
REWORK = Table(
    "rework",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("annotator", String(64), primary_key=True),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("comment", String(2000), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Index("ix_rework_annotator", "annotator"),
)

# How much the annotators of an image disagree (1 - mean pairwise F1 at `threshold`, as the
# agreement report ranks images), written by every agreement report and review-queue
# ranking; read by the review queue's order and the gallery's "disagreement above" filter.
IMAGE_DISAGREEMENT = Table(
    "image_disagreement",
    metadata,
    Column("image_key", String(1024), primary_key=True),
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

# Projects (migration 0011): one deployment, several teams. Project 1 is the deployment as
# it was before: its records stay in these tables. Another project's records live in the
# same tables in a space of its own (a PostgreSQL schema `project_<id>`, or on SQLite a file
# beside this one), so no query of one project can reach another's. A NULL setting is the
# environment's (only project 1 leaves them unset).
PROJECTS = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("image_source", String(1024), nullable=True),
    Column("labels", JSON, nullable=True),  # [{"name", "color", ...}, ...]
    Column("annotators_per_image", Integer, nullable=True),
    Column("claim_minutes", Integer, nullable=True),
    Column("repeat_percent", Integer, nullable=True),
    Column("suggestions", String(8), nullable=True),
    Column("open_to_all", Boolean, nullable=False, server_default="0"),
    # members (not only admins) may upload images into the project's folder or prefix
    Column("members_upload", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    sqlite_autoincrement=True,  # an id is never given twice: it names the project's space
)

# Who may work in a project, and as what there.
PROJECT_MEMBERS = Table(
    "project_members",
    metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("account", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Index("ix_project_members_account", "account"),
)
