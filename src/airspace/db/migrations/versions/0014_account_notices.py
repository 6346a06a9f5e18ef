"""account notices: what happened to an account that its owner should hear of (a lockout)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("dismissed_at", airspace.db.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_account_notices_user_id", "account_notices", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_account_notices_user_id", "account_notices")
    op.drop_table("account_notices")
