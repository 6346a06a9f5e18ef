from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from airspace.captions.models import SEARCH_TABLE
from airspace.db.base import Base, import_all_models
from airspace.db.engine import create_database_engine
from airspace.db.migrate import current_revision, head_revision, is_up_to_date, upgrade


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        assert is_up_to_date(engine)
        assert current_revision(engine) == head_revision(engine)
        import_all_models()
        with engine.connect() as connection:
            # Full-text search is built by hand per database (FTS5 / a GIN expression index).
            context = MigrationContext.configure(
                connection,
                opts={"include_name": lambda name, *_: SEARCH_TABLE not in str(name)},
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_usernames_differing_only_in_case_are_reported_not_merged(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0010")
        with engine.begin() as connection:
            for name in ("Host", "host", "ada"):
                connection.execute(
                    text(
                        "INSERT INTO users (username, display_name, password_hash, role, "
                        "captions_opt_out, created_at) VALUES (:n, :n, 'x', 'user', 0, :t)"
                    ),
                    {"n": name, "t": "2026-11-01 00:00:00"},
                )
        with pytest.raises(RuntimeError, match="differ only in case: Host, host"):
            upgrade(engine)
        assert current_revision(engine) == "0010"  # nothing half done
    finally:
        engine.dispose()
