"""Alembic environment: runs migrations on the engine handed over by airspace.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from airspace.db.base import Base, import_all_models

import_all_models()
engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
