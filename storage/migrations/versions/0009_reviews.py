"""Review into gold: review statuses, comment threads, rework requests, and the per-image
disagreement the review queue and the gallery read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image_key", sa.String(1024), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
    )
    op.create_index("ix_comments_image", "comments", ["image_key"])
    op.create_table(
        "rework",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("annotator", sa.String(64), primary_key=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rework_annotator", "rework", ["annotator"])
    op.create_table(
        "image_disagreement",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("image_disagreement")
    op.drop_index("ix_rework_annotator", "rework")
    op.drop_table("rework")
    op.drop_index("ix_comments_image", "comments")
    op.drop_table("comments")
    op.drop_table("reviews")
