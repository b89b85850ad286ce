"""Which ledger transactions a settlement takes: the SQL that finds and claims its items.

An item is a committed ledger transaction with a posted leg on the payee's payable (or
receivable) account whose other side is a voucher of the programme, created in the period and
not yet in any settlement. Everything is one ``INSERT ... SELECT``: nothing is read into Python,
so a provider with a million redemptions costs one statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger.ids import first_id_at
from ledger.models import account, entry
from ledger.types import AccountSpec
from voucher_service.exports.columns import SHANGHAI
from voucher_service.settlements.models import ItemKind, PayeeKind, SettlementItem
from voucher_service.vouchers.models import Voucher

SOURCE_KIND = "ledger_transaction"
VOUCHER_PREFIX = "voucher:"


def payable(kind: PayeeKind, payee_id: uuid.UUID) -> AccountSpec:
    """The payee's payable account (what the programme owes it)."""
    if kind is PayeeKind.provider:
        return ledger.chart.provider_payable(payee_id)
    return ledger.chart.enterprise_payable(payee_id)


def receivable(kind: PayeeKind, payee_id: uuid.UUID) -> AccountSpec:
    """What the payee owes back (refunds after payout), recovered from its next settlement."""
    return AccountSpec(
        f"{kind.value}:{payee_id}:receivable",
        ledger.chart.CURRENCY,
        credits_must_not_exceed_debits=True,
    )


@dataclass(frozen=True)
class IdRange:
    """Ledger transactions created in a period: UUIDv7 ids carry their creation time."""

    low: uuid.UUID
    high: uuid.UUID


def period_range(start_on: date, end_on: date) -> IdRange:
    """[start 00:00, end + 1 day 00:00) in Asia/Shanghai."""
    starts = datetime.combine(start_on, time(), SHANGHAI)
    ends = datetime.combine(end_on + timedelta(days=1), time(), SHANGHAI)
    return IdRange(first_id_at(starts), first_id_at(ends))


def period_bounds(start_on: date, end_on: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start_on, time(), SHANGHAI),
        datetime.combine(end_on + timedelta(days=1), time(), SHANGHAI),
    )


def _voucher_id_of(code: sa.ColumnElement[str], dialect: str) -> sa.ColumnElement[object]:
    """The voucher id in an account code ``voucher:<uuid>``, as the voucher table stores ids."""
    rest = sa.func.substr(code, len(VOUCHER_PREFIX) + 1)
    if dialect == "postgresql":
        is_voucher = sa.func.substr(code, 1, len(VOUCHER_PREFIX)) == VOUCHER_PREFIX
        return sa.case((is_voucher, sa.cast(rest, sa.Uuid)), else_=None)
    return sa.func.replace(rest, "-", "")  # SQLite keeps a Uuid as 32 hex digits


def _against_programme(program_id: uuid.UUID, dialect: str) -> sa.Exists:
    other = entry.alias("other")
    counterparty = account.alias("counterparty")
    return (
        sa.select(sa.literal(1))
        .select_from(other.join(counterparty, counterparty.c.id == other.c.account_id))
        .join(Voucher, Voucher.id == _voucher_id_of(counterparty.c.code, dialect))  # type: ignore[arg-type]
        .where(
            other.c.transaction_id == entry.c.transaction_id,
            other.c.phase == "posted",
            Voucher.program_id == program_id,  # type: ignore[arg-type]
        )
        .exists()
    )


def _unsettled() -> sa.ColumnElement[bool]:
    return ~(
        sa.select(sa.literal(1))
        .where(
            SettlementItem.source_kind == SOURCE_KIND,  # type: ignore[arg-type]
            SettlementItem.source_id == entry.c.transaction_id,  # type: ignore[arg-type]
        )
        .exists()
    )


def candidate_legs(
    account_ids: list[uuid.UUID], program_id: uuid.UUID, ids: IdRange, dialect: str
) -> sa.Select[tuple[uuid.UUID]]:
    """Posted legs on these accounts against the programme's vouchers, in range, unsettled."""
    return sa.select(entry.c.transaction_id).where(
        entry.c.account_id.in_(account_ids),
        entry.c.phase == "posted",
        entry.c.transaction_id >= ids.low,
        entry.c.transaction_id < ids.high,
        _against_programme(program_id, dialect),
        _unsettled(),
    )


async def claim_items(
    session: AsyncSession,
    settlement_id: uuid.UUID,
    payee: PayeeKind,
    accounts: tuple[uuid.UUID, uuid.UUID | None],
    program_id: uuid.UUID,
    ids: IdRange,
) -> None:
    """Insert the unsettled items of one payee into ``settlement_id`` (one statement)."""
    payable_id, receivable_id = accounts
    account_ids = [payable_id] + ([receivable_id] if receivable_id else [])
    dialect = session.get_bind().dialect.name
    signed = sa.case((entry.c.side == "credit", entry.c.amount), else_=-entry.c.amount)
    on_receivable = sa.case((entry.c.account_id == payable_id, 0), else_=1)
    legs = (
        candidate_legs(account_ids, program_id, ids, dialect)
        .add_columns(
            sa.func.sum(signed).label("amount"), sa.func.max(on_receivable).label("clawback")
        )
        .group_by(entry.c.transaction_id)
        .subquery()
    )
    positive = ItemKind.redemption if payee is PayeeKind.provider else ItemKind.claim
    kind = sa.case(
        (legs.c.amount > 0, positive.value),
        (legs.c.clawback == 1, ItemKind.clawback.value),
        else_=ItemKind.refund.value,
    )
    rows = sa.select(
        sa.literal(SOURCE_KIND),
        legs.c.transaction_id,
        sa.literal(settlement_id, sa.Uuid),
        kind,
        legs.c.amount,
    ).where(legs.c.amount != 0)
    columns = ["source_kind", "source_id", "settlement_id", "kind", "amount"]
    await session.execute(sa.insert(SettlementItem).from_select(columns, rows))


async def payees_with_items(
    session: AsyncSession, payee: PayeeKind, program_id: uuid.UUID, ids: IdRange
) -> list[uuid.UUID]:
    """Payees of this kind with unsettled items of the programme in the range."""
    dialect = session.get_bind().dialect.name
    prefix = f"{payee.value}:"
    query = sa.select(account.c.code).where(
        sa.func.substr(account.c.code, 1, len(prefix)) == prefix,
        sa.select(entry.c.transaction_id)
        .where(
            entry.c.account_id == account.c.id,
            entry.c.phase == "posted",
            entry.c.transaction_id >= ids.low,
            entry.c.transaction_id < ids.high,
            _against_programme(program_id, dialect),
            _unsettled(),
        )
        .exists(),
    )
    codes = (await session.scalars(query)).all()
    return sorted({uuid.UUID(code.split(":")[1]) for code in codes})
