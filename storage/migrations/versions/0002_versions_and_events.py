"""Shape versions (refuse edits made on an older version) and the append-only events table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("writer", sa.String(36), nullable=True))
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("image_key", sa.String(1024), nullable=False),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("annotation_id", sa.String(64), nullable=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("change", sa.String(36), nullable=False),
        sa.Column("undoes", sa.String(36), nullable=True),
    )
    op.create_index("ix_events_image_annotator", "events", ["image_key", "annotator"])
    op.create_index("ix_events_change", "events", ["change"])


def downgrade() -> None:
    op.drop_table("events")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("writer")
        batch.drop_column("version")
