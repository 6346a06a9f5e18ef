"""the node that holds a live Space's room, and its lease

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch:
        batch.add_column(sa.Column("owner_node", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("lease_expires_at", airspace.db.base.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("spaces") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner_node")
