"""What happens to a redemption after it is made: capture, void, refunds, and expiry.

Each runs in the caller's unit of work, locks the redemption row first (then the ledger locks
the voucher's account), checks the state it expects, moves the money through the ledger, and
records an audit event and the provider's outbox event with the change.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.sqltypes import db_now, new_id
from providers.webhooks import emit
from voucher_service.audit.service import AuditActor
from voucher_service.redemptions import hooks
from voucher_service.redemptions.checks import check_amount
from voucher_service.redemptions.errors import (
    CaptureExceedsHold,
    HoldExpired,
    RedemptionNotFound,
    RedemptionStateConflict,
    RefundExceedsCaptured,
    RefundNotAllowed,
)
from voucher_service.redemptions.models import Redemption, RedemptionStatus, Refund
from voucher_service.redemptions.service import Actor, Answer, event_data, record, summary
from voucher_service.settlements import sources as settlement_accounts
from voucher_service.settlements.models import PayeeKind
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import FINAL_STATES, Voucher, VoucherState

EXPIRY_ACTOR = AuditActor.system("redemptions.expire")


async def locked(session: AsyncSession, redemption_id: uuid.UUID) -> Redemption:
    """The redemption, its row locked for the change."""
    query = (
        select(Redemption)
        .where(col(Redemption.id) == redemption_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    redemption = (await session.execute(query)).scalar_one_or_none()
    if redemption is None:
        raise RedemptionNotFound()
    return redemption


def _expect_authorized(redemption: Redemption) -> None:
    if redemption.status == RedemptionStatus.authorized:
        return
    if redemption.status == RedemptionStatus.expired:
        raise HoldExpired(
            "The authorisation expired; redeem the voucher again.",
            detail_zh="预授权已过期，请重新核销。",
        )
    problem = RedemptionStateConflict(
        f"The redemption is {redemption.status}, not an open authorisation.",
        detail_zh=f"该核销状态为 {redemption.status}，不是有效的预授权。",
        status_now=redemption.status,
    )
    problem.code = f"redemption_{redemption.status}"  # type: ignore[misc]
    raise problem


async def _voucher(session: AsyncSession, redemption: Redemption) -> Voucher:
    voucher = await vouchers.get_voucher(session, redemption.voucher_id)
    assert voucher is not None  # noqa: S101 - a foreign key
    return voucher


async def answer(session: AsyncSession, signer: ledger.Signer, redemption: Redemption) -> Answer:
    voucher = await _voucher(session, redemption)
    balance = (await vouchers.balance_of(session, voucher)).available
    receipt = await ledger.receipt(session, signer, redemption.receipt_transaction_id)
    return Answer(redemption, balance, receipt, await refunds_of(session, redemption.id))


async def capture(
    session: AsyncSession,
    signer: ledger.Signer,
    redemption_id: uuid.UUID,
    amount: int | None,
    *,
    actor: Actor,
) -> Answer:
    """Post ``amount`` (all of it by default) of the authorisation; the rest goes back."""
    redemption = await locked(session, redemption_id)
    _expect_authorized(redemption)
    if amount is not None:
        check_amount(amount, "amount")
        if amount > redemption.covered_amount:
            raise CaptureExceedsHold(
                f"Only {redemption.covered_amount} fen were authorised.",
                detail_zh=f"预授权金额仅为 {redemption.covered_amount} 分。",
                authorized_amount=redemption.covered_amount,
            )
    before = summary(redemption)
    outcome = await ledger.capture(
        session,
        f"redemption:{redemption.id}:capture",
        redemption.authorization_transaction_id,
        amount=amount,
        reference=f"redemption:{redemption.id}",
    )
    _raise_refusal(outcome)
    captured = amount if amount is not None else redemption.covered_amount
    now = outcome.transaction.created_at
    redemption.status = RedemptionStatus.captured
    redemption.captured_amount = captured
    redemption.enterprise_payable_amount = redemption.bill_amount - captured
    redemption.resolution_transaction_id = outcome.transaction.id
    redemption.captured_at = redemption.resolved_at = now
    await session.flush()
    await record(session, redemption, actor, action="redemption.captured", before=before)
    emit(session, redemption.provider_id, "redemption.captured", event_data(redemption))
    voucher = await _voucher(session, redemption)
    await vouchers.mark_exhausted_if_empty(session, voucher)
    await vouchers.reactivate_if_funded(session, voucher)
    return await answer(session, signer, redemption)


def _raise_refusal(outcome: ledger.Outcome) -> None:
    refusal = outcome.refusal
    if refusal is None:
        return
    if isinstance(refusal, ledger.HoldExpired):
        raise HoldExpired(
            "The authorisation expired; redeem the voucher again.",
            detail_zh="预授权已过期，请重新核销。",
        )
    if isinstance(refusal, ledger.AmountExceedsHold):
        raise CaptureExceedsHold(str(refusal), detail_zh="金额超过预授权金额。")
    outcome.unwrap()


async def void(
    session: AsyncSession, signer: ledger.Signer, redemption_id: uuid.UUID, *, actor: Actor
) -> Answer:
    """Release the whole authorisation back to the voucher."""
    redemption = await locked(session, redemption_id)
    _expect_authorized(redemption)
    before = summary(redemption)
    outcome = await ledger.void(
        session,
        f"redemption:{redemption.id}:void",
        redemption.authorization_transaction_id,
        reference=f"redemption:{redemption.id}",
    )
    _raise_refusal(outcome)
    await _released(session, redemption, outcome.transaction.id, RedemptionStatus.voided)
    await record(session, redemption, actor, action="redemption.voided", before=before)
    emit(session, redemption.provider_id, "redemption.voided", event_data(redemption))
    return await answer(session, signer, redemption)


async def _released(
    session: AsyncSession,
    redemption: Redemption,
    transaction_id: uuid.UUID,
    status: RedemptionStatus,
) -> None:
    """The hold's value is back on the voucher: record it, and pass it on if the voucher is over."""
    redemption.status = status
    redemption.enterprise_payable_amount = redemption.bill_amount
    redemption.resolution_transaction_id = transaction_id
    redemption.resolved_at = await vouchers.database_time(session)
    await session.flush()
    voucher = await _voucher(session, redemption)
    if voucher.state in FINAL_STATES:
        await vouchers.return_remainder(session, voucher, occasion=f"{status}:{redemption.id}")
    elif voucher.state == VoucherState.exhausted:
        await vouchers.reactivate_if_funded(session, voucher)


async def refund(
    session: AsyncSession,
    signer: ledger.Signer,
    redemption_id: uuid.UUID,
    amount: int,
    reason: str,
    *,
    actor: Actor,
) -> tuple[Refund, Answer]:
    """Give ``amount`` of a captured redemption back to the voucher (several times, up to all)."""
    redemption = await locked(session, redemption_id)
    if redemption.status != RedemptionStatus.captured:
        raise RefundNotAllowed(
            f"Only a captured redemption can be refunded; this one is {redemption.status}.",
            detail_zh=f"只有已扣款的核销可以退款，该核销状态为 {redemption.status}。",
        )
    check_amount(amount, "amount")
    if amount > redemption.refundable_amount:
        raise RefundExceedsCaptured(
            f"At most {redemption.refundable_amount} fen can still be refunded.",
            detail_zh=f"最多还可退款 {redemption.refundable_amount} 分。",
            refundable_amount=redemption.refundable_amount,
        )
    # After the settlement is paid the refund is owed back by the provider: it is taken from
    # its receivable account and clawed back from its next settlement (settlements domain).
    paid_out = await hooks.is_settled_paid(session, redemption)
    before = summary(redemption)
    refund_id = new_id()
    outcome = await _move_back(session, redemption, refund_id, amount, paid_out=paid_out)
    made = Refund(
        id=refund_id,
        redemption_id=redemption.id,
        provider_id=redemption.provider_id,
        amount=amount,
        currency=redemption.currency,
        reason=reason,
        ledger_transaction_id=outcome.transaction.id,
    )
    session.add(made)
    redemption.refunded_amount += amount
    await session.flush()
    extra = {"refund_id": str(refund_id), "refund_amount": amount, "reason": reason}
    await record(
        session, redemption, actor, action="redemption.refunded", before=before, extra=extra
    )
    emit(session, redemption.provider_id, "redemption.refunded", event_data(redemption, made))
    voucher = await _voucher(session, redemption)
    if voucher.state in FINAL_STATES:
        await vouchers.return_remainder(session, voucher, occasion=f"refund:{refund_id}")
    else:
        await vouchers.reactivate_if_funded(session, voucher)
    current = await answer(session, signer, redemption)
    receipt = await ledger.receipt(session, signer, outcome.transaction.id)
    return made, Answer(current.redemption, current.voucher_balance, receipt, current.refunds)


async def _move_back(
    session: AsyncSession,
    redemption: Redemption,
    refund_id: uuid.UUID,
    amount: int,
    *,
    paid_out: bool = False,
) -> ledger.Outcome:
    owed_by = settlement_accounts.receivable if paid_out else settlement_accounts.payable
    specs = [
        owed_by(PayeeKind.provider, redemption.provider_id),
        ledger.chart.voucher(redemption.voucher_id),
    ]
    opened = await ledger.open_accounts(session, specs)
    payable, voucher_account = (opened[spec.code] for spec in specs)
    outcome = await ledger.transfer(
        session,
        f"redemption:{redemption.id}:refund:{refund_id}",
        [ledger.Transfer(payable, voucher_account, amount)],
        reference=f"redemption-refund:{redemption.id}",
        details={"redemption_id": str(redemption.id), "refund_id": str(refund_id)},
    )
    if not outcome.ok:
        raise RefundNotAllowed(
            "The provider's payable balance cannot take this refund back (already paid out).",
            detail_zh="服务商应收余额不足以退回该款项（可能已结算付款）。",
        )
    return outcome


async def refunds_of(session: AsyncSession, redemption_id: uuid.UUID) -> list[Refund]:
    rows = await session.scalars(
        select(Refund).where(col(Refund.redemption_id) == redemption_id).order_by(col(Refund.id))
    )
    return list(rows)


async def expire_due(session: AsyncSession, *, limit: int) -> int:
    """Mark authorisations whose hold the ledger expired; returns how many changed.

    Expires the ledger's due holds first (the ledger's own job does the same; either may run
    first), then claims due authorisations with ``SKIP LOCKED`` so several workers share them.
    """
    await ledger.expire_due_holds(session, limit=limit)
    query = (
        select(Redemption)
        .where(
            col(Redemption.status) == RedemptionStatus.authorized,
            col(Redemption.expires_at) <= db_now(),
        )
        .order_by(col(Redemption.expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    changed = 0
    for redemption in (await session.execute(query)).scalars().all():
        state = await ledger.hold_state(session, redemption.authorization_transaction_id)
        if state.status != "expired" or state.resolution_id is None:
            continue
        before = summary(redemption)
        await _released(session, redemption, state.resolution_id, RedemptionStatus.expired)
        await record(session, redemption, EXPIRY_ACTOR, action="redemption.expired", before=before)
        emit(session, redemption.provider_id, "redemption.expired", event_data(redemption))
        changed += 1
    return changed


__all__ = ["capture", "expire_due", "refund", "refunds_of", "void"]
