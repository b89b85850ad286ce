"""Balances now and as of a time, statements with keyset pagination, trial balance, period sums."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

import ledger
from ledger import Balance, Transfer
from ledger.queries import statement_query
from tests.ledger.factories import commit, create_programme, new_client_id
from voucher_service.db import Database


async def test_statement_pages_through_every_leg_once(db: Database) -> None:
    p = await create_programme(db)
    amounts = list(range(1, 24))
    for amount in amounts:
        await commit(
            db,
            lambda s, a=amount: ledger.transfer(
                s, new_client_id(), [Transfer(p.treasury, p.voucher, a)]
            ),
        )
    for newest_first in (True, False):
        seen: list[int] = []
        cursor: str | None = None
        pages = 0
        while True:
            async with db.unit_of_work(readonly=True) as session:
                page = await ledger.statement(
                    session, p.voucher.id, limit=5, after=cursor, newest_first=newest_first
                )
            pages += 1
            seen += [line.amount for line in page.lines]
            assert all(line.side == "credit" and line.kind == "transfer" for line in page.lines)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert pages == 5
        assert seen == (amounts[::-1] if newest_first else amounts)


async def test_statement_arguments_are_checked(db: Database) -> None:
    p = await create_programme(db)
    async with db.unit_of_work(readonly=True) as session:
        for limit in (0, 501):
            with pytest.raises(ledger.InvalidRequest):
                await ledger.statement(session, p.voucher.id, limit=limit)
        for cursor in ("A", "AAAA"):
            with pytest.raises(ledger.InvalidRequest):
                await ledger.statement(session, p.voucher.id, after=cursor)
        empty = await ledger.statement(session, p.voucher.id)
    assert empty.lines == [] and empty.next_cursor is None


@pytest.mark.postgres_only
async def test_a_statement_page_is_an_index_range_scan(db: Database) -> None:
    """Constant cost per page: the plan walks ix_ledger_entry_account, no sort of the history."""
    p = await create_programme(db)
    async with db.unit_of_work() as session:
        for _ in range(300):
            await ledger.transfer(session, new_client_id(), [Transfer(p.treasury, p.voucher, 1)])
    async with db.unit_of_work() as session:
        await session.execute(sa.text("ANALYZE ledger_entry"))
        page = await ledger.statement(session, p.voucher.id, limit=10)
        query = statement_query(p.voucher.id, after=page.next_cursor).limit(11)
        compiled = query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        result = await session.execute(sa.text(f"EXPLAIN {compiled}"))
        plan = "\n".join(row[0] for row in result)
    assert "ix_ledger_entry_account" in plan and "Sort" not in plan, plan


async def test_balance_as_of_a_time(db: Database) -> None:
    p = await create_programme(db)
    first = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 10)])
    )
    await asyncio.sleep(0.005)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.005)
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 4), timeout=timedelta(hours=1)
        ),
    )
    await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id, amount=3))
    async with db.unit_of_work(readonly=True) as session:
        now = await ledger.balance(session, p.voucher.id)
        then = await ledger.balance(session, p.voucher.id, as_of=middle)
        before = await ledger.balance(session, p.voucher.id, as_of=first.transaction.created_at)
        after = await ledger.balance(
            session, p.voucher.id, as_of=first.transaction.created_at + timedelta(milliseconds=1)
        )
        with pytest.raises(ledger.AccountNotFound):
            await ledger.balance(session, uuid.uuid4())
        with pytest.raises(ValueError, match="naive"):
            await ledger.balance(session, p.voucher.id, as_of=datetime(2026, 1, 1))
    assert now == Balance(debits_posted=3, credits_posted=10)
    assert then == after == Balance(credits_posted=10)
    assert before == Balance()


async def test_trial_balance_groups_by_kind_of_account(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 100)])
    )
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.available, p.voucher, 60)])
    )
    async with db.unit_of_work(readonly=True) as session:
        everything = await ledger.trial_balance(session)
        vouchers = await ledger.trial_balance(session, code_prefix=p.voucher.code)
        nothing = await ledger.trial_balance(session, code_prefix="no-such-kind:")
    assert everything.balanced
    assert everything.groups["voucher"].credits_posted >= 60
    assert vouchers.groups == {"voucher": Balance(credits_posted=60)}
    assert not vouchers.balanced
    assert nothing.groups == {} and nothing.balanced


async def test_sum_legs_filters(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 100)])
    )
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.available, p.voucher, 30)], reference="issue:A"
        ),
    )
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.treasury, p.voucher, 7)], reference="Issue:b"
        ),
    )
    async with db.unit_of_work(readonly=True) as session:
        total = await ledger.sum_legs(session, [p.voucher.id], side="credit")
        from_programme = await ledger.sum_legs(
            session, [p.voucher.id], side="credit", counterparty_prefix="program:"
        )
        referenced = await ledger.sum_legs(
            session, [p.voucher.id], side="credit", reference_prefix="issue:"
        )
        debits = await ledger.sum_legs(session, [p.voucher.id, p.available.id], side="debit")
        pending = await ledger.sum_legs(session, [p.voucher.id], side="credit", phase="pending")
        with pytest.raises(ledger.InvalidRequest):
            await ledger.sum_legs(session, [p.voucher.id], side="both")
    assert (total, from_programme, referenced, debits, pending) == (37, 30, 30, 30, 0)


async def test_transactions_are_found_by_id_client_id_and_relation(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 9)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 9), timeout=timedelta(hours=1)
        ),
    )
    captured = await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id))
    async with db.unit_of_work(readonly=True) as session:
        stored = await ledger.get_transaction(session, held.transaction.id)
        by_client = await ledger.transaction_by_client_id(session, held.transaction.client_id)
        related = await ledger.related_transactions(session, held.transaction.id)
        with pytest.raises(ledger.TransactionNotFound):
            await ledger.get_transaction(session, uuid.uuid4())
    assert stored == by_client == held.transaction
    assert [r.id for r in related] == [captured.transaction.id]
