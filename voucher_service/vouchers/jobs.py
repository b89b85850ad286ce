"""Voucher jobs. ``vouchers.expire``: vouchers past their validity (database clock) expire, never
early. ``vouchers.return_late_value``: see :mod:`.late_value`.

Each voucher expires in a short unit of work of its own (lock, state, remainder swept back to the
programme, audit, ``voucher.expired`` to its providers), retried on deadlocks by
``ledger.run_transaction``; a bounded number per run.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import ledger
from voucher_service.db import Database
from voucher_service.vouchers import late_value, lifecycle
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.vouchers")

BATCH = 200
MAX_BATCHES_PER_RUN = 10


async def expire_due(database: Database, *, batch: int = BATCH) -> int:
    """Expire up to ``batch`` due vouchers; returns how many expired."""
    async with database.unit_of_work(readonly=True) as session:
        due = await lifecycle.due_for_expiry(session, limit=batch)
    expired = 0
    for voucher_id in due:
        if await _expire_one(database, voucher_id) is not None:
            expired += 1
    return expired


async def _expire_one(database: Database, voucher_id: uuid.UUID) -> int | None:
    return await ledger.run_transaction(
        database.unit_of_work, lambda session: lifecycle.expire_if_due(session, voucher_id)
    )


@job("vouchers.expire", every=timedelta(seconds=60), exclusive=True)
async def expire_vouchers(context: JobContext) -> None:
    """Expire vouchers past ``valid_until`` and return their remainders to the programmes."""
    for _ in range(MAX_BATCHES_PER_RUN):
        expired = await expire_due(context.database)
        if expired:
            logger.info("expired vouchers", extra={"count": expired})
        if expired < BATCH:
            return


async def return_late(database: Database, *, batch: int = BATCH) -> int:
    """Return value that came back to revoked or expired vouchers; returns how many moved."""
    async with database.unit_of_work(readonly=True) as session:
        found = await late_value.candidates(session, limit=batch)
    moved = 0
    for voucher_id in found:
        if await _return_one(database, voucher_id) > 0:
            moved += 1
    return moved


async def _return_one(database: Database, voucher_id: uuid.UUID) -> int:
    return await ledger.run_transaction(
        database.unit_of_work, lambda session: late_value.return_late_value(session, voucher_id)
    )


@job("vouchers.return_late_value", every=timedelta(minutes=5), exclusive=True)
async def return_late_value(context: JobContext) -> None:
    """Sweep value released onto revoked or expired vouchers back to their programmes."""
    moved = await return_late(context.database)
    if moved:
        logger.info("returned late voucher value", extra={"count": moved})
