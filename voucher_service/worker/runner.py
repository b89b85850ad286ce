"""The worker loop: one asyncio task per registered job.

Exclusive jobs are claimed through their ``worker_job`` row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite the ``BEGIN IMMEDIATE`` of the unit of work serialises claims) and leased,
so a crashed worker's job is picked up again when the lease runs out. Shared jobs run in every
worker at their interval and claim their own rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from ledger.sqltypes import new_id, utcnow
from voucher_service.kit.sql import insert_ignoring_conflicts
from voucher_service.worker.models import WorkerJob
from voucher_service.worker.registry import Job, JobContext, registered_jobs

logger = logging.getLogger("voucher_service.worker")


class Worker:
    """Runs the registered jobs until stopped."""

    def __init__(self, context: JobContext, jobs: Sequence[Job] | None = None) -> None:
        self.context = context
        if jobs is None:
            import voucher_service.worker.jobs  # noqa: F401  (registers every job)

            jobs = registered_jobs()
        self.jobs = list(jobs)
        self._stop = asyncio.Event()

    @staticmethod
    def make_id() -> str:
        return f"{socket.gethostname()}:{os.getpid()}:{new_id().hex[-8:]}"

    async def run(self) -> None:
        """Run every job's loop until :meth:`stop` is called."""
        await self._ensure_rows()
        logger.info("worker started", extra={"jobs": [job.name for job in self.jobs]})
        await asyncio.gather(*(self._loop(job) for job in self.jobs))
        logger.info("worker stopped")

    def stop(self) -> None:
        self._stop.set()

    async def run_once(self, name: str) -> bool:
        """Run job ``name`` now if it can be claimed (for tests and the CLI); True if it ran."""
        job = next(j for j in self.jobs if j.name == name)
        await self._ensure_rows()
        return await self._run_if_due(job, force=True)

    async def _loop(self, job: Job) -> None:
        interval = job.interval.total_seconds()
        poll = (
            min(self.context.settings.worker_poll_seconds, interval) if job.exclusive else interval
        )
        while not self._stop.is_set():
            try:
                await self._run_if_due(job)
            except Exception:
                logger.exception("worker job bookkeeping failed", extra={"job": job.name})
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=poll)
            except TimeoutError:
                pass

    async def _ensure_rows(self) -> None:
        now = utcnow()
        rows = [{"name": job.name, "next_run_at": now, "run_count": 0} for job in self.jobs]
        if not rows:
            return
        async with self.context.database.unit_of_work() as session:
            await session.execute(insert_ignoring_conflicts(session, WorkerJob, rows))

    async def _claim(self, job: Job, *, force: bool) -> bool:
        now = utcnow()
        async with self.context.database.unit_of_work() as session:
            leased_until = col(WorkerJob.leased_until)
            query = select(WorkerJob).where(
                col(WorkerJob.name) == job.name,
                or_(leased_until.is_(None), leased_until < now),
            )
            if not force:
                query = query.where(col(WorkerJob.next_run_at) <= now)
            row = await session.scalar(query.with_for_update(skip_locked=True))
            if row is None:
                return False
            row.leased_until = now + job.lease
            row.leased_by = self.context.worker_id
            row.last_started_at = now
            return True

    async def _run_if_due(self, job: Job, *, force: bool = False) -> bool:
        if job.exclusive and not await self._claim(job, force=force):
            return False
        error: str | None = None
        try:
            await job.run(self.context)
        except Exception as exc:
            logger.exception("worker job failed", extra={"job": job.name})
            error = f"{type(exc).__name__}: {exc}"[:2000]
        await self._finish(job, error)
        return True

    async def _finish(self, job: Job, error: str | None) -> None:
        now = utcnow()
        next_run = now + (
            job.interval if error is None else min(job.interval, timedelta(seconds=30))
        )
        async with self.context.database.unit_of_work() as session:
            await session.execute(
                update(WorkerJob)
                .where(col(WorkerJob.name) == job.name)
                .values(
                    next_run_at=next_run,
                    leased_until=None,
                    leased_by=None,
                    last_finished_at=now,
                    last_error=error,
                    run_count=WorkerJob.run_count + 1,
                )
            )
