"""``/v1/admin/audit-events``: list, CSV export and chain verification (auditors, sysadmins)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from sqlmodel import col

from voucher_service.audit import chain, repository
from voucher_service.audit import service as audit
from voucher_service.audit.models import AuditEvent
from voucher_service.audit.repository import AuditFilters, AuditFiltersDep
from voucher_service.audit.schemas import AuditEventPublic, ChainReportPublic
from voucher_service.auth.dependencies import AuditReader
from voucher_service.db import Database
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses

router = APIRouter(prefix="/v1/admin/audit-events", tags=["audit"])
AUTH = problem_responses(400, 401, 403, 422)
EXPORT_BATCH = 1000
CSV_COLUMNS = [name for name in AuditEventPublic.model_fields if name not in ("before", "after")]


@router.get("", summary="Audit events, newest first, with filters", responses=AUTH)
async def list_events(
    _principal: AuditReader, session: SessionDep, filters: AuditFiltersDep, page: PageParamsDep
) -> Page[AuditEventPublic]:
    query = repository.list_query(filters)
    rows, cursor = await paginate(session, query, AuditEvent.id, page)  # type: ignore[arg-type]
    return Page[AuditEventPublic](
        items=[AuditEventPublic.of(row) for row in rows], next_cursor=cursor
    )


def _safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def _csv_rows(database: Database, filters: AuditFilters) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, "before", "after"])
    after_id = None
    while True:
        query = repository.list_query(filters)
        if after_id is not None:
            query = query.where(col(AuditEvent.id) > after_id)
        async with database.unit_of_work(readonly=True) as session:
            events = (
                await session.scalars(query.order_by(col(AuditEvent.id)).limit(EXPORT_BATCH))
            ).all()
        for event in events:
            public = AuditEventPublic.of(event)
            values = [getattr(public, name) for name in CSV_COLUMNS]
            writer.writerow([_safe_cell(v) for v in [*values, event.before_json, event.after_json]])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < EXPORT_BATCH:
            return
        after_id = events[-1].id


@router.get(
    "/export",
    summary="Export matching audit events as CSV (oldest first)",
    response_class=StreamingResponse,
    responses={**AUTH, 200: {"content": {"text/csv": {}}, "description": "CSV file"}},
)
async def export_events(
    principal: AuditReader, database: DatabaseDep, filters: AuditFiltersDep
) -> StreamingResponse:
    await audit.record_separately(
        database,
        action="audit.exported",
        actor=principal,
        after=vars(filters),
        outcome=audit.Outcome.success,
    )
    return StreamingResponse(
        _csv_rows(database, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )


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
