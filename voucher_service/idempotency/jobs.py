"""The purge job: idempotency records whose retention has ended are deleted in batches."""

from __future__ import annotations

import logging
from datetime import timedelta

from voucher_service.idempotency import service
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.idempotency")

PURGE_INTERVAL = timedelta(minutes=10)
BATCH = 1000
MAX_BATCHES = 100


@job("idempotency.purge", every=PURGE_INTERVAL)
async def purge_idempotency_records(context: JobContext) -> None:
    """Delete expired records, one short unit of work per batch."""
    total = 0
    for _ in range(MAX_BATCHES):
        async with context.database.unit_of_work() as session:
            deleted = await service.purge_expired(session, batch=BATCH)
        total += deleted
        if deleted < BATCH:
            break
    if total:
        logger.info("idempotency records purged", extra={"deleted": total})
