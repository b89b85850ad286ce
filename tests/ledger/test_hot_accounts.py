"""Hot accounts: credits are appended as deltas, so they never queue on the account's row."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

import ledger
from ledger import Balance, Transfer
from ledger.models import account, balance_delta
from tests.ledger.factories import Programme, balance_of, commit, create_programme, new_client_id
from voucher_service.db import Database


async def _row(db: Database, target: ledger.Account) -> Balance:
    """The account row alone, without its unfolded deltas."""
    async with db.unit_of_work(readonly=True) as session:
        row = (
            await session.execute(
                sa.select(
                    account.c.debits_posted,
                    account.c.credits_posted,
                    account.c.debits_pending,
                    account.c.credits_pending,
                ).where(account.c.id == target.id)
            )
        ).one()
    return Balance(*row)


async def _deltas(db: Database, target: ledger.Account) -> int:
    async with db.unit_of_work(readonly=True) as session:
        count = await session.scalar(
            sa.select(sa.func.count()).where(balance_delta.c.account_id == target.id)
        )
    return int(count or 0)


async def _redeemed(db: Database, amount: int = 300) -> Programme:
    """A programme whose provider (hot) received a capture, still as deltas."""
    p = await create_programme(db)
    assert p.provider.hot and not p.voucher.hot
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 1_000)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, amount), timeout=timedelta(hours=1)
        ),
    )
    await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id))
    return p


async def test_credits_go_to_deltas_and_reads_stay_exact(db: Database) -> None:
    p = await _redeemed(db)
    assert await _row(db, p.provider) == Balance()
    assert await _deltas(db, p.provider) == 2  # the hold's pending credit and the capture
    assert await balance_of(db, p.provider) == Balance(credits_posted=300)
    async with db.unit_of_work(readonly=True) as session:
        trial = await ledger.trial_balance(session)
    assert trial.balanced

    assert await commit(db, lambda s: ledger.fold_hot_accounts(s)) == 2
    assert await _deltas(db, p.provider) == 0
    assert await _row(db, p.provider) == Balance(credits_posted=300)
    assert await balance_of(db, p.provider) == Balance(credits_posted=300)
    assert await commit(db, lambda s: ledger.fold_hot_accounts(s)) == 0
    with pytest.raises(ledger.InvalidRequest):
        await commit(db, lambda s: ledger.fold_hot_accounts(s, max_accounts=0))


async def test_a_debit_folds_first_so_its_limit_sees_every_credit(db: Database) -> None:
    p = await _redeemed(db)
    refund = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.provider, p.voucher, 300)])
    )
    assert refund.ok
    assert refund.balances[p.provider.id] == Balance(debits_posted=300, credits_posted=300)
    assert await _deltas(db, p.provider) == 0
    too_much = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.provider, p.voucher, 1)])
    )
    assert isinstance(too_much.refusal, ledger.InsufficientBalance)
    assert await balance_of(db, p.provider) == Balance(300, 300)


async def test_a_refused_debit_keeps_the_fold(db: Database) -> None:
    p = await _redeemed(db, amount=100)
    refused = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.provider, p.voucher, 101)])
    )
    assert isinstance(refused.refusal, ledger.InsufficientBalance)
    assert await _deltas(db, p.provider) == 0
    assert await _row(db, p.provider) == Balance(credits_posted=100)


async def test_as_of_balances_of_a_hot_account(db: Database) -> None:
    p = await _redeemed(db, amount=100)
    async with db.unit_of_work(readonly=True) as session:
        middle = (await ledger.statement(session, p.provider.id)).lines[0].created_at
    await asyncio.sleep(0.01)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.voucher, p.provider, 50)])
    )
    async with db.unit_of_work(readonly=True) as session:
        now = await ledger.balance(session, p.provider.id)
        before = await ledger.balance(
            session, p.provider.id, as_of=middle + timedelta(milliseconds=1)
        )
        at_start = await ledger.balance(session, p.provider.id, as_of=middle - timedelta(days=1))
    assert now == Balance(credits_posted=150)
    assert before == Balance(credits_posted=100)
    assert at_start == Balance()


@pytest.mark.postgres_only
async def test_credits_do_not_wait_for_the_hot_row(db: Database) -> None:
    """While another transaction holds the provider's row lock the way an UPDATE does (a payout
    folding it, say), redemptions still complete; the same credit to an ordinary account has to
    wait (so the test can tell the difference).
    """
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 100)])
    )
    async with db.unit_of_work() as blocker:
        for target in (p.provider, p.enterprise):
            row = sa.select(account.c.id).where(account.c.id == target.id)
            await blocker.execute(row.with_for_update(key_share=True))
        hot = commit(
            db,
            lambda s: ledger.hold(
                s, new_client_id(), Transfer(p.voucher, p.provider, 10), timeout=timedelta(hours=1)
            ),
        )
        assert (await asyncio.wait_for(hot, timeout=5)).ok
        ordinary = asyncio.ensure_future(
            commit(
                db,
                lambda s: ledger.transfer(
                    s, new_client_id(), [Transfer(p.voucher, p.enterprise, 10)]
                ),
            )
        )
        done, _ = await asyncio.wait({ordinary}, timeout=0.5)
        assert not done, "a credit to an ordinary account should wait for its row lock"
    assert (await ordinary).ok
    assert await balance_of(db, p.provider) == Balance(credits_pending=10)


@pytest.mark.postgres_only
async def test_folding_while_credits_arrive_loses_nothing(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 10_000)])
    )
    stop = asyncio.Event()

    async def fold_continuously() -> int:
        folded = 0
        while not stop.is_set():
            folded += await commit(db, lambda s: ledger.fold_hot_accounts(s))
            await asyncio.sleep(0)
        return folded

    async def redeem() -> None:
        held = await commit(
            db,
            lambda s: ledger.hold(
                s, new_client_id(), Transfer(p.voucher, p.provider, 7), timeout=timedelta(hours=1)
            ),
        )
        await commit(
            db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id, amount=5)
        )

    folder = asyncio.ensure_future(fold_continuously())
    await asyncio.gather(*(redeem() for _ in range(60)))
    stop.set()
    assert await folder > 0
    await commit(db, lambda s: ledger.fold_hot_accounts(s))
    assert await _deltas(db, p.provider) == 0
    assert await _row(db, p.provider) == Balance(credits_posted=300)
    assert await balance_of(db, p.voucher) == Balance(debits_posted=300, credits_posted=10_000)
