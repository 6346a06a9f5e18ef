"""segments carry their waveform; recordings count replays

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recording_segments") as batch_op:
        batch_op.add_column(sa.Column("peaks", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("recordings") as batch_op:
        batch_op.add_column(
            sa.Column("replay_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "replay_plays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("listener", sa.String(length=64), nullable=False),
        sa.Column("counted_at", airspace.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_replay_plays_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_plays")),
    )
    with op.batch_alter_table("replay_plays") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replay_plays_recording_id"), ["recording_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("replay_plays")
    with op.batch_alter_table("recordings") as batch_op:
        batch_op.drop_column("replay_count")
    with op.batch_alter_table("recording_segments") as batch_op:
        batch_op.drop_column("peaks")
