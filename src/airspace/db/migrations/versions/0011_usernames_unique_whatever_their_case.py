"""usernames unique whatever their case: Host, HOST and host are one account

Revision ID: 0011
Revises: 0010

Existing accounts whose names differ only in case are reported and the migration stops:
which of them keeps the name is for an admin to decide, not for the migration to guess.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    clashes = connection.execute(
        sa.text(
            "SELECT lower(username), COUNT(*) FROM users GROUP BY lower(username) "
            "HAVING COUNT(*) > 1 ORDER BY lower(username)"
        )
    ).all()
    if clashes:
        names = ", ".join(
            name
            for (key, _) in clashes
            for (name,) in connection.execute(
                sa.text("SELECT username FROM users WHERE lower(username) = :key"), {"key": key}
            )
        )
        raise RuntimeError(
            "usernames must now be unique whatever their case, and these differ only in "
            f"case: {names}. Rename all but one of each, then run `airspace db upgrade` again."
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=30), nullable=True))
    connection.execute(sa.text("UPDATE users SET username_key = lower(username)"))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=30), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("username_key")
