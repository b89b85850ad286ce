"""Typed async factories for providers, programmes and vouchers (other domains reuse them).

Like ``tests/factories.py`` they write directly and commit, so the app sees what they made; money
still moves only through the ledger (``fund_program``, ``create_voucher`` via ``issue_voucher``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from providers.registry.models import CatalogueItem, ProviderProfile, ProviderState
from tests.factories import auth_headers, create_organisation, create_user
from voucher_service.audit.service import AuditActor
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs import configuration
from voucher_service.programs.models import Program, ProgramProvider, ProgramStatus
from voucher_service.users.models import Role
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher

_sequence = itertools.count(1)
FACTORY = AuditActor.system("test-factory")


async def create_provider(
    session: AsyncSession,
    *,
    state: ProviderState = ProviderState.approved,
    services: Iterable[str] = ("compute", "model"),
    filing_number: str | None = "Beijing-WangXinSuan-0001",
    organisation: Organisation | None = None,
    catalogue: Iterable[tuple[str, str]] = (("gpu_hour", "hour"), ("token_1k", "1k_tokens")),
) -> Organisation:
    """A provider organisation with a registry profile in ``state`` and a small catalogue."""
    organisation = organisation or await create_organisation(
        session, kind=OrganisationKind.provider
    )
    profile = ProviderProfile(
        organisation_id=organisation.id,
        state=state,
        services=sorted(services),
        filing_number=filing_number,
        suspended_reason="test suspension" if state == ProviderState.suspended else None,
    )
    session.add(profile)
    await session.flush()
    for resource, unit in catalogue:
        session.add(CatalogueItem(provider_id=organisation.id, resource=resource, unit=unit))
    await session.commit()
    return organisation


def program_values(**overrides: Any) -> dict[str, Any]:
    """Valid programme fields (a compute, point-of-sale programme open this year)."""
    today = date.today()
    values: dict[str, Any] = {
        "name": f"Compute voucher {next(_sequence)}",
        "description": "Test programme",
        "kind": "compute",
        "mode": "point_of_sale",
        "fiscal_year": today.year,
        "rate_tiers": [{"rule": "startup", "rate_bp": 6000, "startup_years": 3}],
        "default_rate_bp": 3000,
        "rounding_unit": "fen",
        "opens_on": today - timedelta(days=30),
        "closes_on": today + timedelta(days=335),
        "validity_days": 365,
        "review_stages": [
            {"name": "preliminary", "kind": "review", "days": 0},
            {"name": "expert", "kind": "review", "days": 0},
            {"name": "publicity", "kind": "publicity", "days": 5},
        ],
    }
    values.update(overrides)
    return values


async def create_program(
    session: AsyncSession,
    *,
    status: ProgramStatus = ProgramStatus.open,
    providers: Iterable[Organisation] = (),
    budget: int = 0,
    **overrides: Any,
) -> Program:
    """A programme in ``status`` with these eligible providers, funded with ``budget`` fen."""
    values = program_values(**overrides)
    program = await configuration.create_program(session, values, actor=FACTORY)
    program.status = status
    for provider in providers:
        session.add(ProgramProvider(program_id=program.id, provider_id=provider.id))
    await session.commit()
    if budget:
        await fund_program(session, program, budget)
    return program


async def fund_program(session: AsyncSession, program: Program, amount: int) -> None:
    """Move ``amount`` from the treasury to the programme (committed)."""
    await configuration.fund(session, program, amount=amount, key=uuid.uuid4().hex, actor=FACTORY)
    await session.commit()


async def create_voucher(
    session: AsyncSession,
    *,
    amount: int = 100_000_00,
    program: Program | None = None,
    holder: Organisation | None = None,
    provider: Organisation | None = None,
    application_id: uuid.UUID | None = None,
    rate_bp: int | None = None,
    **program_overrides: Any,
) -> Voucher:
    """An issued voucher (a funded programme, holder and approved provider made if not given)."""
    provider = provider or await create_provider(session)
    holder = holder or await create_organisation(session, kind=OrganisationKind.enterprise)
    if program is None:
        program = await create_program(
            session, providers=[provider], budget=amount, **program_overrides
        )
    voucher = await vouchers.issue_voucher(
        session,
        program=program,
        holder_id=holder.id,
        provider_id=provider.id,
        amount=amount,
        application_id=application_id,
        actor=FACTORY,
        rate_bp=rate_bp,
    )
    await session.commit()
    return voucher


async def headers_for(
    app: FastAPI, session: AsyncSession, role: Role, organisation: Organisation | None = None
) -> dict[str, str]:
    """``Authorization`` headers of a fresh user with ``role`` (in ``organisation`` if given)."""
    user = await create_user(session, role=role, organisation=organisation)
    return await auth_headers(app, session, user)
