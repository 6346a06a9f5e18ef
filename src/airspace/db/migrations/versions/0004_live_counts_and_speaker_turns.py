"""live rooms keep counts on the Space and a speaker timeline on the recording

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch_op:
        batch_op.add_column(
            sa.Column("participant_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("peak_listeners", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "speaker_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("speaker_name", sa.String(length=50), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("end_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_speaker_turns_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_speaker_turns_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_turns")),
    )
    with op.batch_alter_table("speaker_turns") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speaker_turns_recording_id"), ["recording_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("speaker_turns")
    with op.batch_alter_table("spaces") as batch_op:
        batch_op.drop_column("peak_listeners")
        batch_op.drop_column("participant_count")
