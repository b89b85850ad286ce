"""A job that does nothing but prove, through its ``worker_job`` row, that a worker is alive."""

from __future__ import annotations

from datetime import timedelta

from voucher_service.worker.registry import JobContext, job

HEARTBEAT_INTERVAL = timedelta(seconds=10)


@job("worker.heartbeat", every=HEARTBEAT_INTERVAL, exclusive=True)
async def heartbeat(_: JobContext) -> None:
    """Its bookkeeping (``last_finished_at``, ``run_count``) is the signal."""
