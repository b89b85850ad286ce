"""Pooled connections are not pinged (no ``pool_pre_ping`` round trip); one the server closed is
replaced at checkout, so the next unit of work after ``pg_terminate_backend`` just works."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from voucher_service.db import Database

pytestmark = pytest.mark.postgres_only


async def _backend_pid(database: Database) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return int(await session.scalar(sa.text("SELECT pg_backend_pid()")))


async def test_a_connection_the_server_closed_is_replaced_without_an_error(
    database: Database, database_url: str
) -> None:
    first = await _backend_pid(database)
    again = await _backend_pid(database)
    assert again == first  # pooled: the same server connection serves the next unit of work
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    other = await asyncpg.connect(url)  # not from the pool, which would hand out `first`
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # asyncpg notices the closed socket when the event loop reads it
    replaced = await _backend_pid(database)
    assert replaced != first


async def test_checkouts_are_not_pinged(database: Database) -> None:
    """``pool_pre_ping`` would cost a ``SELECT 1`` round trip per unit of work."""
    assert database.engine.pool._pre_ping is False
