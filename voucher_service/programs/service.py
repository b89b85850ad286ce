"""Programme rules: what other domains read about a programme.

``get_program``, ``eligibility_rule`` (applications compute with exactly the published rule),
``remaining_budget`` and ``figures`` (from the ledger), ``price_ceiling``, ``is_eligible_provider``
and ``application_window_open``. Configuring a programme (create, fund, open, close, ...) is in
:mod:`.configuration`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from voucher_service.programs import eligibility
from voucher_service.programs.errors import ProgramNotFound
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
)

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
        query = query.with_for_update().execution_options(populate_existing=True)
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


def application_window_open(program: Program, on: date) -> bool:
    """Whether applications are accepted on ``on`` (the programme must also be open)."""
    return program.status == ProgramStatus.open and program.opens_on <= on <= program.closes_on
