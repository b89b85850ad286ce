"""The authority's routes: review queues, one application, decisions, pro-rata batch close."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ledger.sqltypes import utcnow
from voucher_service.applications import batch, present, repository, review
from voucher_service.applications.dependencies import (
    ApplicationToDecide,
    AuthorityApplication,
    BatchCloser,
    Reviewer,
    ReviewReader,
)
from voucher_service.applications.models import Application
from voucher_service.applications.schemas import (
    ApplicationAdmin,
    ApplicationSummary,
    BatchResult,
    DecisionCreate,
    DecisionResult,
)
from voucher_service.applications.workflow import State
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import ProblemError, problem_responses
from voucher_service.programs import service as programs

router = APIRouter(tags=["applications (authority)"], route_class=IdempotentRoute)


@router.get(
    "/v1/admin/applications",
    summary="Review queue: applications by programme, stage and state",
    responses=problem_responses(401, 403),
)
async def list_applications(
    _principal: ReviewReader,
    session: SessionDep,
    page: PageParamsDep,
    program: Annotated[uuid.UUID | None, Query()] = None,
    stage: Annotated[int | None, Query(ge=0, le=50, description="stage index")] = None,
    state: Annotated[State | None, Query()] = None,
) -> Page[ApplicationSummary]:
    query = repository.list_query(program_id=program, stage_index=stage, state=state)
    # Oldest first: a queue is worked from its head.
    rows, cursor = await paginate(
        session,
        query,
        Application.id,  # type: ignore[arg-type]
        page,
        newest_first=False,
    )
    return Page[ApplicationSummary](
        items=await present.summaries(session, rows), next_cursor=cursor
    )


@router.get(
    "/v1/admin/applications/{application_id}",
    summary="One application with its history, approvals and objections",
    responses=problem_responses(401, 403, 404),
)
async def get_application(
    application: AuthorityApplication, session: SessionDep
) -> ApplicationAdmin:
    return await present.for_authority(session, application, utcnow())


@router.post(
    "/v1/admin/applications/{application_id}/decisions",
    summary="Approve, reject or return at the current stage (the final approval issues)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decide(
    body: DecisionCreate,
    application: ApplicationToDecide,
    principal: Reviewer,
    session: SessionDep,
    database: DatabaseDep,
) -> DecisionResult:
    try:
        decided = await review.decide(
            session,
            application,
            body.decision,
            body.comment,
            actor=principal,
            stage_index=body.stage_index,
        )
    except ProblemError as problem:
        # The request's unit of work rolls back; the refused decision is still on record.
        await review.record_refusal(
            database, application, body.decision, problem.code, actor=principal
        )
        raise
    return DecisionResult(
        application=await present.for_authority(session, decided.application, utcnow()),
        awaiting_second_approver=decided.awaiting_second_approver,
    )


@router.post(
    "/v1/admin/programs/{program_id}/batches/close",
    summary="Close a pro-rata batch: scale every waiting award to the budget and issue",
    responses=problem_responses(401, 403, 404, 409),
)
async def close_batch(
    principal: BatchCloser,
    session: SessionDep,
    program_id: Annotated[uuid.UUID, Path()],
) -> BatchResult:
    program = await programs.get_program(session, program_id)
    outcome = await batch.close_batch(session, program, actor=principal)
    return BatchResult(
        program_id=program.id,
        budget_amount=outcome.budget_amount,
        requested_amount=outcome.requested_amount,
        issued_amount=outcome.issued_amount,
        issued=[application.id for application in outcome.issued],
        skipped=outcome.skipped,
    )
