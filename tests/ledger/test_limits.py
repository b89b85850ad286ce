"""Limits are checked in the statement that changes the balance, atomically, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

import ledger
from ledger import AccountSpec, Balance, Transfer
from tests.ledger.factories import available, balance_of, commit, create_programme, new_client_id
from voucher_service.db import Database


async def test_a_transaction_is_all_or_nothing(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 100)])
    )
    # The first transfer alone would pass; the second cannot, so neither happens.
    both = [Transfer(p.treasury, p.available, 50), Transfer(p.voucher, p.enterprise, 101)]
    refused = await commit(db, lambda s: ledger.transfer(s, new_client_id(), both))
    assert isinstance(refused.refusal, ledger.InsufficientBalance)
    assert p.voucher.code in str(refused.refusal)
    assert refused.transaction.legs == () and refused.transaction.status == "refused"
    assert await balance_of(db, p.available) == Balance()
    assert await balance_of(db, p.treasury) == Balance(debits_posted=100)
    assert await balance_of(db, p.voucher) == Balance(credits_posted=100)


async def test_an_account_limited_to_its_debits(db: Database) -> None:
    p = await create_programme(db)
    spec = AccountSpec(f"clearing:{uuid.uuid4()}", credits_must_not_exceed_debits=True)
    clearing = await commit(db, lambda s: ledger.open_account(s, spec))
    refused = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, clearing, 1)])
    )
    assert isinstance(refused.refusal, ledger.CreditLimitExceeded)
    done = await commit(
        db,
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(clearing, p.available, 5), Transfer(p.treasury, clearing, 5)],
        ),
    )
    assert done.ok
    assert done.balances[clearing.id] == Balance(debits_posted=5, credits_posted=5)
    assert await balance_of(db, clearing) == Balance(5, 5)


async def test_outcome_reports_the_new_totals_of_updated_rows(db: Database) -> None:
    p = await create_programme(db)
    outcome = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 42)])
    )
    assert outcome.balances[p.voucher.id].available == 42
    assert outcome.balances[p.treasury.id].posted == -42


@pytest.mark.parametrize(
    "make",
    [
        lambda _: [],
        lambda p: [Transfer(p.treasury, p.available, 1)] * 65,
        lambda p: [Transfer(p.treasury, p.treasury, 1)],
        lambda p: [Transfer(p.treasury, p.available, 0)],
        lambda p: [Transfer(p.treasury, p.available, -3)],
        lambda p: [Transfer(p.treasury, p.available, True)],
        lambda p: [Transfer(p.treasury, p.available, 1.5)],
        lambda p: [Transfer(p.treasury, p.available, 2**53)],
    ],
    ids=["none", "too_many", "to_itself", "zero", "negative", "bool", "float", "too_large"],
)
async def test_malformed_transfers_are_rejected_and_not_remembered(
    db: Database, make: object
) -> None:
    p = await create_programme(db)
    client_id = new_client_id()
    with pytest.raises(ledger.InvalidRequest):
        await commit(db, lambda s: ledger.transfer(s, client_id, make(p)))  # type: ignore[operator]
    async with db.unit_of_work(readonly=True) as session:
        assert await ledger.transaction_by_client_id(session, client_id) is None


async def test_other_malformed_requests(db: Database) -> None:
    p = await create_programme(db)
    one = [Transfer(p.treasury, p.available, 1)]
    euro = await commit(
        db, lambda s: ledger.open_account(s, AccountSpec(f"eur:{uuid.uuid4()}", "EUR"))
    )
    cases = [
        lambda s: ledger.transfer(s, "", one),
        lambda s: ledger.transfer(s, "x" * 201, one),
        lambda s: ledger.transfer(s, new_client_id(), one, reference=""),
        lambda s: ledger.transfer(s, new_client_id(), one, reference="r" * 201),
        lambda s: ledger.transfer(s, new_client_id(), one, details=["not", "an", "object"]),
        lambda s: ledger.transfer(s, new_client_id(), one, details={"when": object()}),
        lambda s: ledger.transfer(s, new_client_id(), one, details={"big": "x" * 5000}),
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, euro, 1)]),
        lambda s: ledger.sweep(s, new_client_id(), p.treasury, p.available),
        lambda s: ledger.reverse(s, new_client_id(), uuid.uuid4(), reference=""),
    ]
    for case in cases:
        with pytest.raises(ledger.InvalidRequest):
            await commit(db, case)


async def test_details_and_references_are_stored(db: Database) -> None:
    p = await create_programme(db)
    details = {"programme": "上海模型券", "rate_bp": 3000, "nested": {"ok": [1, 2.5, None]}}
    outcome = await commit(
        db,
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(p.treasury, p.available, 1)],
            reference="fund:1",
            details=details,
        ),
    )
    async with db.unit_of_work(readonly=True) as session:
        stored = await ledger.get_transaction(session, outcome.transaction.id)
    assert stored.details == details and stored.reference == "fund:1"
    assert stored.content_hash == outcome.transaction.content_hash


async def test_concurrent_debits_never_overdraw(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 1_000)])
    )

    async def spend() -> ledger.Outcome:
        return await commit(
            db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.voucher, p.provider, 30)])
        )

    outcomes = await asyncio.gather(*(spend() for _ in range(40)))
    assert sum(outcome.ok for outcome in outcomes) == 33
    assert await available(db, p.voucher) == 10
    assert (await balance_of(db, p.provider)).posted == 990


@pytest.mark.postgres_only
async def test_opposite_transfers_do_not_deadlock(db: Database) -> None:
    """Locks are taken in account-id order, so A→B and B→A at once never deadlock.

    Each transfer runs once, without retries: a deadlock would fail the test.
    """
    p = await create_programme(db)
    await commit(
        db,
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(p.treasury, p.voucher, 10_000), Transfer(p.treasury, p.enterprise, 10_000)],
        ),
    )

    async def move(debit: ledger.Account, credit: ledger.Account) -> None:
        async with db.unit_of_work() as session:
            # Two transfers in one transaction, in opposite directions: the worst case.
            outcome = await ledger.transfer(
                session, new_client_id(), [Transfer(debit, credit, 3), Transfer(credit, debit, 1)]
            )
            outcome.unwrap()
            await asyncio.sleep(0)

    pairs = [(p.voucher, p.enterprise), (p.enterprise, p.voucher)] * 40
    await asyncio.gather(*(move(a, b) for a, b in pairs))
    assert await available(db, p.voucher) == 10_000
    assert await available(db, p.enterprise) == 10_000


async def test_what_cannot_be_reversed(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 10)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 5), timeout=timedelta(hours=1)
        ),
    )
    refused = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.voucher, p.provider, 99)])
    )
    voided = await commit(db, lambda s: ledger.void(s, new_client_id(), held.transaction.id))
    for target in (held, refused, voided):
        with pytest.raises(ledger.InvalidRequest, match="posted nothing to reverse"):
            await commit(
                db, lambda s, t=target: ledger.reverse(s, new_client_id(), t.transaction.id)
            )
    with pytest.raises(ledger.TransactionNotFound):
        await commit(db, lambda s: ledger.reverse(s, new_client_id(), uuid.uuid4()))


async def test_a_claimed_hold_is_put_back_when_the_client_id_is_taken(db: Database) -> None:
    """Capture with a client id already used for something else: refused, the hold stays open."""
    p = await create_programme(db)
    used = new_client_id()
    await commit(db, lambda s: ledger.transfer(s, used, [Transfer(p.treasury, p.voucher, 10)]))
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 5), timeout=timedelta(hours=1)
        ),
    )
    with pytest.raises(ledger.IdempotencyConflict):
        await commit(db, lambda s: ledger.capture(s, used, held.transaction.id))
    async with db.unit_of_work(readonly=True) as session:
        assert (await ledger.hold_state(session, held.transaction.id)).status == "pending"
    assert await available(db, p.voucher) == 5
    assert (await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id))).ok


@pytest.mark.postgres_only
@pytest.mark.parametrize("spare", [0, 100])
async def test_concurrent_reversals_reverse_once(db: Database, spare: int) -> None:
    """With or without money to spare on the voucher, a second reversal says "already reversed"."""
    p = await create_programme(db)
    if spare:
        await commit(
            db,
            lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, spare)]),
        )
    issue = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 10)])
    )
    outcomes = await asyncio.gather(
        *(
            commit(db, lambda s: ledger.reverse(s, new_client_id(), issue.transaction.id))
            for _ in range(6)
        )
    )
    assert sum(outcome.ok for outcome in outcomes) == 1
    assert all(isinstance(o.refusal, ledger.AlreadyReversed) for o in outcomes if not o.ok)
    assert await available(db, p.voucher) == spare


async def test_details_must_be_finite_json(db: Database) -> None:
    p = await create_programme(db)
    with pytest.raises(ledger.InvalidRequest):
        await commit(
            db,
            lambda s: ledger.transfer(
                s,
                new_client_id(),
                [Transfer(p.treasury, p.available, 1)],
                details={"x": float("nan")},
            ),
        )
