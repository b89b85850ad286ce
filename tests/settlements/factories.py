"""Ledger movements a settlement takes, posted as the redemption and claim domains post them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from voucher_service.settlements import sources
from voucher_service.settlements.models import PayeeKind
from voucher_service.vouchers.models import Voucher


async def _move(
    session: AsyncSession, debit: ledger.AccountSpec, credit: ledger.AccountSpec, amount: int
) -> uuid.UUID:
    accounts = await ledger.open_accounts(session, [debit, credit])
    transfer = ledger.Transfer(accounts[debit.code], accounts[credit.code], amount)
    outcome = await ledger.transfer(session, f"test:{uuid.uuid4()}", [transfer])
    record = outcome.unwrap()
    await session.commit()
    return record.id


async def capture(
    session: AsyncSession,
    voucher: Voucher,
    payee_id: uuid.UUID,
    amount: int,
    kind: PayeeKind = PayeeKind.provider,
) -> uuid.UUID:
    """A captured redemption (or an approved claim): voucher → the payee's payable account."""
    return await _move(
        session, ledger.chart.voucher(voucher.id), sources.payable(kind, payee_id), amount
    )


async def refund(
    session: AsyncSession, voucher: Voucher, payee_id: uuid.UUID, amount: int, *, paid_out: bool
) -> uuid.UUID:
    """A refund back to the voucher: from the payable, or (after payout) the receivable."""
    kind = PayeeKind.provider
    source = sources.receivable(kind, payee_id) if paid_out else sources.payable(kind, payee_id)
    return await _move(session, source, ledger.chart.voucher(voucher.id), amount)
