"""The expiry job: authorisations whose ledger hold timed out become ``expired``."""

from __future__ import annotations

import logging
from datetime import timedelta

from voucher_service.redemptions import transitions
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.redemptions")

BATCH = 200
MAX_BATCHES = 20


@job("redemptions.expire", every=timedelta(seconds=5), exclusive=False)
async def expire_authorisations(context: JobContext) -> None:
    """Expire due holds and mark their redemptions (shared: rows claimed with SKIP LOCKED)."""
    for _ in range(MAX_BATCHES):
        async with context.database.unit_of_work() as session:
            changed = await transitions.expire_due(session, limit=BATCH)
        if changed:
            logger.info("redemptions expired", extra={"count": changed})
        if changed < BATCH:
            return
