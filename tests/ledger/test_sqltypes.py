"""The shared column types: aware UTC datetimes in, aware UTC datetimes out, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from ledger.sqltypes import UTCDateTime


def test_aware_values_are_stored_in_utc() -> None:
    column = UTCDateTime()
    shanghai = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert column.process_bind_param(shanghai, postgresql.dialect()) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert column.process_bind_param(shanghai, sqlite.dialect()) == datetime(2026, 1, 1)
    assert column.process_bind_param(None, sqlite.dialect()) is None
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_values_come_back_aware() -> None:
    column = UTCDateTime()
    assert column.process_result_value(datetime(2026, 1, 1), sqlite.dialect()) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    shanghai = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert column.process_result_value(shanghai, postgresql.dialect()) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert column.process_result_value(None, postgresql.dialect()) is None
