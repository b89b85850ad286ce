"""``voucher-service demo``: a programme with applications at every step, once only."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from voucher_service.applications.models import Application
from voucher_service.demo.command import fill
from voucher_service.redemptions.models import Redemption
from voucher_service.settings import Settings
from voucher_service.vouchers.models import Voucher


async def test_the_demo_fills_an_empty_database_once(
    settings: Settings, session: AsyncSession
) -> None:
    cast = await fill(settings)
    assert cast is not None
    states = dict(
        (
            await session.execute(
                select(col(Application.state), func.count()).group_by(col(Application.state))
            )
        ).all()
    )
    assert states == {
        "approved": 3,
        "in_review": 1,
        "submitted": 1,
        "returned": 1,
        "rejected": 1,
        "draft": 1,
    }
    assert await session.scalar(select(func.count()).select_from(Voucher)) == 3
    assert await session.scalar(select(func.count()).select_from(Redemption)) == 9
    await session.commit()
    assert await fill(settings) is None  # never twice, never over other data
