"""Units of work commit in one place; SQLite is safe with several writers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update

from ledger.sqltypes import db_now, utcnow
from voucher_service.db import Database, create_engine
from voucher_service.settings import Settings
from voucher_service.worker.models import WorkerJob


async def _count(database: Database) -> int:
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WorkerJob, "counter")
        return row.run_count if row else -1


async def test_unit_of_work_commits_on_success(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add(WorkerJob(name="counter", next_run_at=utcnow()))
    assert await _count(database) == 0


async def test_unit_of_work_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as session:
            session.add(WorkerJob(name="counter", next_run_at=utcnow()))
            await session.flush()
            raise RuntimeError("business rule failed")
    assert await _count(database) == -1


async def test_readonly_unit_of_work_never_commits(database: Database) -> None:
    async with database.unit_of_work(readonly=True) as session:
        session.add(WorkerJob(name="counter", next_run_at=utcnow()))
        await session.flush()
    assert await _count(database) == -1


async def test_sqlite_is_in_wal_mode_with_a_busy_timeout(database: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    async with database.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 10_000
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_concurrent_writers_from_separate_engines_lose_nothing(
    database: Database, settings: Settings
) -> None:
    """Read-then-write increments from two engines (as two processes would) all survive.

    On SQLite ``BEGIN IMMEDIATE`` serialises the transactions; on PostgreSQL the row lock does.
    """
    async with database.unit_of_work() as session:
        session.add(WorkerJob(name="counter", next_run_at=utcnow()))
    other = Database(create_engine(settings))

    async def increment(db: Database) -> None:
        async with db.unit_of_work() as session:
            row = await session.scalar(
                select(WorkerJob).where(WorkerJob.name == "counter").with_for_update()
            )
            assert row is not None
            await asyncio.sleep(0)  # give the other writer a chance to interleave
            await session.execute(
                update(WorkerJob)
                .where(WorkerJob.name == "counter")
                .values(run_count=row.run_count + 1)
            )

    try:
        await asyncio.gather(*(increment(db) for _ in range(15) for db in (database, other)))
    finally:
        await other.dispose()
    assert await _count(database) == 30


async def test_database_clock_is_close_to_ours(database: Database) -> None:
    async with database.unit_of_work(readonly=True) as session:
        now = await session.scalar(select(db_now()))
    assert now is not None and now.tzinfo is not None
    assert abs((now - utcnow()).total_seconds()) < 5


async def test_naive_datetimes_are_refused(database: Database) -> None:
    from datetime import datetime

    with pytest.raises(Exception, match="naive datetime"):
        async with database.unit_of_work() as session:
            session.add(WorkerJob(name="naive", next_run_at=datetime(2026, 1, 1)))
            await session.flush()


async def test_postgres_isolation_default(database: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    async with database.engine.connect() as connection:
        level = (await connection.execute(text("SHOW transaction_isolation"))).scalar()
    assert level == "read committed"
