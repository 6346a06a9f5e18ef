"""account settings: a podcast feed of the host's public recordings, and an email
address notifications are sent to

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(
            sa.Column("podcast_feed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("email", sa.String(254), nullable=True))
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("emailed_at", airspace.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_column("emailed_at")
    with op.batch_alter_table("users") as table:
        table.drop_column("email")
        table.drop_column("podcast_feed")
