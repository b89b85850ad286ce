"""The programme summary report (amounts in fen)."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.programs import service as programs
from voucher_service.programs.models import Program
from voucher_service.reports import queries


class VoucherCount(BaseModel):
    count: int
    issued_amount: int


class ProgramReport(BaseModel):
    program_id: uuid.UUID
    applications_by_state: dict[str, int]
    approval_rate_bp: int | None
    average_decision_days: float | None
    vouchers_by_state: dict[str, VoucherCount]
    figures: dict[str, int]


async def summarise(
    session: AsyncSession, program: Program, period: queries.Period
) -> ProgramReport:
    """Applications by state, approval rate and time, vouchers, and the ledger's figures."""
    states = await queries.applications_by_state(session, program.id, period)
    decided = states.get("approved", 0) + states.get("rejected", 0)
    rate = states.get("approved", 0) * 10_000 // decided if decided else None
    times = await queries.decision_times(session, program.id, period)
    vouchers = await queries.vouchers_by_state(session, program.id, period)
    figures = await programs.figures(session, program)
    return ProgramReport(
        program_id=program.id,
        applications_by_state=states,
        approval_rate_bp=rate,
        average_decision_days=round(sum(times) / len(times), 2) if times else None,
        vouchers_by_state={
            state: VoucherCount(count=count, issued_amount=amount)
            for state, (count, amount) in vouchers.items()
        },
        figures=asdict(figures),
    )
