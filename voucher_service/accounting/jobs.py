"""The ledger's background work: expire due holds, fold hot-account deltas, seal checkpoints.

Each job runs its work in short units of work with retries (``ledger.run_transaction``), a
bounded number of batches per run, so one run never holds locks for long.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import ledger
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.accounting")

EXPIRY_BATCH = 500
FOLD_ACCOUNTS = 200
SEAL_BATCH = 5000
MAX_BATCHES_PER_RUN = 20


@job("ledger.expire_holds", every=timedelta(seconds=5), exclusive=False)
async def expire_holds(context: JobContext) -> None:
    """Release holds past their timeout (database clock); several workers may share it."""
    for _ in range(MAX_BATCHES_PER_RUN):
        expired = await ledger.run_transaction(
            context.database.unit_of_work,
            lambda session: ledger.expire_due_holds(session, limit=EXPIRY_BATCH),
        )
        if expired:
            logger.info("expired holds", extra={"count": expired})
        if expired < EXPIRY_BATCH:
            return


@job("ledger.fold_hot_accounts", every=timedelta(seconds=2), exclusive=True)
async def fold_hot_accounts(context: JobContext) -> None:
    """Fold hot-account credit deltas into their account rows."""
    await ledger.run_transaction(
        context.database.unit_of_work,
        lambda session: ledger.fold_hot_accounts(session, max_accounts=FOLD_ACCOUNTS),
    )


@job("ledger.seal_checkpoints", every=timedelta(seconds=10), exclusive=True)
async def seal_checkpoints(context: JobContext) -> None:
    """Seal newly committed transactions into signed, chained checkpoints."""
    for _ in range(MAX_BATCHES_PER_RUN):
        sealed = await ledger.run_transaction(
            context.database.unit_of_work,
            lambda session: ledger.seal_checkpoint(
                session, context.keyring, max_transactions=SEAL_BATCH
            ),
        )
        if sealed is None:
            return
        logger.info(
            "sealed ledger checkpoint",
            extra={"seq": sealed.seq, "transactions": sealed.transaction_count},
        )
        if sealed.transaction_count < SEAL_BATCH:
            return
