"""Assignment of images to annotators, k per image (ANNOTATORS_PER_IMAGE).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("image_key", sa.String(1024), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("image_key", "annotator", name="uq_assignments_image_annotator"),
    )
    op.create_index("ix_assignments_annotator", "assignments", ["annotator"])


def downgrade() -> None:
    op.drop_table("assignments")
