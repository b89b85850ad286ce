"""Worker jobs of the audit trail: link new events into the chain, prune after retention."""

from __future__ import annotations

from datetime import timedelta

from ledger.sqltypes import utcnow
from voucher_service.audit import chain
from voucher_service.worker.registry import JobContext, job

LINK_INTERVAL = timedelta(seconds=5)
MAX_BATCHES_PER_RUN = 20


@job("audit.chain", every=LINK_INTERVAL, exclusive=True)
async def link_audit_chain(context: JobContext) -> None:
    """Link every event written since the last run (in batches, each its own transaction)."""
    for _ in range(MAX_BATCHES_PER_RUN):
        async with context.database.unit_of_work() as session:
            linked = await chain.link_pending(session)
        if linked < chain.BATCH:
            return


@job("audit.retention", every=timedelta(hours=6), exclusive=True)
async def prune_audit_events(context: JobContext) -> None:
    """Delete events older than the retention period, keeping the chain verifiable."""
    before = utcnow() - timedelta(days=context.settings.audit_retention_days)
    async with context.database.unit_of_work() as session:
        await chain.prune(session, before=before)
