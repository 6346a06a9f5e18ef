"""what a node needs to take a live room over: the room's roster, and where the
recording's timeline jumps

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch:
        batch.add_column(sa.Column("room_roster", sa.Text(), nullable=True))
    with op.batch_alter_table("recording_segments") as batch:
        batch.add_column(
            sa.Column("discontinuity", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("recording_segments") as batch:
        batch.drop_column("discontinuity")
    with op.batch_alter_table("spaces") as batch:
        batch.drop_column("room_roster")
