"""Closing a pro-rata batch: every award waiting for final approval is scaled by
budget ÷ total requested (when the total is over budget), rounded down to the programme's unit,
and issued in one unit of work.

"Waiting for final approval" is an application at the programme's last stage with any publicity
over. Closing the batch is the final approval of each, so four-eyes holds per application: one
whose previous decision the closer made is left waiting, as is one that now breaks a rule (its
code is reported). Scaling never pays more than the budget: Σ floor(aᵢ·B/T) ≤ B.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ledger.sqltypes import utcnow
from voucher_service.applications import repository, review
from voucher_service.applications import workflow as wf
from voucher_service.applications.errors import ApplicationStateConflict
from voucher_service.applications.models import Application
from voucher_service.audit import service as audit
from voucher_service.auth.principal import Principal
from voucher_service.kit.problems import ProblemError
from voucher_service.programs import eligibility
from voucher_service.programs import service as programs
from voucher_service.programs.models import OversubscriptionPolicy, Program


@dataclass
class BatchOutcome:
    budget_amount: int
    requested_amount: int = 0
    issued_amount: int = 0
    issued: list[Application] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def scale(amounts: list[int], budget: int, unit: int) -> list[int]:
    """Each amount × budget ÷ total, truncated to ``unit`` fen; unchanged if they all fit."""
    total = sum(amounts)
    if total <= budget:
        return list(amounts)
    return [amount * budget // total // unit * unit for amount in amounts]


async def _candidates(
    session: AsyncSession, program: Program, actor: Principal, outcome: BatchOutcome
) -> list[tuple[Application, int, dict[str, object]]]:
    stages = wf.stages_of(program.review_stages)
    query = repository.waiting_at_last_stage(program.id, len(stages) - 1, utcnow()).order_by(
        col(Application.contract_signed_on), col(Application.id)
    )
    found = []
    for row in (await session.scalars(query)).all():
        application = await repository.lock(session, row.id)
        history = repository.past(await repository.decisions(session, application.id))
        this_round = [past for past in history if past.round == application.round]
        if this_round and this_round[-1].actor_id == actor.id:
            outcome.skipped[str(application.id)] = "four_eyes_required"
            continue
        try:
            award, working = await review.award(session, program, application)
        except ProblemError as problem:
            outcome.skipped[str(application.id)] = problem.code
            continue
        found.append((application, award, working))
    return found


async def close_batch(session: AsyncSession, program: Program, *, actor: Principal) -> BatchOutcome:
    """Scale and issue every award of ``program`` waiting for final approval."""
    if program.oversubscription_policy != OversubscriptionPolicy.pro_rata:
        raise ApplicationStateConflict(
            "Only a pro-rata programme issues its awards in batches.",
            detail_zh="仅按比例分配的项目按批次发放。",
        )
    program = await programs.get_program(session, program.id, for_update=True)
    outcome = BatchOutcome(budget_amount=await programs.remaining_budget(session, program))
    candidates = await _candidates(session, program, actor, outcome)
    unit = eligibility.FEN_PER_UNIT[program.rounding_unit]
    amounts = scale([award for _, award, _ in candidates], outcome.budget_amount, unit)
    outcome.requested_amount = sum(award for _, award, _ in candidates)
    stages = wf.stages_of(program.review_stages)
    for (application, requested, working), amount in zip(candidates, amounts, strict=True):
        if amount <= 0:
            outcome.skipped[str(application.id)] = "budget_exhausted"
            continue
        await review.issue_final(
            session,
            program,
            application,
            stages,
            amount,
            {**working, "requested_amount": requested, "pro_rata": amount != requested},
            actor=actor,
            comment="pro-rata batch closed",
        )
        outcome.issued.append(application)
        outcome.issued_amount += amount
    await audit.record(
        session,
        action="program.batch_closed",
        actor=actor,
        target=("program", program.id),
        after={
            "budget_amount": outcome.budget_amount,
            "requested_amount": outcome.requested_amount,
            "issued_amount": outcome.issued_amount,
            "issued": [str(a.id) for a in outcome.issued],
            "skipped": outcome.skipped,
        },
    )
    return outcome
