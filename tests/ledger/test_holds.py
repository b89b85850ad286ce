"""Holds: pending transfers resolved at most once, by capture, void or expiry (database clock)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import Balance, Transfer
from tests.ledger.factories import (
    Programme,
    balance_of,
    commit,
    create_programme,
    new_client_id,
)
from voucher_service.db import Database

FOREVER = timedelta(hours=1)


async def _funded(db: Database, amount: int = 1_000) -> Programme:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, amount)])
    )
    return p


async def _hold(db: Database, p: Programme, amount: int, timeout: timedelta = FOREVER) -> uuid.UUID:
    outcome = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, amount), timeout=timeout
        ),
    )
    return outcome.unwrap().id


async def _state(db: Database, hold_id: uuid.UUID) -> ledger.HoldState:
    async with db.unit_of_work(readonly=True) as session:
        return await ledger.hold_state(session, hold_id)


async def test_a_full_capture_posts_the_whole_hold(db: Database) -> None:
    p = await _funded(db)
    hold_id = await _hold(db, p, 400)
    state = await _state(db, hold_id)
    assert (state.status, state.amount, state.captured_amount) == ("pending", 400, 0)
    assert state.expires_at is not None and state.resolution_id is None
    captured = await commit(db, lambda s: ledger.capture(s, new_client_id(), hold_id))
    assert [leg.phase for leg in captured.transaction.legs] == [
        "release",
        "release",
        "posted",
        "posted",
    ]
    assert await balance_of(db, p.voucher) == Balance(debits_posted=400, credits_posted=1_000)
    state = await _state(db, hold_id)
    assert (state.status, state.captured_amount) == ("captured", 400)
    assert state.resolution_id == captured.transaction.id and state.expires_at is None


async def test_a_void_releases_everything(db: Database) -> None:
    p = await _funded(db)
    hold_id = await _hold(db, p, 250)
    assert (await balance_of(db, p.voucher)).available == 750
    voided = await commit(db, lambda s: ledger.void(s, new_client_id(), hold_id, reference="r"))
    assert voided.ok and voided.transaction.reference == "r"
    assert await balance_of(db, p.voucher) == Balance(credits_posted=1_000)
    assert await balance_of(db, p.provider) == Balance()
    assert (await _state(db, hold_id)).status == "voided"
    late = await commit(db, lambda s: ledger.capture(s, new_client_id(), hold_id))
    assert isinstance(late.refusal, ledger.HoldAlreadyResolved)


async def test_an_expired_hold_cannot_be_posted_and_expires_by_the_job(db: Database) -> None:
    p = await _funded(db)
    hold_id = await _hold(db, p, 100, timeout=timedelta(milliseconds=20))
    await asyncio.sleep(0.06)
    assert (await _state(db, hold_id)).status == "due"
    for attempt in (
        lambda s: ledger.capture(s, new_client_id(), hold_id),
        lambda s: ledger.void(s, new_client_id(), hold_id),
    ):
        refused = await commit(db, attempt)
        assert isinstance(refused.refusal, ledger.HoldExpired)
    assert (await balance_of(db, p.voucher)).debits_pending == 100  # untouched until expiry
    assert await commit(db, lambda s: ledger.expire_due_holds(s, limit=10)) == 1
    assert await commit(db, lambda s: ledger.expire_due_holds(s, limit=10)) == 0
    state = await _state(db, hold_id)
    assert state.status == "expired" and state.captured_amount == 0
    assert await balance_of(db, p.voucher) == Balance(credits_posted=1_000)
    assert await balance_of(db, p.provider) == Balance()
    again = await commit(db, lambda s: ledger.void(s, new_client_id(), hold_id))
    assert isinstance(again.refusal, ledger.HoldAlreadyResolved)


async def test_expiry_takes_batches_and_only_due_holds(db: Database) -> None:
    first, second = await _funded(db), await _funded(db)
    due = [await _hold(db, p, 10, timedelta(milliseconds=10)) for p in (first, second, first)]
    kept = await _hold(db, second, 10)
    await asyncio.sleep(0.05)
    assert await commit(db, lambda s: ledger.expire_due_holds(s, limit=2)) == 2
    assert await commit(db, lambda s: ledger.expire_due_holds(s, limit=2)) == 1
    assert {(await _state(db, hold_id)).status for hold_id in due} == {"expired"}
    assert (await _state(db, kept)).status == "pending"
    assert (await balance_of(db, first.voucher)).available == 1_000
    assert (await balance_of(db, second.voucher)).available == 990
    assert (await balance_of(db, second.provider)).credits_pending == 10
    with pytest.raises(ledger.InvalidRequest):
        await commit(db, lambda s: ledger.expire_due_holds(s, limit=0))


async def test_resolving_something_that_is_not_a_hold(db: Database) -> None:
    p = await _funded(db)
    async with db.unit_of_work(readonly=True) as session:
        posted = (await ledger.statement(session, p.voucher.id)).lines[0].transaction_id
    for target in (posted, uuid.uuid4()):
        with pytest.raises(ledger.TransactionNotFound):
            await commit(db, lambda s, target=target: ledger.capture(s, new_client_id(), target))
        with pytest.raises(ledger.TransactionNotFound):
            await _state(db, target)


async def test_hold_requests_are_checked(db: Database) -> None:
    p = await _funded(db)
    transfer = Transfer(p.voucher, p.provider, 1)
    for timeout in (timedelta(0), timedelta(microseconds=999), timedelta(days=400)):
        with pytest.raises(ledger.InvalidRequest):
            await commit(
                db, lambda s, t=timeout: ledger.hold(s, new_client_id(), transfer, timeout=t)
            )
    hold_id = await _hold(db, p, 5)
    for amount in (0, -1, True):
        with pytest.raises(ledger.InvalidRequest):
            await commit(
                db, lambda s, a=amount: ledger.capture(s, new_client_id(), hold_id, amount=a)
            )


async def test_a_hold_is_refused_beyond_the_available_balance(db: Database) -> None:
    p = await _funded(db, 100)
    await _hold(db, p, 60)
    refused = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 41), timeout=FOREVER
        ),
    )
    assert isinstance(refused.refusal, ledger.InsufficientBalance)
    assert (await balance_of(db, p.voucher)).available == 40


@pytest.mark.postgres_only
async def test_concurrent_resolutions_resolve_a_hold_once(db: Database) -> None:
    p = await _funded(db)
    hold_ids = [await _hold(db, p, 10) for _ in range(10)]

    async def resolve(hold_id: uuid.UUID, kind: int) -> ledger.Outcome:
        async def work(session: AsyncSession) -> ledger.Outcome:
            if kind == 0:
                return await ledger.capture(session, new_client_id(), hold_id)
            if kind == 1:
                return await ledger.capture(session, new_client_id(), hold_id, amount=3)
            return await ledger.void(session, new_client_id(), hold_id)

        return await commit(db, work)

    outcomes = await asyncio.gather(*(resolve(h, k) for h in hold_ids for k in range(3)))
    for index, hold_id in enumerate(hold_ids):
        mine = outcomes[index * 3 : index * 3 + 3]
        assert sum(outcome.ok for outcome in mine) == 1, hold_id
        assert all(isinstance(o.refusal, ledger.HoldAlreadyResolved) for o in mine if not o.ok)
    voucher = await balance_of(db, p.voucher)
    assert voucher.debits_pending == 0
    assert voucher.debits_posted == (await balance_of(db, p.provider)).posted
