"""Redeeming a voucher: one unit of work from the bill to the hold (or posted transfer).

``covered_amount = min(floor(bill_amount × rate_bp / 10000), available balance)``: the voucher's
balance is the remaining cap (issuance already kept every award within the programme's caps, so
nothing redeemed from it can exceed them). When the balance is short, ``allow_partial`` decides
between covering what is left and ``insufficient_balance``. The ledger checks the balance in the
same statement that takes it, so concurrent redemptions can never overdraw a voucher; a
redemption that lost such a race re-reads the balance and tries again (partial) or is refused.
Capture, void, refunds and expiry are in :mod:`.transitions`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger.sqltypes import new_id
from providers.webhooks import emit
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.programs import service as programs
from voucher_service.redemptions.checks import (
    check_amount,
    check_ceiling,
    check_currency,
    check_usage_amounts,
)
from voucher_service.redemptions.errors import (
    DuplicateOrderId,
    InsufficientBalance,
    NothingToCover,
    VoucherNotFound,
    not_redeemable,
    provider_refused,
)
from voucher_service.redemptions.models import Redemption, RedemptionStatus, Refund
from voucher_service.redemptions.schemas import RedemptionCreate
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherState

Actor = AuditActor | Auditable | None
#: Tries of a hold or transfer when a concurrent redemption took part of the balance meanwhile.
ATTEMPTS = 3
PROVIDER_REFUSALS = frozenset({"provider_suspended", "provider_not_approved"})


@dataclass(frozen=True)
class Answer:
    """A redemption as the API answers it: with the voucher's balance and a signed receipt."""

    redemption: Redemption
    voucher_balance: int
    receipt: str
    refunds: list[Refund] = field(default_factory=list)


async def redeemable_voucher(
    session: AsyncSession,
    code: str,
    provider_id: uuid.UUID,
    priced: tuple[str, str] | None = None,
) -> vouchers.Redeemable:
    """The voucher with ``code`` bound to the provider, why it can't be redeemed (or None) and,
    when ``priced`` (resource, unit), the programme's price ceiling.

    A wrong check character is a 422 before any lookup; an unknown voucher and one the provider
    is not bound to are the same 404.
    """
    found = await vouchers.find_redeemable(
        session, vouchers.normalise_code(code), provider_id, priced
    )
    if found is None or found.refusal == "provider_not_bound":
        raise voucher_not_found()
    return found


#: Refusals about the voucher's state or dates: a bound provider looking it up still sees it.
STATE_REFUSALS = frozenset(
    {
        "voucher_frozen",
        "voucher_exhausted",
        "voucher_expired",
        "voucher_revoked",
        "voucher_not_yet_valid",
    }
)


async def visible_voucher(
    session: AsyncSession, code: str, provider_id: uuid.UUID
) -> tuple[Voucher, str]:
    """The voucher with ``code`` as a provider bound to it sees it, with its status.

    Frozen, exhausted, expired, revoked or not yet valid, it is still answered (the status says
    why a redemption would be refused); 404 for a voucher the provider may never redeem (unknown,
    not bound, another kind, not redeemed at the point of sale) or while the provider itself
    may not redeem.
    """
    found = await redeemable_voucher(session, code, provider_id)
    voucher, why = found.voucher, found.refusal
    if why is None:
        return voucher, voucher.state
    if why not in STATE_REFUSALS:
        raise voucher_not_found()
    if voucher.state != VoucherState.active:  # decided before the binding: check it here
        if not found.bound:
            raise voucher_not_found()
        return voucher, voucher.state
    return voucher, why.removeprefix("voucher_")  # by the dates: expired or not_yet_valid


def voucher_not_found() -> VoucherNotFound:
    return VoucherNotFound(
        "No voucher with this code can be redeemed by you.",
        detail_zh="未找到贵单位可核销的该券码。",
    )


def _refuse(why: str) -> None:
    if why in PROVIDER_REFUSALS:
        raise provider_refused(why)
    raise not_redeemable(why)


async def redeem(
    session: AsyncSession,
    signer: ledger.Signer,
    provider_id: uuid.UUID,
    request: RedemptionCreate,
    *,
    actor: Actor,
) -> Answer:
    """Authorise (hold) or capture the voucher's share of a bill; refusals move nothing."""
    check_currency(request.currency)
    check_amount(request.bill_amount, "bill_amount")
    check_usage_amounts(request.usage)
    usage = request.usage
    found = await redeemable_voucher(
        session, request.voucher_code, provider_id, (usage.resource, usage.unit)
    )
    if found.refusal is not None:
        _refuse(found.refusal)
    check_ceiling(found.max_unit_price, usage)
    voucher = found.voucher
    share = request.bill_amount * voucher.rate_bp // 10_000
    if share <= 0:
        raise NothingToCover(
            f"{voucher.rate_bp / 100:g}% of {request.bill_amount} fen rounds down to 0.",
            detail_zh=f"{request.bill_amount} 分按 {voucher.rate_bp / 100:g}% 计算后不足 1 分。",
        )
    redemption_id = new_id()
    moved = await _move(session, redemption_id, voucher, provider_id, share, request)
    redemption = _redemption(redemption_id, voucher, provider_id, request, moved)
    session.add(redemption)
    try:
        await session.flush()
    except sa.exc.IntegrityError as exc:
        raise DuplicateOrderId(
            f"Order {request.order_id!r} was already redeemed.",
            detail_zh=f"订单 {request.order_id!r} 已核销过。",
            order_id=request.order_id,
        ) from exc
    await record(session, redemption, actor, action=f"redemption.{redemption.status}")
    if redemption.captured_amount:
        emit(session, provider_id, "redemption.captured", event_data(redemption))
    balance = moved.balance
    if balance.available == 0 and balance.debits_pending == 0:
        await vouchers.mark_exhausted_if_empty(session, voucher)
    receipt = ledger.fresh_receipt(signer, moved.transaction, moved.codes)
    return Answer(redemption, balance.available, receipt)


@dataclass(frozen=True)
class Moved:
    transaction: ledger.Transaction
    covered: int
    balance: ledger.Balance
    expires_at: Any
    codes: dict[uuid.UUID, str]  # the accounts' codes, for the receipt


#: Ledger accounts by code, as read (committed) before: an account's attributes never change
#: and it is never deleted, so this process need not read them again. Bounded; cleared when full.
_known_accounts: dict[str, ledger.Account] = {}
KNOWN_ACCOUNTS_MAX = 50_000


async def _accounts(
    session: AsyncSession, voucher_id: uuid.UUID, provider_id: uuid.UUID
) -> tuple[ledger.Account, ledger.Account]:
    """The voucher's and the provider's accounts (read once per process; opened the first time).

    Only accounts read before any were opened in this unit of work are remembered: an account
    opened here would vanish if the unit of work rolled back.
    """
    specs = [ledger.chart.voucher(voucher_id), ledger.chart.provider_payable(provider_id)]
    codes = [spec.code for spec in specs]
    known = [_known_accounts.get(code) for code in codes]
    if known[0] is not None and known[1] is not None:
        return known[0], known[1]
    try:
        found = await ledger.get_accounts(session, codes)
    except ledger.AccountNotFound:
        found = dict(await ledger.open_accounts(session, specs))
    else:
        if len(_known_accounts) + len(found) > KNOWN_ACCOUNTS_MAX:
            _known_accounts.clear()
        _known_accounts.update(found)
    return found[codes[0]], found[codes[1]]


async def _move(
    session: AsyncSession,
    redemption_id: uuid.UUID,
    voucher: Voucher,
    provider_id: uuid.UUID,
    share: int,
    request: RedemptionCreate,
) -> Moved:
    """Hold or post ``share`` (or, partial, what is left) from the voucher to the provider."""
    source, payable = await _accounts(session, voucher.id, provider_id)
    timeout = None
    if not request.capture:
        program = await programs.get_program(session, voucher.program_id)
        timeout = timedelta(seconds=program.hold_timeout_seconds)
    covered = available = share
    for attempt in range(ATTEMPTS):
        # The ledger checks the balance in the statement that takes it: the balance is read
        # only when that check refused, to cover what is left (partial) or to say how much.
        outcome = await _post(session, redemption_id, attempt, source, payable, covered, timeout)
        if outcome.ok:
            balance = outcome.balances.get(source.id) or await ledger.balance(session, source.id)
            codes = {source.id: source.code, payable.id: payable.code}
            return Moved(outcome.transaction, covered, balance, outcome.expires_at, codes)
        if not isinstance(outcome.refusal, ledger.InsufficientBalance):
            outcome.unwrap()
        available = (await ledger.balance(session, source.id)).available
        if available <= 0 or (available < share and not request.allow_partial):
            break
        covered = min(share, available)
    raise InsufficientBalance(
        f"The voucher covers {max(available, 0)} fen now; its share of this bill is {share} fen.",
        detail_zh=f"该券当前可抵扣 {max(available, 0)} 分，本账单应抵扣 {share} 分。",
        available_amount=max(available, 0),
        requested_amount=share,
    )


async def _post(
    session: AsyncSession,
    redemption_id: uuid.UUID,
    attempt: int,
    source: ledger.Account,
    payable: ledger.Account,
    amount: int,
    timeout: timedelta | None,
) -> ledger.Outcome:
    action = "post" if timeout is None else "hold"
    client_id = f"redemption:{redemption_id}:{action}" + (f":{attempt}" if attempt else "")
    transfer = ledger.Transfer(source, payable, amount)
    reference = f"redemption:{redemption_id}"
    details = {"redemption_id": str(redemption_id)}
    if timeout is None:
        return await ledger.transfer(
            session, client_id, [transfer], reference=reference, details=details
        )
    return await ledger.hold(
        session, client_id, transfer, timeout=timeout, reference=reference, details=details
    )


def _redemption(
    redemption_id: uuid.UUID,
    voucher: Voucher,
    provider_id: uuid.UUID,
    request: RedemptionCreate,
    moved: Moved,
) -> Redemption:
    captured = moved.covered if request.capture else 0
    return Redemption(
        id=redemption_id,
        provider_id=provider_id,
        voucher_id=voucher.id,
        program_id=voucher.program_id,
        enterprise_id=voucher.holder_id,
        order_id=request.order_id,
        voucher_code=voucher.code,
        bill_amount=request.bill_amount,
        currency=request.currency,
        usage=request.usage.stored(),
        rate_bp=voucher.rate_bp,
        covered_amount=moved.covered,
        captured_amount=captured,
        enterprise_payable_amount=request.bill_amount - moved.covered,
        status=RedemptionStatus.captured if request.capture else RedemptionStatus.authorized,
        expires_at=moved.expires_at,
        authorization_transaction_id=moved.transaction.id,
        captured_at=moved.transaction.created_at if request.capture else None,
        resolved_at=moved.transaction.created_at if request.capture else None,
    )


def summary(redemption: Redemption) -> dict[str, Any]:
    """What the audit trail keeps about a redemption."""
    return {
        "provider_id": str(redemption.provider_id),
        "voucher_id": str(redemption.voucher_id),
        "order_id": redemption.order_id,
        "status": redemption.status,
        "bill_amount": redemption.bill_amount,
        "covered_amount": redemption.covered_amount,
        "captured_amount": redemption.captured_amount,
        "refunded_amount": redemption.refunded_amount,
        "enterprise_payable_amount": redemption.enterprise_payable_amount,
    }


async def record(
    session: AsyncSession,
    redemption: Redemption,
    actor: Actor,
    *,
    action: str,
    before: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Audit a redemption's change in the caller's unit of work."""
    await audit.record(
        session,
        action=action,
        actor=actor,
        target=("redemption", redemption.id),
        before=before,
        after=summary(redemption) | (extra or {}),
    )


def event_data(redemption: Redemption, refund: Refund | None = None) -> dict[str, Any]:
    """The ``data`` of a ``redemption.*`` webhook event (providers/webhooks/events.py)."""
    data: dict[str, Any] = {
        "redemption_id": str(redemption.id),
        "order_id": redemption.order_id,
        "voucher_code": redemption.voucher_code,
        "status": redemption.status,
        "bill_amount": redemption.bill_amount,
        "covered_amount": redemption.covered_amount,
        "captured_amount": redemption.captured_amount,
        "refunded_amount": redemption.refunded_amount,
        "currency": redemption.currency,
    }
    if refund is not None:
        data["refund"] = {
            "refund_id": str(refund.id),
            "amount": refund.amount,
            "reason": refund.reason,
        }
    return data


async def voucher_balance(session: AsyncSession, voucher: Voucher) -> int:
    """The voucher's available balance now."""
    return (await vouchers.balance_of(session, voucher)).available
