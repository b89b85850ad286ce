"""The ledger's worker jobs: hold expiry, hot-account folding, checkpoint sealing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

import ledger
import voucher_service.worker.jobs  # noqa: F401  (registers every job, as a worker does)
from ledger import Balance, Transfer
from tests.ledger.factories import balance_of, commit, create_programme, new_client_id
from voucher_service.accounting import jobs
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings
from voucher_service.worker.registry import JobContext, registered_jobs
from voucher_service.worker.runner import Worker


def _worker(database: Database, settings: Settings, keyring: KeyRing) -> Worker:
    names = {"ledger.expire_holds", "ledger.fold_hot_accounts", "ledger.seal_checkpoints"}
    ledger_jobs = [job for job in registered_jobs() if job.name in names]
    assert {job.name for job in ledger_jobs} == names
    return Worker(JobContext(database, settings, keyring, Worker.make_id()), ledger_jobs)


async def test_the_worker_expires_folds_and_seals(
    database: Database, settings: Settings, keyring: KeyRing
) -> None:
    p = await create_programme(database)
    await commit(
        database,
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 100)]),
    )
    short = await commit(
        database,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 30),
            timeout=timedelta(milliseconds=10),
        ),
    )
    await commit(
        database,
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.voucher, p.provider, 20)]),
    )
    await asyncio.sleep(0.05)
    worker = _worker(database, settings, keyring)

    assert await worker.run_once("ledger.expire_holds")
    async with database.unit_of_work(readonly=True) as session:
        assert (await ledger.hold_state(session, short.transaction.id)).status == "expired"
    assert await worker.run_once("ledger.fold_hot_accounts")
    assert await commit(database, lambda s: ledger.fold_hot_accounts(s)) == 0  # nothing left
    assert await balance_of(database, p.provider) == Balance(credits_posted=20)
    assert await worker.run_once("ledger.seal_checkpoints")
    async with database.unit_of_work(readonly=True) as session:
        report = await ledger.verify(session, keyring)
    assert report.ok and report.checkpoints == 1
    assert await commit(database, lambda s: ledger.seal_checkpoint(s, keyring)) is None


async def test_jobs_work_through_a_backlog_in_batches(
    database: Database, settings: Settings, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "SEAL_BATCH", 2)
    monkeypatch.setattr(jobs, "EXPIRY_BATCH", 2)
    p = await create_programme(database)
    await commit(
        database,
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 100)]),
    )
    for _ in range(4):
        await commit(
            database,
            lambda s: ledger.hold(
                s,
                new_client_id(),
                Transfer(p.voucher, p.provider, 1),
                timeout=timedelta(milliseconds=5),
            ),
        )
    await asyncio.sleep(0.05)
    context = JobContext(database, settings, keyring, "test")
    await jobs.expire_holds(context)
    assert (await balance_of(database, p.voucher)).debits_pending == 0
    await jobs.seal_checkpoints(context)
    async with database.unit_of_work(readonly=True) as session:
        report = await ledger.verify(session, keyring)
    assert report.ok and report.transactions == 9 and report.checkpoints == 5


async def test_one_run_does_a_bounded_amount_of_work(
    database: Database, settings: Settings, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "MAX_BATCHES_PER_RUN", 1)
    monkeypatch.setattr(jobs, "SEAL_BATCH", 1)
    monkeypatch.setattr(jobs, "EXPIRY_BATCH", 1)
    context = JobContext(database, settings, keyring, "test")
    await jobs.seal_checkpoints(context)  # nothing to seal yet
    p = await create_programme(database)
    await commit(
        database,
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 10)]),
    )
    for _ in range(2):
        await commit(
            database,
            lambda s: ledger.hold(
                s,
                new_client_id(),
                Transfer(p.voucher, p.provider, 1),
                timeout=timedelta(milliseconds=5),
            ),
        )
    await asyncio.sleep(0.05)
    await jobs.expire_holds(context)
    assert (await balance_of(database, p.voucher)).debits_pending == 1  # one left for next run
    await jobs.seal_checkpoints(context)
    async with database.unit_of_work(readonly=True) as session:
        assert (await ledger.verify(session, keyring)).checkpoints == 1
