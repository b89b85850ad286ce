"""Bounded retries of a whole unit of work on deadlocks, serialization failures, lost links."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.retry import backoff, is_retryable, run_transaction
from tests.ledger.fakes import FakeUnitOfWork, db_error


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (db_error(sqlstate="40001"), True),  # serialization failure
        (db_error(sqlstate="40P01"), True),  # deadlock detected
        (db_error(sqlstate="57P01"), True),  # terminated by an administrator
        (db_error(sqlstate="08006"), True),  # connection failure
        (db_error(invalidated=True), True),
        (db_error("database is locked"), True),  # SQLite busy past its timeout
        (db_error("connection is closed"), True),
        (db_error(sqlstate="23505"), False),  # unique violation: retrying changes nothing
        (db_error("no such table"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_what_is_worth_retrying(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable


async def test_a_retryable_failure_runs_the_work_again() -> None:
    unit = FakeUnitOfWork()
    calls = 0

    async def work(_: Any) -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise db_error(sqlstate="40P01")
        return "done"

    assert await run_transaction(unit, work, attempts=3) == "done"
    assert (calls, unit.opened, unit.committed) == (3, 3, 1)


async def test_a_failed_commit_is_retried_too() -> None:
    unit = FakeUnitOfWork()
    unit.fail_commits = [db_error(sqlstate="40001")]

    async def work(_: Any) -> int:
        return unit.opened

    assert await run_transaction(unit, work) == 2
    assert unit.committed == 1


async def test_retries_are_bounded_and_other_errors_pass_through() -> None:
    unit = FakeUnitOfWork()

    async def always_deadlocks(_: Any) -> None:
        raise db_error(sqlstate="40P01")

    with pytest.raises(DBAPIError):
        await run_transaction(unit, always_deadlocks, attempts=2)
    assert unit.opened == 2

    async def broken(_: Any) -> None:
        raise db_error(sqlstate="23505")

    with pytest.raises(DBAPIError):
        await run_transaction(unit, broken)
    assert unit.opened == 3
    with pytest.raises(ValueError, match="attempts"):
        await run_transaction(unit, broken, attempts=0)


def test_backoff_is_jittered_and_capped() -> None:
    delays = [backoff(attempt) for attempt in range(1, 20) for _ in range(5)]
    assert all(0 <= delay <= 0.5 for delay in delays)
    assert len(set(delays)) > 1
