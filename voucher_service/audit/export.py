"""Export of the audit trail, streamed in batches (the API route and the portal share it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlmodel import col

from voucher_service.audit import repository
from voucher_service.audit import service as audit
from voucher_service.audit.models import AuditEvent
from voucher_service.audit.repository import AuditFilters
from voucher_service.audit.service import Auditable
from voucher_service.db import Database
from voucher_service.exports import Column

EXPORT_BATCH = 1000
FILENAME = "audit-events"

# English headers are the API's field names, so a script can read either export.
COLUMNS = [
    Column("id", "事件编号", "id"),
    Column("created_at", "时间（北京时间）", "created_at"),
    Column("action", "操作", "action"),
    Column("outcome", "结果", "outcome"),
    Column("actor_type", "操作者类型", "actor_type"),
    Column("actor_id", "操作者编号", "actor_id"),
    Column("actor_label", "操作者", "actor_label"),
    Column("organisation_id", "机构编号", "organisation_id"),
    Column("role", "角色", "role"),
    Column("target_type", "对象类型", "target_type"),
    Column("target_id", "对象编号", "target_id"),
    Column("reason", "原因", "reason"),
    Column("request_id", "请求编号", "request_id"),
    Column("address", "地址", "address"),
    Column("content_hash", "内容哈希", "content_hash"),
    Column("chain_seq", "链序号", "chain_seq"),
    Column("chain_hash", "链哈希", "chain_hash"),
    Column("before_json", "变更前", "before"),
    Column("after_json", "变更后", "after"),
]


async def event_rows(database: Database, filters: AuditFilters) -> AsyncIterator[AuditEvent]:
    """The matching events, oldest first, one short read-only unit of work per batch."""
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
            yield event
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
