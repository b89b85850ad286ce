"""``voucher-service demo``: a programme with applications at every step, once only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.applications.models import Application
from voucher_service.demo.command import fill
from voucher_service.programs.models import Program
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
        "publicity": 1,
    }
    assert await session.scalar(select(func.count()).select_from(Voucher)) == 3
    listed = (
        await session.scalars(select(Application).where(col(Application.state) == "publicity"))
    ).one()
    program = await session.get(Program, listed.program_id)
    assert program is not None
    assert program.review_stages[-1] == {"name": "公示", "kind": "publicity", "days": 7}
    assert listed.publicity_until is not None
    assert listed.publicity_until > utcnow() + timedelta(days=6)  # listed for a real week
    assert await session.scalar(select(func.count()).select_from(Redemption)) == 9
    await session.commit()
    assert await fill(settings) is None  # never twice, never over other data
