"""The database clock, shifted: hold timeouts are set and checked by the database, not by hosts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ledger.sqltypes import UTCDateTime, db_now

__all__ = ["db_now", "db_now_plus"]


class db_now_plus(FunctionElement[datetime]):
    """``db_now()`` plus a number of milliseconds (a bound integer expression)."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, milliseconds: Any) -> None:
        super().__init__(sa.cast(milliseconds, sa.BigInteger))


@compiles(db_now_plus, "postgresql")
def _plus_postgresql(element: db_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    milliseconds = compiler.process(element.clauses, **kw)
    return f"(statement_timestamp() + ({milliseconds}) * interval '1 millisecond')"


@compiles(db_now_plus, "sqlite")
def _plus_sqlite(element: db_now_plus, compiler: SQLCompiler, **kw: Any) -> str:
    milliseconds = compiler.process(element.clauses, **kw)
    # Same text format SQLAlchemy stores SQLite datetimes in, so comparisons stay correct.
    return (
        f"strftime('%Y-%m-%d %H:%M:%f000', 'now', '+' || (({milliseconds}) / 1000.0) || ' seconds')"
    )
