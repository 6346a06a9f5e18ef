"""sharing: following hosts, the bell's notifications, shares inside the instance, clips,
and the host's clip and download settings on recordings

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _user(name: str) -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user("follower_id"),
        _user("host_id"),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("follower_id", "host_id", name="uq_follows_follower_id"),
    )
    op.create_index("ix_follows_follower_id", "follows", ["follower_id"])
    op.create_index("ix_follows_host_id", "follows", ["host_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user("user_id"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
        sa.Column("read_at", airspace.db.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_notifications_user_id", "notifications", ["user_id"])
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "space_id",
            sa.String(13),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user("sender_id"),
        sa.Column("comment", sa.String(280), nullable=False),
        sa.Column("to_followers", sa.Boolean(), nullable=False),
        sa.Column("at_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_shares_space_id", "shares", ["space_id"])
    op.create_index("ix_shares_sender_id", "shares", ["sender_id"])
    op.create_table(
        "clips",
        sa.Column("id", sa.String(13), primary_key=True),
        sa.Column(
            "space_id",
            sa.String(13),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "recording_id",
            sa.Integer(),
            sa.ForeignKey("recordings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user("creator_id"),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", airspace.db.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clips_space_id", "clips", ["space_id"])
    op.create_index("ix_clips_recording_id", "clips", ["recording_id"])
    op.create_index("ix_clips_creator_id", "clips", ["creator_id"])
    with op.batch_alter_table("recordings") as table:
        table.add_column(
            sa.Column("clips_allowed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        table.add_column(
            sa.Column("downloads_allowed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings") as table:
        table.drop_column("downloads_allowed")
        table.drop_column("clips_allowed")
    op.drop_table("clips")
    op.drop_table("shares")
    op.drop_table("notifications")
    op.drop_table("follows")
