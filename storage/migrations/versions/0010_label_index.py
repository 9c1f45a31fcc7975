"""An index on (label, image_key): Label QA pages through one label's shapes in key order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_annotations_label_image", "annotations", ["label", "image_key"])


def downgrade() -> None:
    op.drop_index("ix_annotations_label_image", "annotations")
