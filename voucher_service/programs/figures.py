"""A programme's money, read from the ledger: every figure from account legs, none cached.

Flows (DESIGN §4): funding credits ``program:P:available`` from the treasury; issuance moves
available → ``voucher:V``; redemptions and claims move a voucher's value to a provider's or an
enterprise's payable account (refunds move it back); revocation and expiry return a voucher's
remainder to available; a settlement pays a payable account into the treasury with a reference
made by :func:`payout_reference`. So, exactly:

    available   = budget − committed + returned
    committed   = returned + spent + outstanding      (outstanding: posted value still on vouchers)
    spent       ≥ paid_out
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account
from voucher_service.vouchers.models import Voucher


def available_account_code(program_id: uuid.UUID) -> str:
    """The ledger code of the programme's budget not yet issued."""
    return ledger.chart.program_available(program_id).code


def payout_reference(program_id: uuid.UUID, settlement_id: uuid.UUID) -> str:
    """The reference a settlement's payout of this programme's money must carry."""
    return f"payout:{program_id}:{settlement_id}"


@dataclass(frozen=True)
class ProgramFigures:
    """The programme's money in fen, all from the ledger (see the module's identities)."""

    budget: int
    committed: int
    spent: int
    paid_out: int
    returned: int
    available: int
    outstanding: int
    on_hold: int


async def _account_id(session: AsyncSession, code: str) -> uuid.UUID | None:
    return await session.scalar(sa.select(account.c.id).where(account.c.code == code))


async def voucher_account_ids(
    session: AsyncSession, voucher_filter: sa.ColumnElement[bool]
) -> list[uuid.UUID]:
    """The ledger accounts of the vouchers matching ``voucher_filter``."""
    voucher_ids = (await session.scalars(select(Voucher.id).where(voucher_filter))).all()
    if not voucher_ids:
        return []
    codes = [ledger.chart.voucher(voucher_id).code for voucher_id in voucher_ids]
    rows = await session.scalars(sa.select(account.c.id).where(account.c.code.in_(codes)))
    return list(rows)


async def _net(session: AsyncSession, ids: list[uuid.UUID], side: str, *prefixes: str) -> int:
    if not ids:
        return 0
    total = 0
    for prefix in prefixes:
        total += await ledger.sum_legs(session, ids, side=side, counterparty_prefix=prefix)
    return total


async def remaining_budget(session: AsyncSession, program_id: uuid.UUID) -> int:
    """What the programme can still issue: its available account's balance."""
    account_id = await _account_id(session, available_account_code(program_id))
    if account_id is None:
        return 0
    return (await ledger.balance(session, account_id)).available


async def figures(session: AsyncSession, program_id: uuid.UUID) -> ProgramFigures:
    """Budget, committed, spent, paid out, returned and available, from the ledger."""
    available_id = await _account_id(session, available_account_code(program_id))
    if available_id is None:
        return ProgramFigures(0, 0, 0, 0, 0, 0, 0, 0)
    own = [available_id]
    budget = await _net(session, own, "credit", "treasury") - await _net(
        session, own, "debit", "treasury"
    )
    committed = await _net(session, own, "debit", "voucher:")
    returned = await _net(session, own, "credit", "voucher:")
    vouchers = await voucher_account_ids(session, col(Voucher.program_id) == program_id)
    spent = await _net(session, vouchers, "debit", "provider:", "enterprise:") - await _net(
        session, vouchers, "credit", "provider:", "enterprise:"
    )
    outstanding, on_hold = await _voucher_totals(session, vouchers)
    treasury = await _account_id(session, ledger.chart.treasury().code)
    paid_out = 0
    if treasury is not None:
        paid_out = await ledger.sum_legs(
            session, [treasury], side="credit", reference_prefix=f"payout:{program_id}:"
        )
    available = (await ledger.balance(session, available_id)).available
    return ProgramFigures(
        budget, committed, spent, paid_out, returned, available, outstanding, on_hold
    )


async def _voucher_totals(session: AsyncSession, ids: list[uuid.UUID]) -> tuple[int, int]:
    """Posted value left on these accounts, and how much of it is held."""
    if not ids:
        return 0, 0
    query = sa.select(
        sa.func.coalesce(sa.func.sum(account.c.credits_posted - account.c.debits_posted), 0),
        sa.func.coalesce(sa.func.sum(account.c.debits_pending), 0),
    ).where(account.c.id.in_(ids))
    posted, pending = (await session.execute(query)).one()
    return int(posted), int(pending)
