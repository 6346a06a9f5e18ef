"""profiles: a short bio, and which version of an uploaded picture is current

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("bio", sa.String(160), nullable=False, server_default=""))
        table.add_column(
            sa.Column("avatar_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("avatar_version")
        table.drop_column("bio")
