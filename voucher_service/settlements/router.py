"""Settlement routes: the authority generates, approves and pays; the payee confirms/disputes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from voucher_service.audit import service as audit
from voucher_service.auth.dependencies import (
    provider_operator_or_scopes,
    refuse_not_found,
    requires_roles,
)
from voucher_service.auth.principal import Principal
from voucher_service.db import Database
from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.exports import EXPORT_CONTENT, ExportOptionsDep, export_response
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.programs.errors import ProgramNotFound
from voucher_service.programs.models import Program
from voucher_service.settlements import hooks as _paid_hook  # noqa: F401 (registers it)
from voucher_service.settlements import origins, service
from voucher_service.settlements.errors import SettlementNotFound
from voucher_service.settlements.models import Settlement, SettlementItem, SettlementStatus
from voucher_service.settlements.schemas import (
    ITEM_COLUMNS,
    SettlementAdmin,
    SettlementCancel,
    SettlementDispute,
    SettlementGenerate,
    SettlementItemPublic,
    SettlementPay,
    SettlementPublic,
    SettlementResolve,
)
from voucher_service.users.models import Role

admin = APIRouter(prefix="/v1/admin/settlements", tags=["settlements"], route_class=IdempotentRoute)
provider = APIRouter(
    prefix="/v1/provider/settlements", tags=["provider settlements"], route_class=IdempotentRoute
)

Generator = Annotated[Principal, requires_roles(Role.finance, Role.program_admin)]
Finance = Annotated[Principal, requires_roles(Role.finance, approves_money=True)]
Reader = Annotated[
    Principal, requires_roles(Role.finance, Role.program_admin, Role.auditor, Role.sysadmin)
]
PayeeReader = Annotated[Principal, provider_operator_or_scopes("settlements:read")]
PayeeWriter = Annotated[Principal, provider_operator_or_scopes("settlements:write")]
ON_ONE = problem_responses(401, 403, 404)
CHANGE = problem_responses(401, 403, 404, 409, 422)


async def _settlement(session: SessionDep, settlement_id: uuid.UUID) -> Settlement:
    return await service.get(session, settlement_id)


async def payee_settlement(
    request: Request, principal: Principal, session: SessionDep, settlement_id: uuid.UUID
) -> Settlement:
    """A settlement issued to the caller's organisation; another's (or a draft) is not found."""
    try:
        return await service.get_for_payee(session, settlement_id, principal.organisation_id)
    except SettlementNotFound:
        raise await refuse_not_found(request, principal, ("settlement", settlement_id)) from None


async def _own_settlement(
    request: Request, principal: PayeeReader, session: SessionDep, settlement_id: uuid.UUID
) -> Settlement:
    return await payee_settlement(request, principal, session, settlement_id)


AnySettlement = Annotated[Settlement, Depends(_settlement)]
OwnSettlement = Annotated[Settlement, Depends(_own_settlement)]


async def _audit(
    session: SessionDep,
    action: str,
    actor: Principal,
    s: Settlement,
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    after = {"status": s.status, "net_amount": s.net_amount}
    await audit.record(
        session,
        action=action,
        actor=actor,
        target=("settlement", s.id),
        before=before,
        after=after,
        reason=reason,
    )


@admin.post("", status_code=201, summary="Generate draft settlements", responses=CHANGE)
async def generate(
    principal: Generator, session: SessionDep, body: SettlementGenerate
) -> list[SettlementAdmin]:
    program = await session.get(Program, body.program_id)
    if program is None:
        raise ProgramNotFound()
    period = (body.period_start_on, body.period_end_on)
    created = await service.generate(
        session, program, period, payee_id=body.payee_id, actor=principal.id
    )
    for settlement in created:
        await _audit(session, "settlement.generated", principal, settlement)
    return [SettlementAdmin.model_validate(s) for s in created]


@admin.get("", summary="Settlements, newest first", responses=problem_responses(401, 403))
async def list_settlements(
    _principal: Reader,
    session: SessionDep,
    page: PageParamsDep,
    program_id: uuid.UUID | None = None,
    payee_id: uuid.UUID | None = None,
    status: Annotated[
        str | None, Query(pattern="^(draft|approved|paid|disputed|cancelled)$")
    ] = None,
) -> Page[SettlementAdmin]:
    query = select(Settlement)
    for column, value in (
        (Settlement.program_id, program_id),
        (Settlement.payee_id, payee_id),
        (Settlement.status, status),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    rows, cursor = await paginate(session, query, Settlement.id, page)  # type: ignore[arg-type]
    return Page[SettlementAdmin](
        items=[SettlementAdmin.model_validate(r) for r in rows], next_cursor=cursor
    )


@admin.get("/{settlement_id}", summary="One settlement", responses=ON_ONE)
async def get_settlement(_principal: Reader, settlement: AnySettlement) -> SettlementAdmin:
    return SettlementAdmin.model_validate(settlement)


async def items_page(
    session: SessionDep, settlement: Settlement, page: PageParamsDep
) -> Page[SettlementItemPublic]:
    items, cursor = await origins.item_page(session, settlement.id, page)
    return Page[SettlementItemPublic](items=items, next_cursor=cursor)


@admin.get("/{settlement_id}/items", summary="A settlement's items", responses=ON_ONE)
async def admin_items(
    _principal: Reader, session: SessionDep, settlement: AnySettlement, page: PageParamsDep
) -> Page[SettlementItemPublic]:
    return await items_page(session, settlement, page)


#: What an export reads of an item (plain rows: no ORM object or model per item).
_ITEM_COLUMNS = (
    col(SettlementItem.source_id),
    col(SettlementItem.source_kind),
    col(SettlementItem.kind),
    col(SettlementItem.amount),
)


async def item_rows(database: Database, settlement_id: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    """The settlement's items with their origins in batches, each batch in a short read-only
    unit of work."""
    after: uuid.UUID | None = None
    while True:
        query = sa.select(*_ITEM_COLUMNS).where(col(SettlementItem.settlement_id) == settlement_id)
        if after is not None:
            query = query.where(col(SettlementItem.source_id) > after)
        async with database.unit_of_work(readonly=True) as session:
            batch = (
                await session.execute(query.order_by(col(SettlementItem.source_id)).limit(2000))
            ).all()
            found = await origins.origins_of(session, [row.source_id for row in batch])
        for row in batch:
            yield {**row._asdict(), **vars(found.get(row.source_id, origins.NONE))}
        if len(batch) < 2000:
            return
        after = batch[-1].source_id


@admin.get(
    "/{settlement_id}/export",
    summary="A settlement's items as CSV or XLSX",
    response_class=StreamingResponse,
    responses={**ON_ONE, **EXPORT_CONTENT},
)
async def admin_export(
    _principal: Reader, database: DatabaseDep, settlement: AnySettlement, options: ExportOptionsDep
) -> StreamingResponse:
    rows = item_rows(database, settlement.id)
    name = f"settlement-{settlement.id}"
    return export_response(ITEM_COLUMNS, rows, options=options, filename=name)


@admin.post("/{settlement_id}/approve", summary="Approve a draft (finance)", responses=CHANGE)
async def approve(
    principal: Finance, session: SessionDep, settlement: AnySettlement, settings: SettingsDep
) -> SettlementAdmin:
    await service.approve(
        session,
        settlement,
        principal,
        four_eyes_amount=settings.settlement_four_eyes_amount,
        response_days=settings.settlement_response_days,
    )
    action = (
        "settlement.approved" if settlement.status == "approved" else "settlement.first_approval"
    )
    await _audit(session, action, principal, settlement)
    return SettlementAdmin.model_validate(settlement)


@admin.post(
    "/{settlement_id}/cancel",
    summary="Cancel a draft (finance): its items are released to the next generation",
    responses=CHANGE,
)
async def cancel(
    principal: Finance, session: SessionDep, settlement: AnySettlement, body: SettlementCancel
) -> SettlementAdmin:
    """Only a `draft` (409 `settlement_state_conflict` otherwise): it becomes `cancelled` and
    keeps its figures; its items are released, so generating the period again takes them. The
    comment is kept with it (`resolution_comment`) and audited; the payee never saw the draft."""
    await service.cancel_draft(session, settlement, principal, body.comment)
    before = {"status": SettlementStatus.draft}
    await _audit(
        session, "settlement.cancelled", principal, settlement, before=before, reason=body.comment
    )
    return SettlementAdmin.model_validate(settlement)


@admin.post(
    "/{settlement_id}/resolve",
    summary="Resolve a dispute (finance): uphold it, or cancel it and release its items",
    responses=CHANGE,
)
async def resolve(
    principal: Finance, session: SessionDep, settlement: AnySettlement, body: SettlementResolve
) -> SettlementAdmin:
    """Only a `disputed` settlement (409 `settlement_state_conflict` otherwise), once.

    * `uphold`: the settlement stands; it is `approved` again and may be paid at once (the
      payee was heard and may not dispute it again).
    * `cancel`: it becomes `cancelled` and keeps its figures, but its items are released:
      generating the period again (after any correction, such as a refund) takes them.

    The comment is kept with the settlement, shown to the payee and audited; a provider payee is
    sent `settlement.resolved`.
    """
    disputed = {"status": settlement.status, "dispute_reason": settlement.dispute_reason}
    await service.resolve(session, settlement, principal, body.resolution, body.comment)
    action = "settlement.upheld" if settlement.status == "approved" else "settlement.cancelled"
    await _audit(session, action, principal, settlement, before=disputed, reason=body.comment)
    return SettlementAdmin.model_validate(settlement)


@admin.post("/{settlement_id}/pay", summary="Record the payment (finance)", responses=CHANGE)
async def pay(
    principal: Finance, session: SessionDep, settlement: AnySettlement, body: SettlementPay
) -> SettlementAdmin:
    await service.pay(session, settlement, principal, body.bank_reference)
    await _audit(session, "settlement.paid", principal, settlement)
    return SettlementAdmin.model_validate(settlement)


@provider.get("", summary="This payee's settlements", responses=problem_responses(401, 403))
async def provider_list(
    principal: PayeeReader, session: SessionDep, page: PageParamsDep
) -> Page[SettlementPublic]:
    return await payee_page(session, principal, page)


async def payee_page(
    session: SessionDep, principal: Principal, page: PageParamsDep
) -> Page[SettlementPublic]:
    """The settlements issued to the caller's organisation (drafts are finance's own)."""
    query = select(Settlement).where(
        col(Settlement.payee_id) == principal.organisation_id,
        col(Settlement.status) != "draft",
    )
    rows, cursor = await paginate(session, query, Settlement.id, page)  # type: ignore[arg-type]
    return Page[SettlementPublic](
        items=[SettlementPublic.model_validate(r) for r in rows], next_cursor=cursor
    )


@provider.get("/{settlement_id}", summary="One of this payee's settlements", responses=ON_ONE)
async def provider_get(settlement: OwnSettlement) -> SettlementPublic:
    return SettlementPublic.model_validate(settlement)


@provider.get("/{settlement_id}/items", summary="Its items", responses=ON_ONE)
async def provider_items(
    session: SessionDep, settlement: OwnSettlement, page: PageParamsDep
) -> Page[SettlementItemPublic]:
    return await items_page(session, settlement, page)


@provider.post("/{settlement_id}/confirm", summary="Confirm the settlement", responses=CHANGE)
async def confirm(
    principal: PayeeWriter, session: SessionDep, settlement: OwnSettlement
) -> SettlementPublic:
    await service.respond(session, settlement, confirm=True)
    await _audit(session, "settlement.confirmed", principal, settlement)
    return SettlementPublic.model_validate(settlement)


@provider.post("/{settlement_id}/dispute", summary="Dispute the settlement", responses=CHANGE)
async def dispute(
    principal: PayeeWriter, session: SessionDep, settlement: OwnSettlement, body: SettlementDispute
) -> SettlementPublic:
    await service.respond(session, settlement, confirm=False, reason=body.reason)
    await _audit(session, "settlement.disputed", principal, settlement)
    return SettlementPublic.model_validate(settlement)
