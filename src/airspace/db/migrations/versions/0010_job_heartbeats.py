"""a heartbeat on each running job, so a run whose worker died is run again

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airspace.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", airspace.db.base.UTCDateTime(), nullable=True))
        batch.create_index("ix_job_runs_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_index("ix_job_runs_status")
        batch.drop_column("heartbeat_at")
