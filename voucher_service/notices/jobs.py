"""Scheduled jobs: warn 30 days before a voucher expires; draft last month's settlements."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.webhooks import emit
from voucher_service.exports.columns import SHANGHAI, amount_yuan, local_time
from voucher_service.notices.models import VoucherExpiryNotice
from voucher_service.programs.models import Program, ProgramStatus
from voucher_service.settlements import service as settlements
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherState
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.notices")

WARN_BEFORE = timedelta(days=30)
BATCH = 200
WARNED_STATES = (VoucherState.active, VoucherState.frozen, VoucherState.exhausted)


async def due_for_warning(session: AsyncSession, limit: int = BATCH) -> list[uuid.UUID]:
    """Vouchers expiring within 30 days that were not warned yet."""
    now = utcnow()
    warned = select(VoucherExpiryNotice.voucher_id).where(
        col(VoucherExpiryNotice.voucher_id) == col(Voucher.id)
    )
    query = (
        select(Voucher.id)
        .where(
            col(Voucher.state).in_([state.value for state in WARNED_STATES]),
            col(Voucher.valid_until) > now,
            col(Voucher.valid_until) <= now + WARN_BEFORE,
            ~warned.exists(),
        )
        .order_by(col(Voucher.valid_until))
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def warn(session: AsyncSession, voucher_id: uuid.UUID) -> bool:
    """Record the holder's notice and tell the voucher's providers (once per voucher)."""
    voucher = await session.get(Voucher, voucher_id)
    if voucher is None or await session.get(VoucherExpiryNotice, voucher_id) is not None:
        return False
    balance = (await vouchers.balance_of(session, voucher)).available
    until = local_time(voucher.valid_until)
    session.add(
        VoucherExpiryNotice(
            voucher_id=voucher.id,
            holder_id=voucher.holder_id,
            valid_until=voucher.valid_until,
            balance_amount=max(balance, 0),
            message=f"Voucher {voucher.code} expires on {until} (Beijing time) with "
            f"{amount_yuan(balance)} CNY unused.",
            message_zh=f"算力券/模型券 {voucher.code} 将于北京时间 {until} 到期，"
            f"尚有 {amount_yuan(balance)} 元未使用。",
        )
    )
    await session.flush()
    data = vouchers.event_data(voucher, balance, "expires within 30 days")
    for provider_id in await vouchers.bound_provider_ids(session, voucher.id):
        emit(session, provider_id, "voucher.expiring", data)
    return True


@job("notices.voucher_expiry", every=timedelta(hours=1), exclusive=True)
async def warn_expiring_vouchers(context: JobContext) -> None:
    """Warn holders and providers of vouchers expiring within 30 days."""
    async with context.database.unit_of_work(readonly=True) as session:
        due = await due_for_warning(session)
    for voucher_id in due:
        async with context.database.unit_of_work() as session:
            await warn(session, voucher_id)
    if due:
        logger.info("warned of voucher expiry", extra={"count": len(due)})


def last_month(today: date) -> tuple[date, date]:
    """The calendar month before ``today``'s."""
    first_of_this = today.replace(day=1)
    end = first_of_this - timedelta(days=1)
    return end.replace(day=1), end


@job("settlements.monthly_drafts", every=timedelta(hours=6), exclusive=True)
async def draft_monthly_settlements(context: JobContext) -> None:
    """Draft last month's settlements of every programme (items already settled are skipped)."""
    period = last_month(utcnow().astimezone(SHANGHAI).date())
    async with context.database.unit_of_work(readonly=True) as session:
        programs = (
            await session.scalars(
                select(Program.id).where(
                    col(Program.status).in_([ProgramStatus.open, ProgramStatus.closed])
                )
            )
        ).all()
    for program_id in programs:
        async with context.database.unit_of_work() as session:
            program = await session.get(Program, program_id)
            if program is not None:
                made = await settlements.generate(session, program, period)
                if made:
                    logger.info("drafted settlements", extra={"count": len(made)})
