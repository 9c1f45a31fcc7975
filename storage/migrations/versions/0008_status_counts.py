"""Per-annotator, per-batch status counts, kept with every status change (the progress bar
reads them instead of every status of the annotator).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counts = op.create_table(
        "status_counts",
        sa.Column("annotator", sa.String(64), primary_key=True),
        sa.Column("batch", sa.String(1024), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    statuses = sa.table(
        "image_statuses",
        sa.column("image_key", sa.String),
        sa.column("annotator", sa.String),
        sa.column("status", sa.String),
    )
    found: Counter[tuple[str, str, str]] = Counter()
    rows = op.get_bind().execute(
        sa.select(statuses.c.image_key, statuses.c.annotator, statuses.c.status)
    )
    for key, who, status in rows:
        head, slash, _ = key.partition("/")  # the batch: the key's first folder ('' at the top)
        found[(who, head if slash else "", status)] += 1
    if found:
        op.bulk_insert(
            counts,
            [
                {"annotator": who, "batch": batch, "status": status, "count": n}
                for (who, batch, status), n in sorted(found.items())
            ],
        )


def downgrade() -> None:
    op.drop_table("status_counts")
