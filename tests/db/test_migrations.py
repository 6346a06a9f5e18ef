from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from airspace.captions.models import SEARCH_TABLE
from airspace.db.base import Base, import_all_models
from airspace.db.engine import create_database_engine
from airspace.db.migrate import current_revision, head_revision, is_up_to_date


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
