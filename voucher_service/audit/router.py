"""``/v1/admin/audit-events``: list, CSV export and chain verification (auditors, sysadmins)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from voucher_service.audit import chain, export, repository
from voucher_service.audit import service as audit
from voucher_service.audit.models import AuditEvent
from voucher_service.audit.repository import AuditFiltersDep
from voucher_service.audit.schemas import AuditEventPublic, ChainReportPublic
from voucher_service.auth.dependencies import AuditReader
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import EXPORT_CONTENT, ExportOptionsDep, export_response
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses

router = APIRouter(prefix="/v1/admin/audit-events", tags=["audit"])
AUTH = problem_responses(400, 401, 403, 422)


@router.get("", summary="Audit events, newest first, with filters", responses=AUTH)
async def list_events(
    _principal: AuditReader, session: SessionDep, filters: AuditFiltersDep, page: PageParamsDep
) -> Page[AuditEventPublic]:
    query = repository.list_query(filters)
    rows, cursor = await paginate(session, query, AuditEvent.id, page)  # type: ignore[arg-type]
    return Page[AuditEventPublic](
        items=[AuditEventPublic.of(row) for row in rows], next_cursor=cursor
    )


@router.get(
    "/export",
    summary="Export matching audit events as CSV or XLSX (oldest first)",
    response_class=StreamingResponse,
    responses={**AUTH, **EXPORT_CONTENT},
)
async def export_events(
    principal: AuditReader,
    database: DatabaseDep,
    filters: AuditFiltersDep,
    options: ExportOptionsDep,
) -> StreamingResponse:
    await export.record_export(database, principal, filters)
    rows = export.event_rows(database, filters)
    return export_response(export.COLUMNS, rows, options=options, filename=export.FILENAME)


@router.get(
    "/verify",
    summary="Verify every event's content hash and the hash chain",
    responses=problem_responses(401, 403),
)
async def verify(
    principal: AuditReader, database: DatabaseDep, session: SessionDep
) -> ChainReportPublic:
    report = await chain.verify_chain(session)
    await audit.record_separately(
        database,
        action="audit.verified",
        actor=principal,
        after=vars(report),
        outcome=audit.Outcome.success if report.ok else audit.Outcome.failure,
    )
    return ChainReportPublic(**vars(report))
