"""The authority's side: decisions stage by stage, final approval that issues the voucher, and
the close of a pro-rata batch.

Locks are taken in one order: the application row, then the enterprise's organisation row (so
two final approvals for one enterprise cannot both fit under its annual cap), then the ledger
accounts inside ``issue_voucher``. The budget itself is guarded by the ledger: the programme's
available account can never go below zero, so of two approvals racing for the last budget one
fails with ``budget_exhausted`` and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.applications import repository, rules
from voucher_service.applications import workflow as wf
from voucher_service.applications.errors import (
    ApplicationStateConflict,
    AwaitingBatch,
    CommentRequired,
    EarlierApplicationWaiting,
)
from voucher_service.applications.models import Application, ApplicationDecision
from voucher_service.audit import service as audit
from voucher_service.auth.principal import Principal
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.programs import service as programs
from voucher_service.programs.models import OversubscriptionPolicy, Program
from voucher_service.vouchers import service as vouchers


@dataclass(frozen=True)
class Decided:
    application: Application
    awaiting_second_approver: bool


async def _enterprise(session: AsyncSession, application: Application) -> Organisation:
    query = (
        select(Organisation)
        .where(col(Organisation.id) == application.enterprise_id)
        .with_for_update(key_share=True)
    )
    return (await session.execute(query)).scalar_one()


def _position(application: Application) -> wf.Position:
    return wf.Position(
        wf.State(application.state), application.stage_index, application.publicity_until
    )


async def award(
    session: AsyncSession, program: Program, application: Application
) -> tuple[int, dict[str, Any]]:
    """The rules again, as they stand now: the award and its working."""
    enterprise = await _enterprise(session, application)
    result, awarded = await rules.common(session, program, application, enterprise)
    return result.eligible_amount, rules.working(result, awarded)


async def _check_order(
    session: AsyncSession, program: Program, application: Application, last: int, now: datetime
) -> None:
    if program.oversubscription_policy == OversubscriptionPolicy.pro_rata:
        raise AwaitingBatch(
            "This programme issues its awards together when the batch is closed.",
            detail_zh="本项目在批次结束时按比例统一发放。",
        )
    earlier = await repository.earlier_waiting(session, application, last, now)
    if earlier is not None:
        raise EarlierApplicationWaiting(
            "Awards are approved in contract-date order; decide the earlier one first.",
            detail_zh="须按合同签订日期顺序审批，请先决定更早的申请。",
            application_id=str(earlier.id),
        )


async def decide(
    session: AsyncSession,
    application: Application,
    decision: wf.Decision,
    comment: str,
    *,
    actor: Principal,
    stage_index: int | None = None,
) -> Decided:
    """Record ``actor``'s decision at the application's current stage and act on it."""
    if decision != wf.Decision.approve and not comment.strip():
        raise CommentRequired(
            "Tell the applicant why: a rejection or a return needs a comment.",
            detail_zh="驳回或退回须填写意见，告知申请人原因。",
        )
    application = await repository.lock(session, application.id)
    program = await programs.get_program(session, application.program_id)
    stages = wf.stages_of(program.review_stages)
    position = _position(application)
    if stage_index is not None and (
        position.state not in wf.UNDER_REVIEW or position.stage_index != stage_index
    ):
        raise ApplicationStateConflict(
            f"The application is no longer at stage {stage_index}.",
            detail_zh=f"该申请已不在第 {stage_index} 阶段。",
            state=str(position.state),
            stage_index=position.stage_index,
        )
    now = utcnow()
    amount: int | None = None
    working: dict[str, Any] | None = None
    if decision == wf.Decision.approve and position.state in wf.UNDER_REVIEW:
        if wf.is_last(stages, position.stage_index):
            await _check_order(session, program, application, len(stages) - 1, now)
            amount, working = await award(session, program, application)
    threshold = program.two_approver_threshold_amount
    verdict = wf.decide(
        stages,
        position,
        decision,
        actor_id=actor.id,
        history=repository.past(await repository.decisions(session, application.id)),
        round_=application.round,
        now=now,
        needs_two_approvers=amount is not None and threshold is not None and amount > threshold,
    )
    if verdict.next == wf.Next.issue and amount is not None and working is not None:
        await issue_final(
            session, program, application, stages, amount, working, actor=actor, comment=comment
        )
        return Decided(application, awaiting_second_approver=False)
    _record(session, application, stages, decision, comment, actor, amount)
    if verdict.next == wf.Next.move:
        _move(application, verdict.position, now)
    await session.flush()
    await audit.record(
        session,
        action=f"application.decision.{decision.value}",
        actor=actor,
        target=("application", application.id),
        before={"state": position.state, "stage_index": position.stage_index},
        after={
            "state": application.state,
            "stage_index": application.stage_index,
            "next": verdict.next.value,
            "comment": comment[:500],
        },
    )
    return Decided(application, verdict.next == wf.Next.first_of_two)


def _move(application: Application, position: wf.Position, now: datetime) -> None:
    application.state = position.state
    application.stage_index = position.stage_index
    application.publicity_until = position.publicity_until
    application.updated_at = now
    if position.state in (wf.State.approved, wf.State.rejected):
        application.decided_at = now


async def issue_final(
    session: AsyncSession,
    program: Program,
    application: Application,
    stages: tuple[wf.Stage, ...],
    amount: int,
    working: dict[str, Any],
    *,
    actor: Principal,
    comment: str,
) -> None:
    """The final approval: issue the voucher, record the decision, mark the application."""
    before = {"state": application.state, "stage_index": application.stage_index}
    await _issue(session, program, application, amount, working, actor)
    _record(session, application, stages, wf.Decision.approve, comment, actor, amount)
    _move(application, wf.Position(wf.State.approved, application.stage_index), utcnow())
    await session.flush()
    await audit.record(
        session,
        action="application.decision.approve",
        actor=actor,
        target=("application", application.id),
        before=before,
        after={
            "state": application.state,
            "next": wf.Next.issue.value,
            "awarded_amount": amount,
            "voucher_id": str(application.voucher_id),
            "comment": comment[:500],
        },
    )


async def _issue(
    session: AsyncSession,
    program: Program,
    application: Application,
    amount: int,
    working: dict[str, Any],
    actor: Principal,
) -> None:
    """Issue the voucher in this unit of work: BudgetExhausted leaves nothing written."""
    voucher = await vouchers.issue_voucher(
        session,
        program=program,
        holder_id=application.enterprise_id,
        provider_id=application.provider_id,
        amount=amount,
        application_id=application.id,
        actor=actor,
        rate_bp=int(working["rate_bp"]),
    )
    application.awarded_amount = amount
    application.voucher_id = voucher.id
    application.eligibility = {**working, "awarded_amount": amount}


def _record(
    session: AsyncSession,
    application: Application,
    stages: tuple[wf.Stage, ...],
    decision: wf.Decision,
    comment: str,
    actor: Principal,
    award: int | None,
) -> None:
    session.add(
        ApplicationDecision(
            application_id=application.id,
            round=application.round,
            stage_index=application.stage_index,
            stage_name=stages[application.stage_index].name,
            decision=decision.value,
            actor_id=actor.id,
            actor_label=actor.label,
            comment=comment,
            awarded_amount=award,
        )
    )


async def record_refusal(
    database: Database,
    application: Application,
    decision: wf.Decision,
    problem_code: str,
    *,
    actor: Principal,
) -> None:
    """Keep a refused decision in the audit trail, outside the request's rolled-back work."""
    await audit.record_separately(
        database,
        action=f"application.decision.{decision.value}",
        actor=actor,
        target=("application", application.id),
        reason=problem_code,
        after={"state": application.state, "stage_index": application.stage_index},
    )
