"""Group commit: requests that pile up share one transaction; failures stay with their item."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import GroupCommitter, Transfer
from tests.ledger.factories import available, commit, create_programme, new_client_id
from tests.ledger.fakes import FakeUnitOfWork, db_error
from voucher_service.db import Database


async def test_holds_that_pile_up_share_commits(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 1_000)])
    )
    committer = GroupCommitter(db.unit_of_work, max_batch=16)

    async def redeem(amount: int) -> ledger.Outcome:
        held = Transfer(p.voucher, p.provider, amount)
        return await committer.submit(
            lambda s: ledger.hold(s, new_client_id(), held, timeout=timedelta(hours=1))
        )

    outcomes = await asyncio.gather(*(redeem(30) for _ in range(40)))
    assert sum(outcome.ok for outcome in outcomes) == 33  # 1,000 covers 33 holds of 30
    assert all(isinstance(o.refusal, ledger.InsufficientBalance) for o in outcomes if not o.ok)
    assert committer.items == 40 and committer.batches < 40
    assert await available(db, p.voucher) == 10
    # A lone request afterwards runs at once, in a batch of its own.
    assert (await redeem(10)).ok
    assert committer.batches >= 2


async def test_a_failing_item_fails_alone(db: Database) -> None:
    p = await create_programme(db)
    committer = GroupCommitter(db.unit_of_work)
    taken = new_client_id()
    await commit(db, lambda s: ledger.transfer(s, taken, [Transfer(p.treasury, p.available, 1)]))

    def fund(client_id: str, amount: int) -> Any:
        return committer.submit(
            lambda s: ledger.transfer(s, client_id, [Transfer(p.treasury, p.available, amount)])
        )

    async def broken(_: AsyncSession) -> None:
        raise ValueError("a bug in one request")

    results = await asyncio.gather(
        fund(new_client_id(), 10),
        fund(taken, 99),  # reuses a client id for other content
        committer.submit(broken),
        fund(new_client_id(), 20),
        return_exceptions=True,
    )
    assert isinstance(results[1], ledger.IdempotencyConflict)
    assert isinstance(results[2], ValueError)
    assert results[0].ok and results[3].ok  # type: ignore[union-attr]
    assert await available(db, p.available) == 31


async def test_a_retryable_failure_reruns_the_batch() -> None:
    unit = FakeUnitOfWork()
    committer = GroupCommitter(unit)
    calls = {"flaky": 0, "steady": 0}

    async def flaky(_: Any) -> str:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise db_error(sqlstate="40P01")
        return "flaky"

    async def steady(_: Any) -> str:
        calls["steady"] += 1
        return "steady"

    results = await asyncio.gather(committer.submit(steady), committer.submit(flaky))
    assert results == ["steady", "flaky"]
    assert calls == {"flaky": 2, "steady": 2}
    assert unit.committed == 1


async def test_a_failed_commit_is_sorted_out_item_by_item() -> None:
    unit = FakeUnitOfWork()
    unit.fail_commits = [db_error("deferred constraint violated")]
    committer = GroupCommitter(unit)

    async def work(_: Any) -> int:
        return 1

    assert await asyncio.gather(*(committer.submit(work) for _ in range(3))) == [1, 1, 1]
    assert unit.committed == 3  # the batch failed, then each item committed alone


async def test_exhausted_retries_fall_back_to_single_items() -> None:
    unit = FakeUnitOfWork()
    unit.fail_commits = [db_error(sqlstate="40001") for _ in range(3)]
    committer = GroupCommitter(unit, attempts=2)

    async def work(_: Any) -> str:
        return "ok"

    results = await asyncio.gather(
        committer.submit(work), committer.submit(work), return_exceptions=True
    )
    # Two batch attempts failed, then the first item alone failed once more and succeeded.
    assert results == ["ok", "ok"]

    async def always_fails(_: Any) -> None:
        raise db_error(sqlstate="40001")

    with pytest.raises(DBAPIError):
        await committer.submit(always_fails)


async def test_a_submitter_that_gives_up_does_not_break_the_batch() -> None:
    unit = FakeUnitOfWork()
    committer = GroupCommitter(unit)
    release = asyncio.Event()

    async def slow(_: Any) -> str:
        await release.wait()
        return "slow"

    waiting = asyncio.ensure_future(committer.submit(slow))
    follower = asyncio.ensure_future(committer.submit(slow))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    assert await follower == "slow"
    assert waiting.cancelled()
    assert unit.committed == 1


async def test_a_cancelled_batch_reaches_every_submitter() -> None:
    committer = GroupCommitter(FakeUnitOfWork())

    async def cancelled(_: Any) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await committer.submit(cancelled)


def test_settings_are_checked() -> None:
    for bad in ({"max_batch": 0}, {"concurrency": 0}, {"attempts": 0}):
        with pytest.raises(ValueError, match="at least 1"):
            GroupCommitter(FakeUnitOfWork(), **bad)


async def test_a_batch_of_failures_ends_and_the_committer_goes_on() -> None:
    unit = FakeUnitOfWork()
    committer = GroupCommitter(unit)

    async def broken(_: Any) -> None:
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        await committer.submit(broken)
    unit.fail_opens = [ConnectionRefusedError("database down")]

    async def work(_: Any) -> str:
        return "ok"

    with pytest.raises(ConnectionRefusedError):
        await committer.submit(work)
    assert await committer.submit(work) == "ok"
