"""pending downloads: Spaces of this instance an account asked to download once they end

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from airspace.db.base import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_downloads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "space_id",
            sa.String(13),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "space_id"),
    )
    op.create_index("ix_pending_downloads_user_id", "pending_downloads", ["user_id"])
    op.create_index("ix_pending_downloads_space_id", "pending_downloads", ["space_id"])


def downgrade() -> None:
    op.drop_table("pending_downloads")
