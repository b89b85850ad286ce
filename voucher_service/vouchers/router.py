"""HTTP routes of vouchers: the holder's (``/v1/vouchers``) and the authority's.

Who may call them: members (owners and members) of the holding enterprise read its vouchers,
balances and movements; only its **owners** authorise or withdraw providers (that decides who
may spend public money on the enterprise's behalf). Every authority user searches and reads any
voucher; programme administrators freeze, unfreeze and revoke (with a reason).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import col, select

from voucher_service.auth.dependencies import (
    AuthorityUser,
    EnterpriseOwner,
    EnterpriseUser,
    ProgramAdmin,
)
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import MAX_PAGE_SIZE, Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.vouchers import lifecycle, views
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.dependencies import AnyVoucher, HeldVoucher
from voucher_service.vouchers.models import Voucher, VoucherState
from voucher_service.vouchers.schemas import (
    MovementPage,
    ProviderAuthorisation,
    StateChange,
    VoucherAdminOut,
    VoucherOut,
)

router = APIRouter(tags=["vouchers"], route_class=IdempotentRoute)
READ = problem_responses(401, 403, 404)
CHANGE = problem_responses(401, 403, 404, 409, 422)


@router.get("/v1/vouchers", summary="My enterprise's vouchers", responses=READ)
async def list_own(
    principal: EnterpriseUser,
    session: SessionDep,
    page: PageParamsDep,
    state: Annotated[VoucherState | None, Query()] = None,
    program_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[VoucherOut]:
    query = select(Voucher).where(col(Voucher.holder_id) == principal.organisation_id)
    if state is not None:
        query = query.where(col(Voucher.state) == state)
    if program_id is not None:
        query = query.where(col(Voucher.program_id) == program_id)
    rows, cursor = await paginate(session, query, Voucher.id, page)  # type: ignore[arg-type]
    return Page[VoucherOut](items=[VoucherOut.of(row) for row in rows], next_cursor=cursor)


@router.get(
    "/v1/vouchers/{voucher_id}",
    summary="A voucher with its balance (available, on hold) and providers",
    responses=READ,
)
async def get_own(voucher: HeldVoucher, session: SessionDep) -> VoucherOut:
    return await views.detail(session, voucher, VoucherOut)


@router.get(
    "/v1/vouchers/{voucher_id}/transactions",
    summary="Every ledger movement on the voucher, newest first",
    responses=problem_responses(400, 401, 403, 404),
)
async def list_movements(
    voucher: HeldVoucher,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> MovementPage:
    return await views.movements(session, voucher, limit=limit, cursor=cursor)


@router.post(
    "/v1/vouchers/{voucher_id}/providers",
    summary="Authorise another approved provider of the programme (when it allows)",
    responses=CHANGE,
)
async def authorise_provider(
    body: ProviderAuthorisation,
    principal: EnterpriseOwner,
    voucher: HeldVoucher,
    session: SessionDep,
) -> VoucherOut:
    await lifecycle.authorise_provider(session, voucher, body.provider_id, actor=principal)
    return await views.detail(session, voucher, VoucherOut)


@router.delete(
    "/v1/vouchers/{voucher_id}/providers/{provider_id}",
    summary="Withdraw a provider's authorisation (it can no longer redeem this voucher)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGE,
)
async def withdraw_provider(
    principal: EnterpriseOwner, voucher: HeldVoucher, session: SessionDep, provider_id: uuid.UUID
) -> Response:
    await lifecycle.withdraw_provider(session, voucher, provider_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/admin/vouchers",
    summary="Search vouchers by code, holder, programme or state",
    responses=problem_responses(401, 403, 422),
)
async def search(
    _principal: AuthorityUser,
    session: SessionDep,
    page: PageParamsDep,
    code: Annotated[str | None, Query(max_length=40)] = None,
    holder_id: Annotated[uuid.UUID | None, Query()] = None,
    program_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[VoucherState | None, Query()] = None,
) -> Page[VoucherAdminOut]:
    query = select(Voucher)
    if code is not None:
        query = query.where(col(Voucher.code) == vouchers.normalise_code(code))
    if holder_id is not None:
        query = query.where(col(Voucher.holder_id) == holder_id)
    if program_id is not None:
        query = query.where(col(Voucher.program_id) == program_id)
    if state is not None:
        query = query.where(col(Voucher.state) == state)
    rows, cursor = await paginate(session, query, Voucher.id, page)  # type: ignore[arg-type]
    return Page[VoucherAdminOut](
        items=[VoucherAdminOut.of(row) for row in rows], next_cursor=cursor
    )


@router.get("/v1/admin/vouchers/{voucher_id}", summary="Any voucher", responses=READ)
async def get_any(voucher: AnyVoucher, session: SessionDep) -> VoucherAdminOut:
    return await views.detail(session, voucher, VoucherAdminOut)


@router.post(
    "/v1/admin/vouchers/{voucher_id}/freeze",
    summary="Freeze a voucher: no redemption until unfrozen",
    responses=CHANGE,
)
async def freeze(
    body: StateChange, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> VoucherAdminOut:
    voucher = await lifecycle.freeze(session, voucher, reason=body.reason, actor=principal)
    return await views.detail(session, voucher, VoucherAdminOut)


@router.post("/v1/admin/vouchers/{voucher_id}/unfreeze", summary="Lift a freeze", responses=CHANGE)
async def unfreeze(
    body: StateChange, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> VoucherAdminOut:
    voucher = await lifecycle.unfreeze(session, voucher, reason=body.reason, actor=principal)
    return await views.detail(session, voucher, VoucherAdminOut)


@router.post(
    "/v1/admin/vouchers/{voucher_id}/revoke",
    summary="Revoke a voucher for good; its remainder returns to the programme",
    responses=CHANGE,
)
async def revoke(
    body: StateChange, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> VoucherAdminOut:
    voucher = await lifecycle.revoke(session, voucher, reason=body.reason, actor=principal)
    return await views.detail(session, voucher, VoucherAdminOut)
