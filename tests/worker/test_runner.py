from __future__ import annotations

import asyncio
from datetime import timedelta

from voucher_service.db import Database
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings
from voucher_service.worker.models import WorkerJob
from voucher_service.worker.registry import Job, JobContext
from voucher_service.worker.runner import Worker


def make_worker(database: Database, settings: Settings, *jobs: Job) -> Worker:
    keyring = KeyRing(settings.key_dir)
    return Worker(JobContext(database, settings, keyring, Worker.make_id()), jobs)


async def _row(database: Database, name: str) -> WorkerJob:
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WorkerJob, name)
        assert row is not None
        return row


async def test_due_job_runs_and_is_rescheduled(database: Database, settings: Settings) -> None:
    runs: list[str] = []

    async def record(context: JobContext) -> None:
        runs.append(context.worker_id)

    job = Job("record", record, interval=timedelta(hours=1))
    worker = make_worker(database, settings, job)
    assert await worker.run_once("record")
    row = await _row(database, "record")
    assert row.run_count == 1 and row.leased_until is None and row.last_error is None
    assert row.next_run_at - row.last_finished_at >= timedelta(minutes=59)  # type: ignore[operator]
    assert runs == [worker.context.worker_id]


async def test_exclusive_job_runs_in_one_worker_at_a_time(
    database: Database, settings: Settings
) -> None:
    running = 0
    most = 0

    async def slow(_: JobContext) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1

    job = Job("slow", slow, interval=timedelta(seconds=0))
    workers = [make_worker(database, settings, job) for _ in range(4)]
    results = await asyncio.gather(*(w.run_once("slow") for w in workers))
    assert most == 1
    assert results.count(True) >= 1


async def test_failing_job_records_its_error_and_retries_soon(
    database: Database, settings: Settings
) -> None:
    async def broken(_: JobContext) -> None:
        raise ValueError("nope")

    job = Job("broken", broken, interval=timedelta(hours=6))
    worker = make_worker(database, settings, job)
    assert await worker.run_once("broken")
    row = await _row(database, "broken")
    assert row.last_error == "ValueError: nope"
    assert row.next_run_at - row.last_finished_at <= timedelta(seconds=30)  # type: ignore[operator]


async def test_run_loop_runs_jobs_until_stopped(database: Database, settings: Settings) -> None:
    ran = asyncio.Event()

    async def tick(_: JobContext) -> None:
        ran.set()

    shared = Job("shared", tick, interval=timedelta(milliseconds=10), exclusive=False)
    worker = make_worker(database, settings, shared)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(ran.wait(), timeout=5)
    worker.stop()
    await asyncio.wait_for(task, timeout=5)
    assert (await _row(database, "shared")).run_count >= 1
