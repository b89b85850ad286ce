"""The identity housekeeping job forgets what can no longer matter, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.clients import service as clients
from providers.clients.models import ClientAssertionJti
from tests.factories import create_provider_client
from voucher_service.db import Database
from voucher_service.ratelimit import service as ratelimit
from voucher_service.ratelimit.models import RateLimitBucket
from voucher_service.worker.registry import JobContext
from voucher_service.worker.runner import Worker


async def count(database: Database, model: type) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_expired_assertion_ids_and_idle_buckets_are_purged(
    app: FastAPI, session: AsyncSession, database: Database
) -> None:
    issued = await create_provider_client(app, session)
    async with database.unit_of_work() as work:
        assert await clients.remember_jti(
            work, issued.client, "old", utcnow() - timedelta(minutes=1)
        )
        assert await clients.remember_jti(
            work, issued.client, "live", utcnow() + timedelta(minutes=5)
        )
        assert not await clients.remember_jti(work, issued.client, "live", utcnow())
        work.add(RateLimitBucket(key="idle", window=1, count=5, previous_count=0))
    await ratelimit.check(database, [ratelimit.Limit("busy", 10)], window_seconds=60)
    worker = Worker(JobContext(database, app.state.settings, app.state.keyring, "test"))
    assert await worker.run_once("auth.housekeeping")
    assert await count(database, ClientAssertionJti) == 1
    assert await count(database, RateLimitBucket) == 1
