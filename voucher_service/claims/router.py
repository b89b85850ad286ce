"""Claim routes: the holder files and follows claims; reviewers decide them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile, status
from fastapi.responses import FileResponse
from sqlmodel import col, select

from voucher_service.applications import repository
from voucher_service.applications.dependencies import (
    Reviewer,
    ReviewReader,
    get_or_404,
    readable_attachment,
)
from voucher_service.applications.router import serve
from voucher_service.applications.schemas import MAX_AMOUNT, AttachmentPublic
from voucher_service.auth.dependencies import (
    CurrentUser,
    EnterpriseUser,
    load_owned,
)
from voucher_service.claims import service as claims
from voucher_service.claims.errors import NothingCovered
from voucher_service.claims.models import Claim, ClaimState
from voucher_service.claims.schemas import ClaimDecision, ClaimPublic
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses

router = APIRouter(tags=["claims"], route_class=IdempotentRoute)
RULES = problem_responses(401, 403, 404, 409, 413, 415, 422)


async def claim_for_holder(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    claim_id: Annotated[uuid.UUID, Path()],
) -> Claim:
    return await load_owned(
        request, session, principal, Claim, claim_id, owner=lambda found: found.enterprise_id
    )


async def claim_for_authority(
    _principal: ReviewReader, session: SessionDep, claim_id: Annotated[uuid.UUID, Path()]
) -> Claim:
    return await get_or_404(session, Claim, claim_id)


async def claim_to_decide(
    _principal: Reviewer, session: SessionDep, claim_id: Annotated[uuid.UUID, Path()]
) -> Claim:
    return await get_or_404(session, Claim, claim_id)


HolderClaim = Annotated[Claim, Depends(claim_for_holder)]


async def present(session: SessionDep, claim: Claim) -> ClaimPublic:
    attachments = await repository.attachments(session, claim_id=claim.id)
    return ClaimPublic.model_validate(claim).model_copy(
        update={"attachments": [AttachmentPublic.model_validate(row) for row in attachments]}
    )


async def _read(upload: UploadFile, max_bytes: int) -> tuple[str, bytes]:
    return upload.filename or "", await upload.read(max_bytes + 1)


@router.post(
    "/v1/claims",
    summary="Claim the subsidy on a paid invoice (reimbursement mode), with proofs",
    status_code=status.HTTP_201_CREATED,
    responses=RULES,
)
async def file_claim(
    principal: EnterpriseUser,
    session: SessionDep,
    settings: SettingsDep,
    voucher_id: Annotated[uuid.UUID, Form()],
    invoice_number: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")],
    paid_amount: Annotated[int, Form(gt=0, le=MAX_AMOUNT, description="fen")],
    period_from_on: Annotated[date, Form()],
    period_until_on: Annotated[date, Form()],
    invoice: Annotated[UploadFile, File()],
    payment: Annotated[UploadFile, File()],
    delivery: Annotated[UploadFile, File(description="delivery or usage report")],
) -> ClaimPublic:
    if period_until_on <= period_from_on:
        raise NothingCovered(
            "The period must end after it starts.", detail_zh="申报期间的结束日期须晚于开始日期。"
        )
    limit = settings.attachment_max_bytes
    request = claims.ClaimRequest(
        voucher_id=voucher_id,
        invoice_number=invoice_number,
        paid_amount=paid_amount,
        period_from_on=period_from_on,
        period_until_on=period_until_on,
        proofs={
            "invoice": await _read(invoice, limit),
            "payment": await _read(payment, limit),
            "delivery": await _read(delivery, limit),
        },
    )
    claim = await claims.file_claim(
        session, request, actor=principal, data_dir=settings.data_dir, max_bytes=limit
    )
    return await present(session, claim)


@router.get("/v1/claims", summary="My enterprise's claims", responses=problem_responses(401, 403))
async def list_claims(
    principal: EnterpriseUser,
    session: SessionDep,
    page: PageParamsDep,
    state: Annotated[ClaimState | None, Query()] = None,
) -> Page[ClaimPublic]:
    query = select(Claim).where(col(Claim.enterprise_id) == principal.organisation_id)
    if state is not None:
        query = query.where(col(Claim.state) == state)
    rows, cursor = await paginate(session, query, Claim.id, page)  # type: ignore[arg-type]
    return Page[ClaimPublic](
        items=[await present(session, row) for row in rows], next_cursor=cursor
    )


@router.get(
    "/v1/claims/{claim_id}", summary="One claim", responses=problem_responses(401, 403, 404)
)
async def get_claim(claim: HolderClaim, session: SessionDep) -> ClaimPublic:
    return await present(session, claim)


@router.get(
    "/v1/claims/{claim_id}/attachments/{attachment_id}",
    summary="Download a proof (the holder and the authority only)",
    response_class=FileResponse,
    responses=problem_responses(401, 403, 404),
)
async def download_proof(
    request: Request,
    principal: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    claim_id: Annotated[uuid.UUID, Path()],
    attachment_id: Annotated[uuid.UUID, Path()],
) -> FileResponse:
    attachment = await readable_attachment(
        request, principal, session, attachment_id, lambda found: found.claim_id == claim_id
    )
    return serve(attachment, settings.data_dir)


@router.get("/v1/admin/claims", summary="Claims to review", responses=problem_responses(401, 403))
async def list_claims_for_review(
    _principal: ReviewReader,
    session: SessionDep,
    page: PageParamsDep,
    program: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[ClaimState | None, Query()] = None,
) -> Page[ClaimPublic]:
    query = select(Claim)
    if program is not None:
        query = query.where(col(Claim.program_id) == program)
    if state is not None:
        query = query.where(col(Claim.state) == state)
    rows, cursor = await paginate(
        session,
        query,
        Claim.id,  # type: ignore[arg-type]
        page,
        newest_first=False,
    )
    return Page[ClaimPublic](
        items=[await present(session, row) for row in rows], next_cursor=cursor
    )


@router.get(
    "/v1/admin/claims/{claim_id}", summary="One claim", responses=problem_responses(401, 403, 404)
)
async def get_claim_for_review(
    claim: Annotated[Claim, Depends(claim_for_authority)], session: SessionDep
) -> ClaimPublic:
    return await present(session, claim)


@router.post(
    "/v1/admin/claims/{claim_id}/decisions",
    summary="Approve the covered amount (or less, with a reason) or reject with a reason",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decide_claim(
    body: ClaimDecision,
    claim: Annotated[Claim, Depends(claim_to_decide)],
    principal: Reviewer,
    session: SessionDep,
) -> ClaimPublic:
    claim = await claims.decide(session, claim, body, actor=principal)
    return await present(session, claim)
