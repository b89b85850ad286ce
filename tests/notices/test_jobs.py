"""Scheduled notices: a voucher 30 days from expiry is warned once (notice and outbox event);
monthly settlement drafts cover last month."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.webhooks.models import WebhookEvent
from tests.programs.factories import create_provider, create_voucher
from voucher_service.db import Database
from voucher_service.kit.models import utcnow
from voucher_service.notices import jobs
from voucher_service.notices.models import VoucherExpiryNotice
from voucher_service.vouchers.models import Voucher


def test_last_month() -> None:
    assert jobs.last_month(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert jobs.last_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))


async def test_a_voucher_near_expiry_is_warned_once(
    session: AsyncSession, database: Database
) -> None:
    provider = await create_provider(session)
    soon = await create_voucher(session, amount=500_00, provider=provider)
    later = await create_voucher(session, amount=500_00, provider=provider)
    await session.execute(
        sa.update(Voucher)
        .where(col(Voucher.id) == soon.id)
        .values(valid_until=utcnow() + timedelta(days=10))
    )
    await session.commit()
    for _ in range(2):
        async with database.unit_of_work(readonly=True) as reading:
            due = await jobs.due_for_warning(reading)
        for voucher_id in due:
            async with database.unit_of_work() as work:
                await jobs.warn(work, voucher_id)
    notices = (await session.scalars(select(VoucherExpiryNotice))).all()
    assert [n.voucher_id for n in notices] == [soon.id]
    assert "500.00" in notices[0].message_zh
    events = (
        await session.scalars(
            select(WebhookEvent).where(col(WebhookEvent.event_type) == "voucher.expiring")
        )
    ).all()
    assert [e.provider_id for e in events] == [provider.id]
    assert later.id not in {n.voucher_id for n in notices}
