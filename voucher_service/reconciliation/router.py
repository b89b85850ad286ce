"""Reconciliation routes: a provider uploads its statement (or the authority does for it); both
sides read the stored report, its differences and bad lines, and export them."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

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
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import EXPORT_CONTENT, ExportOptionsDep, export_response
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import InvalidCursor, Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.reconciliation import service
from voucher_service.reconciliation.errors import ReconciliationNotFound
from voucher_service.reconciliation.models import (
    Reconciliation,
    ReconciliationDifference,
    ReconciliationError,
)
from voucher_service.reconciliation.schemas import (
    DIFFERENCE_COLUMNS,
    DifferencePage,
    DifferencePublic,
    LineErrorPage,
    LineErrorPublic,
    ReconciliationPublic,
)
from voucher_service.reconciliation.uploads import spooled_upload
from voucher_service.users.models import Role

provider = APIRouter(
    prefix="/v1/provider", tags=["provider reconciliation"], route_class=IdempotentRoute
)
admin = APIRouter(
    prefix="/v1/admin/reconciliations", tags=["reconciliation"], route_class=IdempotentRoute
)

Uploader = Annotated[Principal, provider_operator_or_scopes("settlements:write")]
PayeeReader = Annotated[Principal, provider_operator_or_scopes("settlements:read")]
AdminUploader = Annotated[Principal, requires_roles(Role.finance, Role.program_admin)]
AdminReader = Annotated[
    Principal, requires_roles(Role.finance, Role.program_admin, Role.auditor, Role.sysadmin)
]
UPLOAD = problem_responses(401, 403, 404, 413, 422)
ON_ONE = problem_responses(400, 401, 403, 404)
STATEMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/jsonl": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        }
    }
}


def statement_limits(max_bytes: int) -> list[tuple[str, int]]:
    """(path pattern, body limit) of the statement uploads (for BodySizeLimitMiddleware)."""
    return [(r"/v1/provider/statements", max_bytes), (r"/v1/admin/reconciliations", max_bytes)]


async def _upload(
    request: Request,
    session: SessionDep,
    principal: Principal,
    provider_id: uuid.UUID,
    period: tuple[date, date],
) -> ReconciliationPublic:
    async with spooled_upload(request) as path:
        report = await service.reconcile(session, path, provider_id, period, principal.id)
    await audit.record(
        session,
        action="reconciliation.completed",
        actor=principal,
        target=("reconciliation", report.id),
        after={"status": report.status, "lines": report.line_count, "errors": report.error_count},
    )
    return ReconciliationPublic.model_validate(report)


@provider.post(
    "/statements",
    status_code=201,
    summary="Upload this provider's statement (CSV or JSON lines) and reconcile it",
    responses=UPLOAD,
    openapi_extra=STATEMENT_BODY,
)
async def upload_own(
    request: Request,
    principal: Uploader,
    session: SessionDep,
    period_start_on: date,
    period_end_on: date,
) -> ReconciliationPublic:
    period = (period_start_on, period_end_on)
    return await _upload(request, session, principal, principal.organisation_id, period)


@admin.post(
    "",
    status_code=201,
    summary="Upload a provider's statement for it and reconcile it",
    responses=UPLOAD,
    openapi_extra=STATEMENT_BODY,
)
async def upload_for(
    request: Request,
    principal: AdminUploader,
    session: SessionDep,
    provider_id: uuid.UUID,
    period_start_on: date,
    period_end_on: date,
) -> ReconciliationPublic:
    found = await session.get(Organisation, provider_id)
    if found is None or found.kind != OrganisationKind.provider:
        raise ReconciliationNotFound("No such provider.", detail_zh="服务商不存在。")
    period = (period_start_on, period_end_on)
    return await _upload(request, session, principal, provider_id, period)


async def _any(session: SessionDep, reconciliation_id: uuid.UUID) -> Reconciliation:
    return await service.get(session, reconciliation_id)


async def _own(
    request: Request, principal: PayeeReader, session: SessionDep, reconciliation_id: uuid.UUID
) -> Reconciliation:
    try:
        return await service.get(session, reconciliation_id, principal.organisation_id)
    except ReconciliationNotFound:
        target = ("reconciliation", reconciliation_id)
        raise await refuse_not_found(request, principal, target) from None


AnyReport = Annotated[Reconciliation, Depends(_any)]
OwnReport = Annotated[Reconciliation, Depends(_own)]


async def _list(
    session: SessionDep, page: PageParamsDep, provider_id: uuid.UUID | None
) -> Page[ReconciliationPublic]:
    query = select(Reconciliation)
    if provider_id is not None:
        query = query.where(col(Reconciliation.provider_id) == provider_id)
    rows, cursor = await paginate(session, query, Reconciliation.id, page)  # type: ignore[arg-type]
    items = [ReconciliationPublic.model_validate(row) for row in rows]
    return Page[ReconciliationPublic](items=items, next_cursor=cursor)


def _text_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this service returned.") from exc


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=400)]


async def _differences(
    session: SessionDep, report: Reconciliation, limit: int, cursor: str | None
) -> DifferencePage:
    query = select(ReconciliationDifference).where(
        col(ReconciliationDifference.reconciliation_id) == report.id
    )
    after = _text_cursor(cursor)
    if after is not None:
        query = query.where(col(ReconciliationDifference.order_id) > after)
    order = col(ReconciliationDifference.order_id)
    rows = (await session.scalars(query.order_by(order).limit(limit + 1))).all()
    items = [DifferencePublic.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return DifferencePage(items=items, next_cursor=_encode(items[-1].order_id) if more else None)


async def _errors(
    session: SessionDep, report: Reconciliation, limit: int, cursor: str | None
) -> LineErrorPage:
    query = select(ReconciliationError).where(
        col(ReconciliationError.reconciliation_id) == report.id
    )
    after = _text_cursor(cursor)
    if after is not None:
        if not after.isdigit():
            raise InvalidCursor("The cursor is not one this service returned.")
        query = query.where(col(ReconciliationError.line_no) > int(after))
    order = col(ReconciliationError.line_no)
    rows = (await session.scalars(query.order_by(order).limit(limit + 1))).all()
    items = [LineErrorPublic.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return LineErrorPage(items=items, next_cursor=_encode(str(items[-1].line_no)) if more else None)


async def difference_rows(
    database: Database, reconciliation_id: uuid.UUID
) -> AsyncIterator[ReconciliationDifference]:
    """Every difference by order id, a batch per short read-only unit of work."""
    after: str | None = None
    while True:
        query = select(ReconciliationDifference).where(
            col(ReconciliationDifference.reconciliation_id) == reconciliation_id
        )
        if after is not None:
            query = query.where(col(ReconciliationDifference.order_id) > after)
        order = col(ReconciliationDifference.order_id)
        async with database.unit_of_work(readonly=True) as session:
            batch = (await session.scalars(query.order_by(order).limit(2000))).all()
        for row in batch:
            yield row
        if len(batch) < 2000:
            return
        after = batch[-1].order_id


def _export(database: Database, report: Reconciliation, options: Any) -> StreamingResponse:
    rows = difference_rows(database, report.id)
    name = f"reconciliation-{report.id}"
    return export_response(DIFFERENCE_COLUMNS, rows, options=options, filename=name)


EXPORT = {**ON_ONE, **EXPORT_CONTENT}


@provider.get("/reconciliations", summary="This provider's reconciliations", responses=ON_ONE)
async def own_list(
    principal: PayeeReader, session: SessionDep, page: PageParamsDep
) -> Page[ReconciliationPublic]:
    return await _list(session, page, principal.organisation_id)


@provider.get("/reconciliations/{reconciliation_id}", summary="One report", responses=ON_ONE)
async def own_get(report: OwnReport) -> ReconciliationPublic:
    return ReconciliationPublic.model_validate(report)


@provider.get("/reconciliations/{reconciliation_id}/differences", responses=ON_ONE)
async def own_differences(
    session: SessionDep, report: OwnReport, limit: Limit = 100, cursor: Cursor = None
) -> DifferencePage:
    """The report's differences by order id."""
    return await _differences(session, report, limit, cursor)


@provider.get("/reconciliations/{reconciliation_id}/errors", responses=ON_ONE)
async def own_errors(
    session: SessionDep, report: OwnReport, limit: Limit = 100, cursor: Cursor = None
) -> LineErrorPage:
    """The bad lines of a rejected statement, by line number."""
    return await _errors(session, report, limit, cursor)


@provider.get(
    "/reconciliations/{reconciliation_id}/export",
    response_class=StreamingResponse,
    responses=EXPORT,
)
async def own_export(
    database: DatabaseDep, report: OwnReport, options: ExportOptionsDep
) -> StreamingResponse:
    """The differences as CSV or XLSX."""
    return _export(database, report, options)


@admin.get("", summary="Reconciliations", responses=ON_ONE)
async def admin_list(
    _principal: AdminReader,
    session: SessionDep,
    page: PageParamsDep,
    provider_id: uuid.UUID | None = None,
) -> Page[ReconciliationPublic]:
    return await _list(session, page, provider_id)


@admin.get("/{reconciliation_id}", summary="One report", responses=ON_ONE)
async def admin_get(_principal: AdminReader, report: AnyReport) -> ReconciliationPublic:
    return ReconciliationPublic.model_validate(report)


@admin.get("/{reconciliation_id}/differences", responses=ON_ONE)
async def admin_differences(
    _principal: AdminReader,
    session: SessionDep,
    report: AnyReport,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> DifferencePage:
    """The report's differences by order id."""
    return await _differences(session, report, limit, cursor)


@admin.get("/{reconciliation_id}/errors", responses=ON_ONE)
async def admin_errors(
    _principal: AdminReader,
    session: SessionDep,
    report: AnyReport,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> LineErrorPage:
    """The bad lines of a rejected statement, by line number."""
    return await _errors(session, report, limit, cursor)


@admin.get("/{reconciliation_id}/export", response_class=StreamingResponse, responses=EXPORT)
async def admin_export(
    _principal: AdminReader, database: DatabaseDep, report: AnyReport, options: ExportOptionsDep
) -> StreamingResponse:
    """The differences as CSV or XLSX."""
    return _export(database, report, options)
