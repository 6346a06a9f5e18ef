"""data archives: a zip of an account's data, built by a job and kept for a week

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archives",
        sa.Column("id", sa.String(13), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("space_ids", sa.JSON(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
        sa.Column("ready_at", airspace.db.base.UTCDateTime(), nullable=True),
        sa.Column("expires_at", airspace.db.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_archives_user_id", "archives", ["user_id"])
    op.create_index("ix_archives_state", "archives", ["state"])


def downgrade() -> None:
    op.drop_table("archives")
