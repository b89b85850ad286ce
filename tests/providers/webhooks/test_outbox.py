"""The outbox: one insert in the caller's transaction; rolled back means never emitted."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from providers.webhooks.errors import UnknownEventType
from providers.webhooks.events import TEST_EVENT_TYPE, example_data
from providers.webhooks.models import PENDING, WebhookEvent
from providers.webhooks.outbox import emit
from tests.providers.webhooks.conftest import new_provider
from voucher_service.db import Database


async def _count(database: Database) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


async def test_committed_change_emits(database: Database) -> None:
    provider_id = await new_provider(database)
    async with database.unit_of_work() as session:
        event_id = emit(session, provider_id, "voucher.bound", example_data("voucher.bound"))
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WebhookEvent, event_id)
    assert row is not None
    assert (row.provider_id, row.event_type, row.status) == (provider_id, "voucher.bound", PENDING)
    assert row.next_attempt_at == row.created_at  # due immediately


async def test_rolled_back_change_emits_nothing(database: Database) -> None:
    class BusinessRuleBroken(Exception):
        pass

    provider_id = await new_provider(database)
    with pytest.raises(BusinessRuleBroken):
        async with database.unit_of_work() as session:
            emit(session, provider_id, "voucher.revoked", example_data("voucher.revoked"))
            await session.flush()  # the row was written inside the transaction...
            raise BusinessRuleBroken
    assert await _count(database) == 0  # ...and left with it


async def test_emitting_costs_exactly_one_insert(database: Database) -> None:
    provider_id = await new_provider(database)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    async with database.unit_of_work() as session:
        await session.connection()  # begin the transaction before counting
        event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        try:
            emit(session, provider_id, "settlement.paid", example_data("settlement.paid"))
            await session.flush()
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert statements == ["INSERT"]


async def test_events_keep_their_order_per_provider(
    database: Database, session: AsyncSession
) -> None:
    provider_id = await new_provider(database)
    ids = [
        emit(session, provider_id, "redemption.captured", example_data("redemption.captured"))
        for _ in range(20)
    ]
    await session.commit()
    rows = (
        await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.provider_id == provider_id)
            .order_by(WebhookEvent.id)
        )
    ).all()
    assert [row.id for row in rows] == ids
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)


async def test_test_events_cannot_be_emitted_by_domains(
    database: Database, session: AsyncSession
) -> None:
    provider_id = await new_provider(database)
    with pytest.raises(UnknownEventType):
        emit(session, provider_id, TEST_EVENT_TYPE, {"message": "hi"})
