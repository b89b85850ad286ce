"""CSV export of the audit trail, streamed in batches (the API route and the portal share it)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from sqlmodel import col

from voucher_service.audit import repository
from voucher_service.audit import service as audit
from voucher_service.audit.models import AuditEvent
from voucher_service.audit.repository import AuditFilters
from voucher_service.audit.schemas import AuditEventPublic
from voucher_service.audit.service import Auditable
from voucher_service.db import Database

EXPORT_BATCH = 1000
CSV_COLUMNS = [name for name in AuditEventPublic.model_fields if name not in ("before", "after")]
FILENAME = "audit-events.csv"


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def csv_rows(database: Database, filters: AuditFilters) -> AsyncIterator[str]:
    """The matching events as CSV, oldest first, one short read-only unit of work per batch."""
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
            writer.writerow([safe_cell(v) for v in [*values, event.before_json, event.after_json]])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < EXPORT_BATCH:
            return
        after_id = events[-1].id


async def record_export(database: Database, actor: Auditable, filters: AuditFilters) -> None:
    """Audit the export itself (in a unit of work of its own: the export only reads)."""
    await audit.record_separately(
        database,
        action="audit.exported",
        actor=actor,
        after=vars(filters),
        outcome=audit.Outcome.success,
    )
