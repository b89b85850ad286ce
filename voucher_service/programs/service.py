"""Programme rules: the interface other domains use, and the programme's lifecycle.

Other domains call ``get_program``, ``eligibility_rule`` (applications compute with exactly the
published rule), ``remaining_budget`` and ``figures`` (from the ledger), ``price_ceiling`` and
``is_eligible_provider``. Lifecycle: ``create_program`` / ``update_program`` (draft only),
``fund`` (treasury → available, idempotent), ``open_program``, ``close_program``,
``archive_program``; each audited here.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.programs import eligibility
from voucher_service.programs.errors import (
    FundingConflict,
    InvalidProgramRules,
    ProgramNotFound,
    ProgramStateConflict,
)
from voucher_service.programs.figures import (
    ProgramFigures,
    available_account_code,
    payout_reference,
)
from voucher_service.programs.figures import figures as _figures
from voucher_service.programs.figures import remaining_budget as _remaining
from voucher_service.programs.models import (
    PriceCeiling,
    Program,
    ProgramProvider,
    ProgramStatus,
    StageKind,
)

Actor = AuditActor | Auditable | None

__all__ = [
    "ProgramFigures",
    "available_account_code",
    "eligibility_rule",
    "figures",
    "get_program",
    "is_eligible_provider",
    "payout_reference",
    "price_ceiling",
    "remaining_budget",
]


async def get_program(
    session: AsyncSession, program_id: uuid.UUID, *, for_update: bool = False
) -> Program:
    """The programme, or ProgramNotFound (404)."""
    query = select(Program).where(col(Program.id) == program_id)
    if for_update:
        query = query.with_for_update()
    program = (await session.execute(query)).scalar_one_or_none()
    if program is None:
        raise ProgramNotFound()
    return program


def eligibility_rule(program: Program) -> eligibility.Rule:
    """The programme's published rule as :class:`eligibility.Rule` (tiers end with the default)."""
    tiers = [_tier(raw) for raw in program.rate_tiers]
    if not tiers or tiers[-1].rule != eligibility.TierRule.DEFAULT:
        tiers.append(eligibility.RateTier(eligibility.TierRule.DEFAULT, program.default_rate_bp))
    caps = eligibility.Caps(
        per_contract_amount=program.contract_cap_amount,
        per_claim_share_bp=program.claim_share_bp,
        per_enterprise_annual_amount=program.enterprise_annual_cap_amount,
    )
    return eligibility.Rule(
        tiers=tuple(tiers),
        caps=caps,
        rounding=program.rounding_unit,
        eligible_from_on=program.eligible_from_on,
        eligible_until_on=program.eligible_until_on,
    )


def _tier(raw: dict[str, Any]) -> eligibility.RateTier:
    return eligibility.RateTier(
        rule=eligibility.TierRule(raw["rule"]),
        rate_bp=int(raw["rate_bp"]),
        startup_years=int(raw.get("startup_years") or 3),
        max_contract_amount=raw.get("max_contract_amount"),
        industries=tuple(raw.get("industries") or ()),
    )


async def remaining_budget(session: AsyncSession, program: Program) -> int:
    """What the programme can still issue (its available account, from the ledger)."""
    return await _remaining(session, program.id)


async def figures(session: AsyncSession, program: Program) -> ProgramFigures:
    """Budget, committed, spent, paid out, returned and available, all from the ledger."""
    return await _figures(session, program.id)


async def price_ceiling(
    session: AsyncSession, program_id: uuid.UUID, resource: str, unit: str
) -> PriceCeiling | None:
    """The programme's maximum unit price for ``resource`` per ``unit``, if it sets one."""
    query = select(PriceCeiling).where(
        col(PriceCeiling.program_id) == program_id,
        col(PriceCeiling.resource) == resource,
        col(PriceCeiling.unit) == unit,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def is_eligible_provider(
    session: AsyncSession, program_id: uuid.UUID, provider_id: uuid.UUID
) -> bool:
    """Whether the provider is on the programme's list (approval is checked separately)."""
    found = await session.scalar(
        select(ProgramProvider.id).where(
            col(ProgramProvider.program_id) == program_id,
            col(ProgramProvider.provider_id) == provider_id,
        )
    )
    return found is not None


async def eligible_provider_ids(session: AsyncSession, program_id: uuid.UUID) -> list[uuid.UUID]:
    """The providers on the programme's list, in the order they were added."""
    rows = await session.scalars(
        select(ProgramProvider.provider_id)
        .where(col(ProgramProvider.program_id) == program_id)
        .order_by(col(ProgramProvider.id))
    )
    return list(rows)


# --- configuration ------------------------------------------------------------------------------


def summary(program: Program) -> dict[str, Any]:
    """What the audit trail keeps about a programme's rules."""
    return program.model_dump(
        exclude={"id", "created_at", "updated_at", "opened_at", "closed_at", "archived_at"}
    )


def check_rules(program: Program) -> None:
    """Cross-field rules a request schema cannot see on its own (InvalidProgramRules)."""
    problems: list[str] = []
    if program.closes_on < program.opens_on:
        problems.append("closes_on is before opens_on")
    if (
        program.eligible_from_on
        and program.eligible_until_on
        and program.eligible_until_on <= program.eligible_from_on
    ):
        problems.append("eligible_until_on must be after eligible_from_on")
    if program.validity_days is None and program.valid_until_on is None:
        problems.append("set validity_days or valid_until_on")
    if program.valid_until_on is not None and program.valid_until_on < program.opens_on:
        problems.append("valid_until_on is before the application window opens")
    names = [stage["name"] for stage in program.review_stages]
    if len(set(names)) != len(names):
        problems.append("review stage names must be unique")
    if program.review_stages and program.review_stages[-1]["kind"] != StageKind.publicity:
        problems.append("the last review stage must be the publicity (公示) stage")
    if problems:
        raise InvalidProgramRules("; ".join(problems), problems=problems)


async def create_program(session: AsyncSession, values: dict[str, Any], *, actor: Actor) -> Program:
    """A draft programme with its ledger account opened."""
    program = Program(**values, created_by_id=getattr(_actor(actor), "id", None))
    check_rules(program)
    session.add(program)
    await session.flush()
    await ledger.open_accounts(
        session, [ledger.chart.program_available(program.id), ledger.chart.treasury()]
    )
    await audit.record(
        session,
        action="program.created",
        actor=actor,
        target=("program", program.id),
        after=summary(program),
    )
    return program


def _actor(actor: Actor) -> AuditActor | None:
    if actor is None or isinstance(actor, AuditActor):
        return actor
    return actor.audit_actor


def _expect(program: Program, *states: ProgramStatus) -> None:
    if program.status not in states:
        raise ProgramStateConflict(
            f"The programme is {program.status}; this needs {' or '.join(states)}.",
            detail_zh=f"项目当前状态为 {program.status}。",
            status_now=program.status,
        )


async def update_program(
    session: AsyncSession, program: Program, changes: dict[str, Any], *, actor: Actor
) -> Program:
    """Change a draft programme's rules (a published programme's rules never change)."""
    _expect(program, ProgramStatus.draft)
    before = {name: getattr(program, name) for name in changes}
    for name, value in changes.items():
        setattr(program, name, value)
    check_rules(program)
    program.updated_at = utcnow()
    session.add(program)
    await session.flush()
    await audit.record(
        session,
        action="program.updated",
        actor=actor,
        target=("program", program.id),
        before=before,
        after=changes,
    )
    return program


async def _set_status(
    session: AsyncSession,
    program: Program,
    status: ProgramStatus,
    *,
    expect: tuple[ProgramStatus, ...],
    actor: Actor,
    stamp: str,
) -> Program:
    locked = await get_program(session, program.id, for_update=True)
    _expect(locked, *expect)
    before = locked.status
    now = utcnow()
    locked.status = status
    setattr(locked, stamp, now)
    locked.updated_at = now
    session.add(locked)
    await session.flush()
    await audit.record(
        session,
        action=f"program.{status}" if status != ProgramStatus.open else "program.opened",
        actor=actor,
        target=("program", locked.id),
        before={"status": before},
        after={"status": status},
    )
    return locked


async def open_program(session: AsyncSession, program: Program, *, actor: Actor) -> Program:
    """Publish a draft: its rules are frozen and applications may be made in its window."""
    if not await eligible_provider_ids(session, program.id):
        raise InvalidProgramRules(
            "Add at least one eligible provider before opening the programme.",
            detail_zh="开放项目前须至少添加一家服务商。",
        )
    return await _set_status(
        session,
        program,
        ProgramStatus.open,
        expect=(ProgramStatus.draft,),
        actor=actor,
        stamp="opened_at",
    )


async def close_program(session: AsyncSession, program: Program, *, actor: Actor) -> Program:
    """Stop accepting applications (vouchers already issued stay valid)."""
    return await _set_status(
        session,
        program,
        ProgramStatus.closed,
        expect=(ProgramStatus.open,),
        actor=actor,
        stamp="closed_at",
    )


async def archive_program(session: AsyncSession, program: Program, *, actor: Actor) -> Program:
    """Archive a closed programme (read-only from now on)."""
    return await _set_status(
        session,
        program,
        ProgramStatus.archived,
        expect=(ProgramStatus.closed,),
        actor=actor,
        stamp="archived_at",
    )


def funding_client_id(program_id: uuid.UUID, key: str) -> str:
    """The ledger client id of one funding request (its idempotency key names it for ever)."""
    return f"program:{program_id}:fund:{key}"


async def fund(
    session: AsyncSession,
    program: Program,
    *,
    amount: int,
    key: str,
    actor: Actor,
    note: str | None = None,
) -> ledger.Outcome:
    """Move ``amount`` from the treasury to the programme's available account (idempotent)."""
    _expect(program, ProgramStatus.draft, ProgramStatus.open, ProgramStatus.closed)
    accounts = await ledger.open_accounts(
        session, [ledger.chart.treasury(), ledger.chart.program_available(program.id)]
    )
    treasury = accounts[ledger.chart.treasury().code]
    available = accounts[available_account_code(program.id)]
    try:
        outcome = await ledger.transfer(
            session,
            funding_client_id(program.id, key),
            [ledger.Transfer(treasury, available, amount)],
            reference=f"program-funding:{program.id}",
            details={"program_id": str(program.id), "note": note},
        )
    except ledger.IdempotencyConflict as exc:
        raise FundingConflict(
            "This key already funded the programme with a different amount.",
            detail_zh="该幂等键已用于不同金额的拨款。",
        ) from exc
    if not outcome.replayed:
        await audit.record(
            session,
            action="program.funded",
            actor=actor,
            target=("program", program.id),
            after={"amount": amount, "key": key, "transaction_id": str(outcome.transaction.id)},
            reason=note,
        )
    return outcome


async def set_price_ceiling(
    session: AsyncSession,
    program: Program,
    *,
    resource: str,
    unit: str,
    max_unit_price_amount: int,
    actor: Actor,
) -> PriceCeiling:
    """Set (or change) the ceiling for ``resource`` per ``unit``; any state but archived."""
    _expect(program, ProgramStatus.draft, ProgramStatus.open, ProgramStatus.closed)
    ceiling = await price_ceiling(session, program.id, resource, unit)
    before = ceiling.max_unit_price_amount if ceiling else None
    if ceiling is None:
        ceiling = PriceCeiling(
            program_id=program.id,
            resource=resource,
            unit=unit,
            max_unit_price_amount=max_unit_price_amount,
        )
    else:
        ceiling.max_unit_price_amount = max_unit_price_amount
        ceiling.updated_at = utcnow()
    session.add(ceiling)
    await session.flush()
    await audit.record(
        session,
        action="program.price_ceiling_set",
        actor=actor,
        target=("program", program.id),
        before={"resource": resource, "unit": unit, "max_unit_price_amount": before},
        after={"resource": resource, "unit": unit, "max_unit_price_amount": max_unit_price_amount},
    )
    return ceiling


def application_window_open(program: Program, on: date) -> bool:
    """Whether applications are accepted on ``on`` (the programme must also be open)."""
    return program.status == ProgramStatus.open and program.opens_on <= on <= program.closes_on
