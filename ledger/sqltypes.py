"""Column types and helpers shared by every table, ledger and application alike.

They live here, at the bottom of the dependency graph, because the ledger needs them and must
not import the application; ``voucher_service.kit`` re-exports them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import uuid_utils.compat
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

#: Constraint names are derived, never left to the database, so migrations can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """A new UUIDv7: unique and ordered by creation time, so it doubles as a keyset key."""
    return uuid_utils.compat.uuid7()


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A ``timestamptz`` that only accepts aware datetimes and always returns them in UTC.

    SQLite has no time zones; values are stored there as naive UTC and made aware on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timestamptz column; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class db_now(FunctionElement[datetime]):
    """The database clock, so that expiries do not depend on the clocks of API hosts."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(db_now, "postgresql")
def _db_now_postgresql(_element: db_now, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "statement_timestamp()"


@compiles(db_now, "sqlite")
def _db_now_sqlite(_element: db_now, _compiler: SQLCompiler, **_kw: Any) -> str:
    # Same text format SQLAlchemy stores SQLite datetimes in, so comparisons are correct.
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
