"""Settlement rules: generate per payee, approve (four eyes above a threshold), confirm or
dispute (the payee, within a window), resolve a dispute (finance: uphold or cancel), cancel a
draft (finance), pay
(payable → treasury through the ledger).

State changes are conditional UPDATEs (``... WHERE status = :expected``), so two requests racing
on one settlement cannot both succeed on PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account
from ledger.sqltypes import utcnow
from providers.webhooks import emit
from voucher_service.auth.principal import Principal
from voucher_service.exports.columns import SHANGHAI
from voucher_service.programs.figures import payout_reference
from voucher_service.programs.models import Program, ProgramMode
from voucher_service.settlements import sources
from voucher_service.settlements.errors import (
    AwaitingProviderResponse,
    FourEyesRequired,
    NothingToPay,
    ResponseWindowClosed,
    SettlementGenerationConflict,
    SettlementNotFound,
    SettlementPeriodInvalid,
    SettlementStateConflict,
)
from voucher_service.settlements.models import (
    ItemKind,
    PayeeKind,
    Settlement,
    SettlementItem,
    SettlementResolution,
    SettlementStatus,
)


def payee_kind_of(program: Program) -> PayeeKind:
    """Providers are paid in point-of-sale programmes, enterprises in reimbursement ones."""
    if program.mode == ProgramMode.point_of_sale:
        return PayeeKind.provider
    return PayeeKind.enterprise


def check_period(start_on: date, end_on: date) -> None:
    today = utcnow().astimezone(SHANGHAI).date()
    if end_on < start_on or start_on > today:
        raise SettlementPeriodInvalid(
            "The period must start no later than today and end on or after its start.",
            detail_zh="结算期间须不晚于今天开始，且结束日不早于开始日。",
        )


async def _payee_accounts(
    session: AsyncSession, kind: PayeeKind, payee_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    codes = [sources.payable(kind, payee_id).code, sources.receivable(kind, payee_id).code]
    query = sa.select(account.c.code, account.c.id).where(account.c.code.in_(codes))
    found = {row[0]: row[1] for row in await session.execute(query)}
    if codes[0] not in found:
        return None
    return found[codes[0]], found.get(codes[1])


async def _totals(session: AsyncSession, settlement: Settlement) -> None:
    query = (
        select(SettlementItem.kind, sa.func.count(), sa.func.sum(SettlementItem.amount))
        .where(col(SettlementItem.settlement_id) == settlement.id)
        .group_by(SettlementItem.kind)
    )
    by_kind = {row[0]: (int(row[1]), int(row[2])) for row in await session.execute(query)}
    settlement.item_count = sum(count for count, _ in by_kind.values())
    settlement.gross_amount = sum(
        by_kind.get(kind, (0, 0))[1] for kind in (ItemKind.redemption, ItemKind.claim)
    )
    settlement.refunded_amount = -by_kind.get(ItemKind.refund, (0, 0))[1]
    settlement.clawback_amount = -by_kind.get(ItemKind.clawback, (0, 0))[1]
    settlement.net_amount = sum(amount for _, amount in by_kind.values())


async def _generate_one(
    session: AsyncSession,
    program: Program,
    payee_id: uuid.UUID,
    period: tuple[date, date],
    actor: uuid.UUID | None,
) -> Settlement | None:
    kind = payee_kind_of(program)
    accounts = await _payee_accounts(session, kind, payee_id)
    if accounts is None:
        return None
    settlement = Settlement(
        program_id=program.id,
        payee_kind=kind,
        payee_id=payee_id,
        period_start_on=period[0],
        period_end_on=period[1],
        created_by_id=actor,
    )
    session.add(settlement)
    await session.flush()
    ids = sources.period_range(*period)
    try:
        async with session.begin_nested():
            await sources.claim_items(session, settlement.id, kind, accounts, program.id, ids)
    except IntegrityError as exc:
        raise SettlementGenerationConflict(
            "A concurrent generation already took some of these items.",
            detail_zh="另一次生成已占用部分结算项。",
        ) from exc
    await _totals(session, settlement)
    if settlement.item_count == 0:
        await session.delete(settlement)
        await session.flush()
        return None
    return settlement


async def generate(
    session: AsyncSession,
    program: Program,
    period: tuple[date, date],
    *,
    payee_id: uuid.UUID | None = None,
    actor: uuid.UUID | None = None,
) -> list[Settlement]:
    """One draft per payee (or for ``payee_id``) with every unsettled item of the period."""
    check_period(*period)
    if payee_id is not None:
        payees = [payee_id]
    else:
        ids = sources.period_range(*period)
        payees = await sources.payees_with_items(session, payee_kind_of(program), program.id, ids)
    created = []
    for payee in payees:
        settlement = await _generate_one(session, program, payee, period, actor)
        if settlement is not None:
            created.append(settlement)
    return created


async def get(session: AsyncSession, settlement_id: uuid.UUID) -> Settlement:
    settlement = await session.get(Settlement, settlement_id)
    if settlement is None:
        raise SettlementNotFound()
    return settlement


async def get_for_payee(
    session: AsyncSession, settlement_id: uuid.UUID, payee_id: uuid.UUID
) -> Settlement:
    """A settlement the payee may see (issued to it: not a draft); another's is not found."""
    settlement = await session.get(Settlement, settlement_id)
    if (
        settlement is None
        or settlement.payee_id != payee_id
        or settlement.status == SettlementStatus.draft
    ):
        raise SettlementNotFound()
    return settlement


async def _transition(
    session: AsyncSession,
    settlement: Settlement,
    where: list[sa.ColumnElement[bool]],
    values: dict[str, Any],
) -> bool:
    """A conditional UPDATE of one settlement; True when it applied."""
    statement = (
        sa.update(Settlement)
        .where(col(Settlement.id) == settlement.id, *where)
        .values(**values)
        .returning(col(Settlement.id))
    )
    applied = (await session.execute(statement)).first() is not None
    if applied:
        await session.refresh(settlement)
    return applied


def _conflict() -> SettlementStateConflict:
    return SettlementStateConflict(detail_zh="结算单当前状态不允许此操作。")


async def approve(
    session: AsyncSession,
    settlement: Settlement,
    approver: Principal,
    *,
    four_eyes_amount: int,
    response_days: int,
) -> Settlement:
    """Approve a draft; above ``four_eyes_amount`` two different finance users must approve."""
    draft = col(Settlement.status) == SettlementStatus.draft
    if settlement.net_amount > four_eyes_amount and settlement.first_approved_by_id is None:
        first = col(Settlement.first_approved_by_id).is_(None)
        if not await _transition(
            session, settlement, [draft, first], {"first_approved_by_id": approver.id}
        ):
            raise _conflict()
        return settlement
    if settlement.first_approved_by_id == approver.id:
        raise FourEyesRequired(
            "You gave the first approval; another finance officer must give the second.",
            detail_zh="您已作出第一次批准，须由另一名财务人员作出第二次批准。",
        )
    now = utcnow()
    values = {
        "status": SettlementStatus.approved,
        "approved_by_id": approver.id,
        "approved_at": now,
        "respond_by": _respond_by(settlement, now, response_days),
    }
    same_first = col(Settlement.first_approved_by_id).is_not_distinct_from(
        settlement.first_approved_by_id
    )
    if not await _transition(session, settlement, [draft, same_first], values):
        raise _conflict()
    _notify(session, settlement, "settlement.issued")
    return settlement


def _respond_by(settlement: Settlement, now: datetime, response_days: int) -> datetime | None:
    """A provider confirms or disputes within the window; an enterprise's settlement sums claims
    the authority approved one by one, on their invoices, so it is payable once approved."""
    if settlement.payee_kind != PayeeKind.provider:
        return None
    return now + timedelta(days=response_days)


def _notify(session: AsyncSession, settlement: Settlement, event: str) -> None:
    if settlement.payee_kind != PayeeKind.provider:
        return
    emit(
        session,
        settlement.payee_id,
        event,
        {
            "settlement_id": settlement.id,
            "status": settlement.status,
            "period_start_on": settlement.period_start_on,
            "period_end_on": settlement.period_end_on,
            "total_amount": max(settlement.net_amount, 0),
            "paid_at": settlement.paid_at,
        },
    )


async def respond(
    session: AsyncSession, settlement: Settlement, *, confirm: bool, reason: str | None = None
) -> Settlement:
    """The payee confirms or disputes an approved settlement before ``respond_by`` (once)."""
    now = utcnow()
    if settlement.respond_by is not None and now > settlement.respond_by:
        raise ResponseWindowClosed(detail_zh="确认或异议期限已过。")
    where = [
        col(Settlement.status) == SettlementStatus.approved,
        col(Settlement.confirmed_at).is_(None),
        col(Settlement.resolved_at).is_(None),  # a resolved dispute is not disputed again
        col(Settlement.respond_by) >= now,
    ]
    values: dict[str, Any] = {"confirmed_at": now}
    if not confirm:
        values = {"status": SettlementStatus.disputed, "disputed_at": now, "dispute_reason": reason}
    if not await _transition(session, settlement, where, values):
        raise _conflict()
    return settlement


async def resolve(
    session: AsyncSession,
    settlement: Settlement,
    resolver: Principal,
    resolution: SettlementResolution,
    comment: str,
) -> Settlement:
    """Finance answers a dispute, once: ``uphold`` (approved again, payable at once: the payee
    was heard) or ``cancel`` (its items are released, so generating the period again takes them,
    after whatever correction the dispute called for, such as a refund)."""
    status = (
        SettlementStatus.approved
        if resolution is SettlementResolution.uphold
        else SettlementStatus.cancelled
    )
    values = {
        "status": status,
        "resolved_at": utcnow(),
        "resolved_by_id": resolver.id,
        "resolution_comment": comment,
    }
    disputed = col(Settlement.status) == SettlementStatus.disputed
    if not await _transition(session, settlement, [disputed], values):
        raise _conflict()
    if status == SettlementStatus.cancelled:
        await _release_items(session, settlement)
    _notify(session, settlement, "settlement.resolved")
    return settlement


async def cancel_draft(
    session: AsyncSession, settlement: Settlement, canceller: Principal, comment: str
) -> Settlement:
    """Finance withdraws a draft (generated for the wrong period, say, or before a correction):
    it becomes ``cancelled`` and keeps its figures, and its items are released, so generating the
    period again takes them. The payee never saw a draft: nothing is sent."""
    values = {
        "status": SettlementStatus.cancelled,
        "resolved_at": utcnow(),
        "resolved_by_id": canceller.id,
        "resolution_comment": comment,
    }
    draft = col(Settlement.status) == SettlementStatus.draft
    if not await _transition(session, settlement, [draft], values):
        raise _conflict()
    await _release_items(session, settlement)
    return settlement


async def _release_items(session: AsyncSession, settlement: Settlement) -> None:
    await session.execute(
        sa.delete(SettlementItem).where(col(SettlementItem.settlement_id) == settlement.id)
    )


async def pay(
    session: AsyncSession, settlement: Settlement, payer: Principal, bank_reference: str
) -> Settlement:
    """Record the bank transfer: payable → treasury (and → receivable for clawbacks)."""
    if settlement.net_amount <= 0:
        raise NothingToPay(detail_zh="结算净额不为正。")
    now = utcnow()
    answered = sa.or_(
        col(Settlement.payee_kind) == PayeeKind.enterprise,
        col(Settlement.confirmed_at).is_not(None),
        col(Settlement.resolved_at).is_not(None),
        col(Settlement.respond_by) < now,
    )
    if settlement.status == SettlementStatus.approved and not _answered(settlement, now):
        raise AwaitingProviderResponse(detail_zh="收款方尚未确认，且确认期限未到。")
    where = [col(Settlement.status) == SettlementStatus.approved, answered]
    values = {
        "status": SettlementStatus.paid,
        "paid_at": now,
        "paid_by_id": payer.id,
        "bank_reference": bank_reference,
    }
    if not await _transition(session, settlement, where, values):
        raise _conflict()
    record = await _post_payout(session, settlement, bank_reference)
    settlement.ledger_transaction_id = record.id
    await session.flush()
    _notify(session, settlement, "settlement.paid")
    return settlement


def _answered(settlement: Settlement, now: datetime) -> bool:
    """Whether the payee's answer is in, or no longer awaited (the ``answered`` of :func:`pay`)."""
    return (
        settlement.payee_kind == PayeeKind.enterprise
        or settlement.confirmed_at is not None
        or settlement.resolved_at is not None
        or (settlement.respond_by is not None and settlement.respond_by < now)
    )


async def _post_payout(
    session: AsyncSession, settlement: Settlement, bank_reference: str
) -> ledger.Transaction:
    kind = PayeeKind(settlement.payee_kind)
    specs = [
        sources.payable(kind, settlement.payee_id),
        sources.receivable(kind, settlement.payee_id),
        ledger.chart.treasury(),
    ]
    accounts = await ledger.open_accounts(session, specs)
    payable, receivable, treasury = (accounts[spec.code] for spec in specs)
    transfers = [ledger.Transfer(payable, treasury, settlement.net_amount)]
    if settlement.clawback_amount > 0:
        transfers.append(ledger.Transfer(payable, receivable, settlement.clawback_amount))
    outcome = await ledger.transfer(
        session,
        f"settlement:{settlement.id}:pay",
        transfers,
        reference=payout_reference(settlement.program_id, settlement.id),
        details={"settlement_id": str(settlement.id), "bank_reference": bank_reference},
    )
    return outcome.unwrap()


def is_settled_paid_query(source_id: uuid.UUID) -> Any:
    """The paid settlement that took ledger transaction ``source_id``, if any."""
    return (
        select(Settlement.id)
        .join(SettlementItem, col(SettlementItem.settlement_id) == col(Settlement.id))
        .where(
            col(SettlementItem.source_kind) == sources.SOURCE_KIND,
            col(SettlementItem.source_id) == source_id,
            col(Settlement.status) == SettlementStatus.paid,
        )
    )


async def is_settled_paid(session: AsyncSession, ledger_transaction_id: uuid.UUID) -> bool:
    """Whether the money this ledger transaction moved has been paid out to the payee."""
    return await session.scalar(is_settled_paid_query(ledger_transaction_id)) is not None


def refund_debit_account(kind: PayeeKind, payee_id: uuid.UUID, paid_out: bool) -> Any:
    """Where a refund takes money from: the payable account, or the receivable once paid out."""
    return sources.receivable(kind, payee_id) if paid_out else sources.payable(kind, payee_id)
