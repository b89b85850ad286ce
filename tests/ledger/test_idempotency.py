"""Every request carries a client id: a retry returns the first outcome, success or refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

import ledger
from ledger import Transfer
from tests.ledger.factories import available, commit, create_programme, new_client_id
from voucher_service.db import Database


async def test_a_retried_transfer_moves_money_once(db: Database) -> None:
    p = await create_programme(db)
    client_id = new_client_id()

    first = await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.treasury, p.available, 700)])
    )
    again = await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.treasury, p.available, 700)])
    )
    assert first.ok and not first.replayed
    assert again.ok and again.replayed
    assert again.transaction == first.transaction
    assert again.balances == {}
    assert await available(db, p.available) == 700


async def test_the_same_client_id_with_other_content_is_refused(db: Database) -> None:
    p = await create_programme(db)
    client_id = new_client_id()
    await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.treasury, p.available, 1)])
    )
    with pytest.raises(ledger.IdempotencyConflict) as conflict:
        await commit(
            db, lambda s: ledger.transfer(s, client_id, [Transfer(p.treasury, p.available, 2)])
        )
    assert conflict.value.code == "idempotency_conflict"
    # ... also when the other request is of another kind, and when it changes only its details.
    with pytest.raises(ledger.IdempotencyConflict):
        await commit(
            db,
            lambda s: ledger.hold(
                s, client_id, Transfer(p.treasury, p.available, 1), timeout=timedelta(hours=1)
            ),
        )
    with pytest.raises(ledger.IdempotencyConflict):
        await commit(
            db,
            lambda s: ledger.transfer(
                s, client_id, [Transfer(p.treasury, p.available, 1)], details={"note": "x"}
            ),
        )
    assert await available(db, p.available) == 1


async def test_a_refusal_is_remembered_even_once_the_money_is_there(db: Database) -> None:
    p = await create_programme(db)
    client_id = new_client_id()

    refused = await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.available, p.voucher, 300)])
    )
    assert isinstance(refused.refusal, ledger.InsufficientBalance)
    assert refused.refusal.code == "insufficient_balance"
    with pytest.raises(ledger.InsufficientBalance):
        refused.unwrap()

    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 1000)])
    )
    retried = await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.available, p.voucher, 300)])
    )
    assert retried.replayed and not retried.ok
    assert isinstance(retried.refusal, ledger.InsufficientBalance)
    assert retried.transaction.id == refused.transaction.id
    assert await available(db, p.voucher) == 0
    assert await available(db, p.available) == 1000


async def test_a_rolled_back_refusal_is_forgotten(db: Database) -> None:
    """Raising through the unit of work loses the refusal; the retry is evaluated afresh."""
    p = await create_programme(db)
    client_id = new_client_id()
    with pytest.raises(ledger.InsufficientBalance):
        async with db.unit_of_work() as session:
            outcome = await ledger.transfer(
                session, client_id, [Transfer(p.available, p.voucher, 5)]
            )
            outcome.unwrap()
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 5)])
    )
    retried = await commit(
        db, lambda s: ledger.transfer(s, client_id, [Transfer(p.available, p.voucher, 5)])
    )
    assert retried.ok and not retried.replayed


async def test_a_retried_hold_returns_its_expiry_while_open(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 50)])
    )
    client_id = new_client_id()
    request = Transfer(p.voucher, p.provider, 20)
    first = await commit(
        db, lambda s: ledger.hold(s, client_id, request, timeout=timedelta(minutes=5))
    )
    again = await commit(
        db, lambda s: ledger.hold(s, client_id, request, timeout=timedelta(minutes=5))
    )
    assert again.replayed and again.expires_at == first.expires_at
    assert await available(db, p.voucher) == 30
    await commit(db, lambda s: ledger.void(s, new_client_id(), first.transaction.id))
    after_void = await commit(
        db, lambda s: ledger.hold(s, client_id, request, timeout=timedelta(minutes=5))
    )
    assert after_void.replayed and after_void.ok and after_void.expires_at is None
    assert await available(db, p.voucher) == 50


async def test_a_retried_capture_is_not_a_second_capture(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 90)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 60), timeout=timedelta(minutes=5)
        ),
    )
    client_id = new_client_id()
    first = await commit(db, lambda s: ledger.capture(s, client_id, held.transaction.id, amount=40))
    again = await commit(db, lambda s: ledger.capture(s, client_id, held.transaction.id, amount=40))
    assert first.ok and again.replayed and again.transaction.id == first.transaction.id
    other = await commit(
        db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id, amount=40)
    )
    assert isinstance(other.refusal, ledger.HoldAlreadyResolved)
    with pytest.raises(ledger.IdempotencyConflict):
        await commit(db, lambda s: ledger.capture(s, client_id, held.transaction.id, amount=41))
    assert await available(db, p.voucher) == 50


async def test_a_retried_sweep_is_a_replay_even_after_new_money(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 80)])
    )
    client_id = new_client_id()
    first = await commit(db, lambda s: ledger.sweep(s, client_id, p.voucher, p.available))
    assert first.ok and first.transaction.legs[0].amount == 80
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 5)])
    )
    again = await commit(db, lambda s: ledger.sweep(s, client_id, p.voucher, p.available))
    assert again.replayed and again.transaction.id == first.transaction.id
    assert await available(db, p.voucher) == 5
    # Sweeping an empty account is refused (and that is remembered too).
    empty_id = new_client_id()
    await commit(db, lambda s: ledger.sweep(s, new_client_id(), p.voucher, p.available))
    empty = await commit(db, lambda s: ledger.sweep(s, empty_id, p.voucher, p.available))
    assert isinstance(empty.refusal, ledger.NothingToSweep)
    assert (await commit(db, lambda s: ledger.sweep(s, empty_id, p.voucher, p.available))).replayed


async def test_a_refused_capture_replays_as_the_refusal(db: Database) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 9)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 9), timeout=timedelta(minutes=5)
        ),
    )
    client_id = new_client_id()
    too_much = await commit(
        db, lambda s: ledger.capture(s, client_id, held.transaction.id, amount=10)
    )
    assert isinstance(too_much.refusal, ledger.AmountExceedsHold)
    again = await commit(db, lambda s: ledger.capture(s, client_id, held.transaction.id, amount=10))
    assert again.replayed and isinstance(again.refusal, ledger.AmountExceedsHold)
    # The hold is untouched by the refusals and can still be captured in full.
    assert (await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id))).ok
