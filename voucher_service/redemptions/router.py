"""``/v1/provider/vouchers`` and ``/v1/provider/redemptions``: the provider integration contract.

Exactly DESIGN.md §6. Every mutating call needs an ``Idempotency-Key`` (kept for ever by default,
see ``voucher_service.idempotency``); amounts are fen. Callers are provider API clients holding
``vouchers:read``, ``redemptions:read`` or ``redemptions:write``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status
from sqlmodel import col, select

from voucher_service.dependencies import KeyRingDep, SessionDep
from voucher_service.idempotency import IdempotentRoute, RedemptionIdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.organisations.models import Organisation
from voucher_service.redemptions import service, transitions
from voucher_service.redemptions.dependencies import (
    HeldVoucher,
    ReadableRedemption,
    RedemptionReader,
    RedemptionWriter,
    VoucherReader,
    WritableRedemption,
)
from voucher_service.redemptions.models import Redemption
from voucher_service.redemptions.schemas import (
    CaptureRequest,
    HolderRedemptionPublic,
    ProviderVoucherPublic,
    RedemptionCreate,
    RedemptionPublic,
    RedemptionSummary,
    RefundCreate,
    RefundPublic,
    RefundResult,
)

router = APIRouter(
    prefix="/v1/provider", tags=["provider redemptions"], route_class=RedemptionIdempotentRoute
)
WRITE = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _public(answer: service.Answer) -> RedemptionPublic:
    return RedemptionPublic.of(
        answer.redemption,
        voucher_balance=answer.voucher_balance,
        receipt=answer.receipt,
        refunds=answer.refunds,
    )


@router.get(
    "/vouchers/{code}",
    summary="A voucher bound to this provider, with its status (404 for any other, as for a "
    "missing one)",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_voucher(
    code: Annotated[str, Path(max_length=32, examples=["SHC-7K3M-Q9PX-4"])],
    principal: VoucherReader,
    session: SessionDep,
) -> ProviderVoucherPublic:
    """Frozen, exhausted, expired or revoked vouchers are answered too: ``status`` says why a
    redemption would be refused."""
    voucher, state = await service.visible_voucher(session, code, principal.organisation_id)
    return ProviderVoucherPublic(
        code=voucher.code,
        status=state,
        kind=voucher.kind,
        balance=await service.voucher_balance(session, voucher),
        currency=voucher.currency,
        rate_bp=voucher.rate_bp,
        valid_until=voucher.valid_until,
    )


@router.post(
    "/redemptions",
    status_code=status.HTTP_201_CREATED,
    summary="Redeem a voucher against a bill: capture at once, or authorise (hold) first",
    responses=WRITE,
)
async def create_redemption(
    body: RedemptionCreate, principal: RedemptionWriter, session: SessionDep, keyring: KeyRingDep
) -> RedemptionPublic:
    """``Idempotency-Key`` required. `covered_amount = min(floor(bill × rate_bp / 10000),
    balance)`; a short balance is `insufficient_balance` unless `allow_partial`."""
    answer = await service.redeem(
        session, keyring, principal.organisation_id, body, actor=principal
    )
    return _public(answer)


@router.post(
    "/redemptions/{redemption_id}/capture",
    summary="Capture an authorisation (all, or part: the rest goes back to the voucher)",
    responses=WRITE,
)
async def capture_redemption(
    redemption: WritableRedemption,
    principal: RedemptionWriter,
    session: SessionDep,
    keyring: KeyRingDep,
    body: Annotated[CaptureRequest | None, Body()] = None,
) -> RedemptionPublic:
    amount = body.amount if body else None
    answer = await transitions.capture(session, keyring, redemption.id, amount, actor=principal)
    return _public(answer)


@router.post(
    "/redemptions/{redemption_id}/void",
    summary="Void an authorisation: the whole amount goes back to the voucher",
    responses=WRITE,
)
async def void_redemption(
    redemption: WritableRedemption,
    principal: RedemptionWriter,
    session: SessionDep,
    keyring: KeyRingDep,
) -> RedemptionPublic:
    return _public(await transitions.void(session, keyring, redemption.id, actor=principal))


@router.post(
    "/redemptions/{redemption_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Refund part or all of a captured redemption to the voucher",
    responses=WRITE,
)
async def refund_redemption(
    redemption: WritableRedemption,
    body: RefundCreate,
    principal: RedemptionWriter,
    session: SessionDep,
    keyring: KeyRingDep,
) -> RefundResult:
    made, answer = await transitions.refund(
        session, keyring, redemption.id, body.amount, body.reason, actor=principal
    )
    return RefundResult(refund=RefundPublic.of(made), redemption=_public(answer))


@router.get(
    "/redemptions",
    summary="This provider's redemptions, newest first",
    responses=problem_responses(400, 401, 403, 422, 429),
)
async def list_redemptions(
    principal: RedemptionReader,
    session: SessionDep,
    page: PageParamsDep,
    order_id: Annotated[str | None, Query(max_length=200)] = None,
    redemption_status: Annotated[
        str | None, Query(alias="status", pattern="^(authorized|captured|voided|expired)$")
    ] = None,
) -> Page[RedemptionSummary]:
    query = select(Redemption).where(col(Redemption.provider_id) == principal.organisation_id)
    if order_id is not None:
        query = query.where(col(Redemption.order_id) == order_id)
    if redemption_status is not None:
        query = query.where(col(Redemption.status) == redemption_status)
    rows, cursor = await paginate(session, query, Redemption.id, page)  # type: ignore[arg-type]
    return Page[RedemptionSummary](
        items=[RedemptionSummary.of(row) for row in rows], next_cursor=cursor
    )


@router.get(
    "/redemptions/{redemption_id}",
    summary="One of this provider's redemptions, with its refunds and a fresh receipt",
    responses=problem_responses(401, 403, 404, 429),
)
async def get_redemption(
    redemption: ReadableRedemption, session: SessionDep, keyring: KeyRingDep
) -> RedemptionPublic:
    return _public(await transitions.answer(session, keyring, redemption))


holder_router = APIRouter(prefix="/v1/vouchers", tags=["vouchers"], route_class=IdempotentRoute)


@holder_router.get(
    "/{voucher_id}/redemptions",
    summary="The voucher's redemptions: provider, order, bill, covered, own share, usage",
    responses=problem_responses(400, 401, 403, 404, 422, 429),
)
async def list_voucher_redemptions(
    voucher: HeldVoucher, session: SessionDep, page: PageParamsDep
) -> Page[HolderRedemptionPublic]:
    query = select(Redemption).where(col(Redemption.voucher_id) == voucher.id)
    rows, cursor = await paginate(session, query, Redemption.id, page)  # type: ignore[arg-type]
    provider_ids = {row.provider_id for row in rows}
    names = dict(
        (
            await session.execute(
                select(Organisation.id, Organisation.name).where(
                    col(Organisation.id).in_(provider_ids)
                )
            )
        ).all()
    )
    items = [HolderRedemptionPublic.of(row, names.get(row.provider_id, "")) for row in rows]
    return Page[HolderRedemptionPublic](items=items, next_cursor=cursor)
