"""speaker tracks: each speaker's own voice of a recording, as an Ogg Opus file

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speaker_tracks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "recording_id",
            sa.Integer(),
            sa.ForeignKey("recordings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("speaker_name", sa.String(50), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.UniqueConstraint("recording_id", "username"),
    )
    op.create_index("ix_speaker_tracks_recording_id", "speaker_tracks", ["recording_id"])


def downgrade() -> None:
    op.drop_table("speaker_tracks")
