"""Configuring a programme: create, change while a draft, fund, open, close, archive, its
eligible providers and price ceilings. Each change is audited here.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.sqltypes import utcnow
from providers.registry import service as registry
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.programs.errors import (
    FundingConflict,
    InvalidProgramRules,
    ProgramNotFound,
    ProgramStateConflict,
    ProviderNotEligible,
)
from voucher_service.programs.figures import available_account_code
from voucher_service.programs.models import (
    PriceCeiling,
    Program,
    ProgramProvider,
    ProgramStatus,
    StageKind,
)
from voucher_service.programs.service import eligible_provider_ids, get_program, price_ceiling

Actor = AuditActor | Auditable | None


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
    await get_program(session, program.id, for_update=True)  # serialises concurrent setters
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


async def add_eligible_provider(
    session: AsyncSession, program: Program, provider_id: uuid.UUID, *, actor: Actor
) -> ProgramProvider:
    """Put a registered provider selling the programme's kind on its list (idempotent)."""
    _expect(program, ProgramStatus.draft, ProgramStatus.open, ProgramStatus.closed)
    profile = await registry.get_profile(session, provider_id)
    if profile is None or not profile.sells(program.kind):
        raise ProviderNotEligible(
            f"Only a registered provider selling {program.kind} services can be listed.",
            detail_zh="只有已登记且提供本类服务的服务商可以列入名单。",
        )
    await get_program(session, program.id, for_update=True)  # serialises concurrent additions
    existing = await _listing(session, program.id, provider_id)
    if existing is not None:
        return existing
    listing = ProgramProvider(program_id=program.id, provider_id=provider_id)
    session.add(listing)
    await session.flush()
    await audit.record(
        session,
        action="program.provider_added",
        actor=actor,
        target=("program", program.id),
        after={"provider_id": str(provider_id)},
    )
    return listing


async def remove_eligible_provider(
    session: AsyncSession, program: Program, provider_id: uuid.UUID, *, actor: Actor
) -> None:
    """Take a provider off the list (new applications only; issued vouchers keep it)."""
    _expect(program, ProgramStatus.draft, ProgramStatus.open, ProgramStatus.closed)
    listing = await _listing(session, program.id, provider_id)
    if listing is None:
        raise ProgramNotFound()
    await session.delete(listing)
    await session.flush()
    await audit.record(
        session,
        action="program.provider_removed",
        actor=actor,
        target=("program", program.id),
        before={"provider_id": str(provider_id)},
    )


async def _listing(
    session: AsyncSession, program_id: uuid.UUID, provider_id: uuid.UUID
) -> ProgramProvider | None:
    query = select(ProgramProvider).where(
        col(ProgramProvider.program_id) == program_id,
        col(ProgramProvider.provider_id) == provider_id,
    )
    return (await session.execute(query)).scalar_one_or_none()
