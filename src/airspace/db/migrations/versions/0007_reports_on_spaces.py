"""reports on Spaces

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REASONS = ("spam", "harassment", "hate", "violence", "sexual", "misinformation", "other")


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.String(length=13), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("listener", sa.String(length=64), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="reportreason", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("at_seconds", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "dismissed", "actioned", name="reportstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("created_at", airspace.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_reports_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports") as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_space_id"), ["space_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("reports")
