"""The schema as it was before migrations: annotations, statuses, image sizes, active times.

Databases made before migrations existed already hold some of these tables: only what is
missing is created, so they are brought to this revision with their data.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "annotations" not in tables:
        _annotations()
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("annotations")}
    if "ix_annotations_image_annotator" not in indexes:
        op.create_index("ix_annotations_image_annotator", "annotations", ["image_key", "annotator"])
    if "ix_annotations_annotator" not in indexes:  # added late to unmigrated databases
        op.create_index("ix_annotations_annotator", "annotations", ["annotator"])
    if "image_sizes" not in tables:
        _image_sizes()
    if "active_times" not in tables:
        _active_times()
    if "image_statuses" not in tables:
        _statuses()


def _annotations() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("image_key", sa.String(1024), nullable=False),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("geometry", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )


def _image_sizes() -> None:
    op.create_table(
        "image_sizes",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("orientation", sa.Integer, nullable=False),
    )


def _active_times() -> None:
    op.create_table(
        "active_times",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("annotator", sa.String(64), primary_key=True),
        sa.Column("seconds", sa.Float, nullable=False),
    )


def _statuses() -> None:
    op.create_table(
        "image_statuses",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("annotator", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("image_statuses", "active_times", "image_sizes", "annotations"):
        op.drop_table(table)
