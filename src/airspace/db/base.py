"""The declarative base every model inherits, and column types shared by models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def import_all_models() -> None:
    """Import every model module so ``Base.metadata`` knows all tables."""
    from airspace.accounts import models as _accounts  # noqa: F401
    from airspace.archive import models as _archive  # noqa: F401
    from airspace.captions import models as _captions  # noqa: F401
    from airspace.downloader import models as _downloader  # noqa: F401
    from airspace.jobs import models as _jobs  # noqa: F401
    from airspace.moderation import models as _moderation  # noqa: F401
    from airspace.recordings import models as _recordings  # noqa: F401
    from airspace.sharing import models as _sharing  # noqa: F401
    from airspace.spaces import models as _spaces  # noqa: F401
