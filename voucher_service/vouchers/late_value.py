"""Value that comes back to a voucher after it was revoked or expired goes on to its programme.

Revocation and expiry sweep what is available; a hold open at that moment keeps its part on the
voucher. When that hold is later voided (or expires, by the ledger's own job), or a captured
redemption is refunded, the value lands on a voucher that can no longer be used. This pass finds
such vouchers and sweeps the value back, so unused value always returns to its budget line.

Each sweep's client id counts the account's legs (``late:<n>``): the same state gives the same id
(two workers racing make one move), and any new movement gives a new one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account, entry
from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import FINAL_STATES, Voucher

#: Holds last at most a week (a programme's ``hold_timeout_seconds``); look back a little longer.
LOOK_BACK = timedelta(days=8)


async def candidates(session: AsyncSession, *, limit: int) -> list[uuid.UUID]:
    """Final vouchers changed within LOOK_BACK whose account has value available again."""
    since = utcnow() - LOOK_BACK  # a look-back bound only: the host clock will do
    recent = (
        await session.scalars(
            select(Voucher.id)
            .where(col(Voucher.state).in_(FINAL_STATES), col(Voucher.state_changed_at) >= since)
            .order_by(col(Voucher.state_changed_at))
        )
    ).all()
    codes = {vouchers.voucher_account_code(voucher_id): voucher_id for voucher_id in recent}
    if not codes:
        return []
    available = account.c.credits_posted - account.c.debits_posted - account.c.debits_pending
    rows = await session.scalars(
        sa.select(account.c.code).where(account.c.code.in_(list(codes)), available > 0).limit(limit)
    )
    return [codes[code] for code in rows]


async def return_late_value(session: AsyncSession, voucher_id: uuid.UUID) -> int:
    """Sweep a final voucher's available value back to its programme; returns the amount."""
    voucher = (
        await session.execute(
            select(Voucher)
            .where(col(Voucher.id) == voucher_id, col(Voucher.state).in_(FINAL_STATES))
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if voucher is None:
        return 0
    voucher_account = await ledger.get_account(session, vouchers.voucher_account_code(voucher.id))
    legs = await session.scalar(
        sa.select(sa.func.count())
        .select_from(entry)
        .where(entry.c.account_id == voucher_account.id)
    )
    returned = await vouchers.return_remainder(session, voucher, occasion=f"late:{legs}")
    if returned:
        await audit.record(
            session,
            action="voucher.late_value_returned",
            actor=audit.AuditActor.system("vouchers.return_late_value"),
            target=("voucher", voucher.id),
            after={"returned_amount": returned, "state": voucher.state},
        )
    return returned
