"""recording chapters: the host's own chapters of a recording

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_chapters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "recording_id",
            sa.Integer(),
            sa.ForeignKey("recordings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
    )
    op.create_index("ix_recording_chapters_recording_id", "recording_chapters", ["recording_id"])


def downgrade() -> None:
    op.drop_table("recording_chapters")
