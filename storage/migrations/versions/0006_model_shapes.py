"""Shapes from a detector: a score, and a source long enough for model:<name>@<version>.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite changes a column's type by copying the table
    with op.batch_alter_table("annotations") as batch:
        batch.alter_column(
            "source", existing_type=sa.String(16), type_=sa.String(128), existing_nullable=False
        )
        batch.add_column(sa.Column("score", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("score")
        batch.alter_column(
            "source", existing_type=sa.String(128), type_=sa.String(16), existing_nullable=False
        )
