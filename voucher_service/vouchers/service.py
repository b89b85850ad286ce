"""Vouchers: issuance, lookup, who may redeem, balances and the annual cap, from the ledger.

The interface other domains use: ``issue_voucher`` (one unit of work: account, transfer from the
programme, binding, audit, ``voucher.bound``), ``lookup_by_code``, ``may_redeem`` /
``redeemability`` (why not), ``voucher_account_code``, ``balance_of``, ``awarded_this_year``,
``mark_exhausted_if_empty`` / ``reactivate_if_funded`` and ``return_remainder``. Lifecycle
changes by the authority and the holder are in :mod:`.lifecycle`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account
from ledger.sqltypes import db_now, new_id
from providers.webhooks import emit
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.programs.errors import ProgramStateConflict
from voucher_service.programs.figures import remaining_budget, voucher_account_ids
from voucher_service.programs.models import Program, ProgramStatus
from voucher_service.vouchers import codes
from voucher_service.vouchers.errors import (
    BudgetExhausted,
    InvalidIssueAmount,
    InvalidVoucherCodeProblem,
    VoucherAlreadyIssued,
)
from voucher_service.vouchers.models import (
    BindingSource,
    Voucher,
    VoucherProvider,
    VoucherState,
)
from voucher_service.vouchers.redeemable import (
    Redeemable,
    find_redeemable,
    may_redeem,
    redeemability,
)

Actor = AuditActor | Auditable | None
CHINA = ZoneInfo("Asia/Shanghai")
#: Approvals of applications made while the programme was open may still issue after it closed.
ISSUING_STATES = frozenset({ProgramStatus.open, ProgramStatus.closed})


def voucher_account_code(voucher_id: uuid.UUID) -> str:
    """The ledger code of the voucher's account."""
    return ledger.chart.voucher(voucher_id).code


def issue_client_id(voucher: Voucher) -> str:
    """The ledger client id of the voucher's issuance."""
    return f"voucher:{voucher.application_id or voucher.id}:issue"


async def database_time(session: AsyncSession) -> datetime:
    """Now, by the database clock."""
    return (await session.execute(sa.select(db_now()))).scalar_one()


def validity_end(program: Program, valid_from: datetime) -> datetime:
    """When a voucher issued at ``valid_from`` stops being valid (the earlier of the two rules)."""
    ends: list[datetime] = []
    if program.validity_days is not None:
        ends.append(valid_from + timedelta(days=program.validity_days))
    if program.valid_until_on is not None:
        last_day = program.valid_until_on + timedelta(days=1)
        ends.append(datetime.combine(last_day, time(0), tzinfo=CHINA).astimezone(UTC))
    return min(ends)


@dataclass(frozen=True)
class Balance:
    """What the voucher can still cover, and what is reserved by open holds (fen)."""

    available: int
    on_hold: int


async def issue_voucher(
    session: AsyncSession,
    *,
    program: Program,
    holder_id: uuid.UUID,
    provider_id: uuid.UUID,
    amount: int,
    application_id: uuid.UUID | None,
    actor: Actor,
    rate_bp: int | None = None,
) -> Voucher:
    """Issue ``amount`` from the programme's budget as a voucher bound to ``provider_id``.

    One unit of work (the caller's): opens the voucher's account, moves the amount from
    ``program:P:available`` with client id ``voucher:<application_id or id>:issue``, writes the
    voucher and its binding, audits, and emits ``voucher.bound``. BudgetExhausted (409) when the
    programme's available account cannot cover it; then nothing of this call is left in the
    session. A draft or archived programme issues nothing (ProgramStateConflict, 409).
    ``rate_bp`` defaults to the programme's default rate.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidIssueAmount(f"Cannot issue {amount!r} fen.")
    if program.status not in ISSUING_STATES:
        raise ProgramStateConflict(
            f"A {program.status} programme issues no vouchers.",
            detail_zh="该项目当前状态不能发放券。",
            status_now=program.status,
        )
    if application_id is not None:
        await _refuse_second_issue(session, application_id)
    valid_from = await database_time(session)
    voucher = Voucher(
        id=new_id(),
        code=codes.generate(),
        holder_id=holder_id,
        program_id=program.id,
        kind=program.kind,
        mode=program.mode,
        rate_bp=program.default_rate_bp if rate_bp is None else rate_bp,
        issued_amount=amount,
        valid_from=valid_from,
        valid_until=validity_end(program, valid_from),
        application_id=application_id,
    )
    if voucher.valid_until <= valid_from:
        raise ProgramStateConflict(
            f"The programme's vouchers were valid until {program.valid_until_on}.",
            detail_zh=f"该项目的券有效期至 {program.valid_until_on}，已不能发放。",
            status_now=program.status,
        )
    savepoint = await session.begin_nested()
    try:
        outcome = await _move_issue(session, program, voucher)
        if not outcome.ok:
            await savepoint.rollback()
            raise _budget_exhausted(amount, await _available_now(session, program))
        session.add(voucher)
        session.add(
            VoucherProvider(voucher_id=voucher.id, provider_id=provider_id, source="contract")
        )
        await savepoint.commit()
    except sa.exc.IntegrityError as exc:
        await savepoint.rollback()
        raise VoucherAlreadyIssued("A voucher was already issued for this application.") from exc
    except ledger.IdempotencyConflict as exc:
        await savepoint.rollback()
        raise VoucherAlreadyIssued("A voucher was already issued for this application.") from exc
    except BaseException:
        if savepoint.is_active:
            await savepoint.rollback()
        raise
    await audit.record(
        session,
        action="voucher.issued",
        actor=actor,
        target=("voucher", voucher.id),
        after=summary(voucher) | {"provider_id": str(provider_id)},
    )
    emit(session, provider_id, "voucher.bound", event_data(voucher, amount))
    return voucher


async def _refuse_second_issue(session: AsyncSession, application_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Voucher.id).where(col(Voucher.application_id) == application_id)
    )
    if found is not None:
        raise VoucherAlreadyIssued(
            "A voucher was already issued for this application.", voucher_id=str(found)
        )


async def _move_issue(session: AsyncSession, program: Program, voucher: Voucher) -> ledger.Outcome:
    specs = [ledger.chart.program_available(program.id), ledger.chart.voucher(voucher.id)]
    accounts = await ledger.open_accounts(session, specs)
    source, destination = (accounts[spec.code] for spec in specs)
    return await ledger.transfer(
        session,
        issue_client_id(voucher),
        [ledger.Transfer(source, destination, voucher.issued_amount)],
        reference=f"voucher-issue:{voucher.id}",
        details={
            "voucher_id": str(voucher.id),
            "program_id": str(program.id),
            "holder_id": str(voucher.holder_id),
            "application_id": str(voucher.application_id) if voucher.application_id else None,
        },
    )


async def _available_now(session: AsyncSession, program: Program) -> int:
    return await remaining_budget(session, program.id)


def _budget_exhausted(amount: int, available: int) -> BudgetExhausted:
    return BudgetExhausted(
        f"The programme has {available} fen left; this award needs {amount} fen.",
        detail_zh=f"项目剩余预算 {available} 分，本次发放需要 {amount} 分。",
        requested_amount=amount,
        available_amount=available,
    )


def summary(voucher: Voucher) -> dict[str, object]:
    """What the audit trail keeps about a voucher."""
    return {
        "code": voucher.code,
        "holder_id": str(voucher.holder_id),
        "program_id": str(voucher.program_id),
        "kind": voucher.kind,
        "rate_bp": voucher.rate_bp,
        "issued_amount": voucher.issued_amount,
        "valid_until": voucher.valid_until.isoformat(),
        "state": voucher.state,
    }


def event_data(
    voucher: Voucher, balance_amount: int, reason: str | None = None
) -> dict[str, object]:
    """The ``data`` of a ``voucher.*`` webhook event (providers/webhooks/events.py)."""
    return {
        "voucher_id": str(voucher.id),
        "voucher_code": voucher.code,
        "kind": voucher.kind,
        "status": voucher.state,
        "rate_bp": voucher.rate_bp,
        "balance_amount": max(balance_amount, 0),
        "currency": voucher.currency,
        "valid_until": voucher.valid_until.isoformat(),
        "reason": reason,
    }


async def get_voucher(
    session: AsyncSession, voucher_id: uuid.UUID, *, for_update: bool = False
) -> Voucher | None:
    """The voucher, if it exists (row locked when asked)."""
    query = select(Voucher).where(col(Voucher.id) == voucher_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


def normalise_code(text: str) -> str:
    """The canonical code, or InvalidVoucherCodeProblem (422) before anything is looked up."""
    try:
        return codes.normalise(text)
    except codes.InvalidVoucherCode as exc:
        raise InvalidVoucherCodeProblem(
            str(exc), detail_zh="券码格式或校验位不正确，请核对。"
        ) from exc


async def lookup_by_code(session: AsyncSession, code: str) -> Voucher | None:
    """The voucher with the typed ``code`` (normalised first; a typo is a 422, not a lookup)."""
    canonical = normalise_code(code)
    return (
        await session.execute(select(Voucher).where(col(Voucher.code) == canonical))
    ).scalar_one_or_none()


async def balance_of(session: AsyncSession, voucher: Voucher) -> Balance:
    """The voucher's available balance and the part reserved by open holds."""
    account_id = await session.scalar(
        sa.select(account.c.id).where(account.c.code == voucher_account_code(voucher.id))
    )
    if account_id is None:
        return Balance(0, 0)
    totals = await ledger.balance(session, account_id)
    return Balance(available=totals.available, on_hold=totals.debits_pending)


async def awarded_this_year(
    session: AsyncSession, enterprise_id: uuid.UUID, kind: str, fiscal_year: int
) -> int:
    """What the enterprise was awarded by programmes of ``kind`` in ``fiscal_year``, net of
    returns: credits to its voucher accounts from ``program:`` accounts minus debits back."""
    program_ids = select(Program.id).where(
        col(Program.kind) == kind, col(Program.fiscal_year) == fiscal_year
    )
    ids = await voucher_account_ids(
        session,
        sa.and_(col(Voucher.holder_id) == enterprise_id, col(Voucher.program_id).in_(program_ids)),
    )
    if not ids:
        return 0
    awarded = await ledger.sum_legs(session, ids, side="credit", counterparty_prefix="program:")
    returned = await ledger.sum_legs(session, ids, side="debit", counterparty_prefix="program:")
    return awarded - returned


async def _set_state_if(
    session: AsyncSession, voucher: Voucher, new: VoucherState, expected: VoucherState
) -> bool:
    result = await session.execute(
        sa.update(Voucher)
        .where(col(Voucher.id) == voucher.id, col(Voucher.state) == expected)
        .values(state=new, state_changed_at=db_now())
        .execution_options(synchronize_session=False)
    )
    changed = bool(result.rowcount)  # type: ignore[attr-defined]
    if changed:
        await session.refresh(voucher)
    return changed


async def mark_exhausted_if_empty(session: AsyncSession, voucher: Voucher) -> bool:
    """An active voucher with nothing available and nothing on hold becomes ``exhausted``."""
    if voucher.state != VoucherState.active:
        return False
    balance = await balance_of(session, voucher)
    if balance.available > 0 or balance.on_hold > 0:
        return False
    return await _set_state_if(session, voucher, VoucherState.exhausted, VoucherState.active)


async def reactivate_if_funded(session: AsyncSession, voucher: Voucher) -> bool:
    """An exhausted voucher that got value back (a refund, a voided hold) is active again."""
    if voucher.state != VoucherState.exhausted:
        return False
    if (await balance_of(session, voucher)).available <= 0:
        return False
    return await _set_state_if(session, voucher, VoucherState.active, VoucherState.exhausted)


async def return_remainder(session: AsyncSession, voucher: Voucher, *, occasion: str) -> int:
    """Sweep the voucher's available balance back to its programme; returns the amount moved.

    ``occasion`` names the business action for ever (``revoke``, ``expire``, or e.g.
    ``void:<redemption id>`` when a hold on a revoked or expired voucher is released later).
    """
    specs = [ledger.chart.voucher(voucher.id), ledger.chart.program_available(voucher.program_id)]
    accounts = await ledger.open_accounts(session, specs)
    source, destination = (accounts[spec.code] for spec in specs)
    outcome = await ledger.sweep(
        session,
        f"voucher:{voucher.id}:return:{occasion}",
        source,
        destination,
        reference=f"voucher-return:{voucher.id}",
        details={"voucher_id": str(voucher.id), "occasion": occasion},
    )
    if not outcome.ok:
        return 0
    return sum(
        leg.amount
        for leg in outcome.transaction.legs
        if leg.side == "debit" and leg.phase == "posted"
    )


async def bound_provider_ids(
    session: AsyncSession, voucher_id: uuid.UUID, *, include_revoked: bool = False
) -> list[uuid.UUID]:
    """The providers bound to the voucher (not withdrawn unless asked), oldest first."""
    query = select(VoucherProvider.provider_id).where(col(VoucherProvider.voucher_id) == voucher_id)
    if not include_revoked:
        query = query.where(col(VoucherProvider.revoked_at).is_(None))
    return list(await session.scalars(query.order_by(col(VoucherProvider.id))))


__all__ = [
    "Balance",
    "BindingSource",
    "Redeemable",
    "awarded_this_year",
    "balance_of",
    "find_redeemable",
    "issue_voucher",
    "lookup_by_code",
    "mark_exhausted_if_empty",
    "may_redeem",
    "redeemability",
    "return_remainder",
    "voucher_account_code",
]
