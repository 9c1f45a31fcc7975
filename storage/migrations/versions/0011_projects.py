"""Projects: one deployment, several teams. The deployment as it was becomes the first
project ("default", open to every account, every setting the environment's), and its
records stay where they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("image_source", sa.String(1024), nullable=True),
        sa.Column("labels", sa.JSON, nullable=True),
        sa.Column("annotators_per_image", sa.Integer, nullable=True),
        sa.Column("claim_minutes", sa.Integer, nullable=True),
        sa.Column("repeat_percent", sa.Integer, nullable=True),
        sa.Column("suggestions", sa.String(8), nullable=True),
        sa.Column("open_to_all", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("members_upload", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sqlite_autoincrement=True,  # an id is never given twice: it names the space
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_index("ix_project_members_account", "project_members", ["account"])
    if context.config.attributes.get("space") == "project":
        return  # a project's own space: the list of projects lives in the main one only
    now = datetime.now(UTC)
    op.bulk_insert(
        projects,
        [
            {
                "slug": "default",
                "name": "Default project",
                "open_to_all": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_project_members_account", "project_members")
    op.drop_table("project_members")
    op.drop_table("projects")
