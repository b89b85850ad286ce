"""The database itself refuses raw SQL that would break the ledger's invariants.

PostgreSQL: a deferred constraint trigger (balanced, complete transactions, checked at commit),
CHECK constraints, and triggers refusing UPDATE/DELETE/TRUNCATE of posted rows. SQLite: the
same refusals through its own triggers, balance checked when a transaction's last leg arrives.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import ledger
from ledger import Transfer
from ledger.hashing import sha256_hex
from ledger.ids import created_at_of
from ledger.models import account, checkpoint, entry, transaction
from ledger.sqltypes import new_id
from tests.ledger.factories import Programme, commit, create_programme, new_client_id
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing


async def _refused(db: Database, *statements: Any) -> str:
    """Run ``statements`` in one unit of work; the database must refuse them."""
    with pytest.raises(IntegrityError) as refused:
        async with db.unit_of_work() as session:
            for statement in statements:
                await session.execute(statement)
    return str(refused.value)


async def _posted(db: Database) -> tuple[Programme, uuid.UUID]:
    p = await create_programme(db)
    outcome = await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 500)])
    )
    return p, outcome.transaction.id


def _header(leg_count: int = 2, **overrides: Any) -> dict[str, Any]:
    transaction_id = new_id()
    row = {
        "id": transaction_id,
        "client_id": new_client_id("raw"),
        "fingerprint": "0" * 64,
        "kind": "transfer",
        "status": "committed",
        "currency": "CNY",
        "leg_count": leg_count,
        "created_at": created_at_of(transaction_id),
        "content_hash": "0" * 64,
    }
    return row | overrides


def _leg(
    transaction_id: uuid.UUID, position: int, account_id: uuid.UUID, side: str, amount: int
) -> Any:
    return sa.insert(entry).values(
        transaction_id=transaction_id,
        position=position,
        account_id=account_id,
        side=side,
        phase="posted",
        amount=amount,
    )


async def test_posted_legs_are_never_updated_or_deleted(db: Database) -> None:
    _, transaction_id = await _posted(db)
    legs = entry.c.transaction_id == transaction_id
    assert "ledger" in await _refused(db, sa.update(entry).where(legs).values(amount=1))
    assert "ledger" in await _refused(db, sa.delete(entry).where(legs))
    assert "ledger" in await _refused(db, sa.update(entry).where(legs).values(side="credit"))


async def test_transaction_headers_are_never_changed_or_deleted(db: Database) -> None:
    _, transaction_id = await _posted(db)
    this = transaction.c.id == transaction_id
    assert "ledger" in await _refused(db, sa.update(transaction).where(this).values(reference="x"))
    assert "ledger" in await _refused(
        db, sa.update(transaction).where(this).values(status="refused")
    )
    assert "ledger" in await _refused(db, sa.delete(transaction).where(this))


async def test_a_sealed_transaction_stays_sealed(db: Database, keyring: KeyRing) -> None:
    _, transaction_id = await _posted(db)
    sealed = await commit(db, lambda s: ledger.seal_checkpoint(s, keyring))
    assert sealed is not None
    this = transaction.c.id == transaction_id
    unseal = sa.update(transaction).where(this).values(checkpoint_seq=None)
    assert "ledger" in await _refused(db, unseal)
    seal = checkpoint.c.seq == sealed.seq
    assert "ledger" in await _refused(db, sa.update(checkpoint).where(seal).values(merkle_root="0"))
    assert "ledger" in await _refused(db, sa.delete(checkpoint).where(seal))


async def test_account_identity_is_fixed_and_accounts_stay(db: Database) -> None:
    p, _ = await _posted(db)
    this = account.c.id == p.available.id
    assert "ledger" in await _refused(db, sa.update(account).where(this).values(code="other"))
    assert "ledger" in await _refused(db, sa.update(account).where(this).values(hot=True))
    assert "ledger" in await _refused(db, sa.delete(account).where(this))


async def test_amounts_are_positive(db: Database) -> None:
    p, _ = await _posted(db)
    header = _header()
    for amount in (0, -5):
        message = await _refused(
            db,
            sa.insert(transaction).values(_header()),
            _leg(header["id"], 0, p.treasury.id, "debit", amount),
        )
        assert "amount" in message


async def test_limits_hold_even_for_raw_updates(db: Database) -> None:
    p, _ = await _posted(db)
    overdraw = (
        sa.update(account)
        .where(account.c.id == p.available.id)
        .values(debits_posted=account.c.credits_posted + 1)
    )
    assert "debits_within_credits" in await _refused(db, overdraw)


async def test_an_unbalanced_transaction_is_refused(db: Database) -> None:
    p, _ = await _posted(db)
    header = _header()
    message = await _refused(
        db,
        sa.insert(transaction).values(header),
        _leg(header["id"], 0, p.treasury.id, "debit", 100),
        _leg(header["id"], 1, p.available.id, "credit", 99),
    )
    assert "ledger" in message and "balanced" in message


async def test_a_balanced_raw_transaction_is_accepted(db: Database) -> None:
    """The triggers refuse what is wrong, not raw SQL as such (the check above can fail)."""
    p, _ = await _posted(db)
    header = _header()
    async with db.unit_of_work() as session:
        await session.execute(sa.insert(transaction).values(header))
        await session.execute(_leg(header["id"], 0, p.treasury.id, "debit", 100))
        await session.execute(_leg(header["id"], 1, p.available.id, "credit", 100))
    async with db.unit_of_work(readonly=True) as session:
        count = await session.scalar(
            sa.select(sa.func.count()).where(entry.c.transaction_id == header["id"])
        )
    assert count == 2


async def test_no_leg_can_be_added_to_a_stored_transaction(db: Database) -> None:
    p, transaction_id = await _posted(db)
    message = await _refused(db, _leg(transaction_id, 2, p.available.id, "debit", 100))
    assert "ledger" in message


async def test_legs_must_match_the_transaction_currency(db: Database) -> None:
    p, _ = await _posted(db)
    euros = await commit(
        db, lambda s: ledger.open_account(s, ledger.AccountSpec(f"eur:{uuid.uuid4()}", "EUR"))
    )
    header = _header()
    message = await _refused(
        db,
        sa.insert(transaction).values(header),
        _leg(header["id"], 0, euros.id, "debit", 100),
        _leg(header["id"], 1, p.available.id, "credit", 100),
    )
    assert "currency" in message


@pytest.mark.postgres_only
async def test_postgres_refuses_a_header_without_its_legs(db: Database) -> None:
    message = await _refused(db, sa.insert(transaction).values(_header()))
    assert "has 0 legs but declares 2" in message


@pytest.mark.postgres_only
async def test_postgres_refuses_truncate(db: Database) -> None:
    await _posted(db)
    for table in ("ledger_entry", "ledger_transaction", "ledger_account", "ledger_checkpoint"):
        assert "TRUNCATE" in await _refused(db, sa.text(f"TRUNCATE {table} CASCADE"))


async def test_sqlite_leaves_incomplete_transactions_to_verify(
    db: Database, keyring: KeyRing, backend: str
) -> None:
    """SQLite has no deferred triggers: a header whose legs never come is caught by verify."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL refuses this at commit (test above)")
    header = _header(content_hash=sha256_hex(b"not what verify recomputes"))
    async with db.unit_of_work() as session:
        await session.execute(sa.insert(transaction).values(header))
    async with db.unit_of_work(readonly=True) as session:
        report = await ledger.verify(session, keyring)
    assert not report.ok
    assert {b.check for b in report.breaks} >= {"content_hash", "legs"}
    assert str(header["id"]) in str(report.first_break)
