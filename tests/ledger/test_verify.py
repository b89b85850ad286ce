"""``verify`` passes on a fresh and a busy ledger and names the first break after a tamper."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import ledger
from ledger import Transfer
from ledger.models import account, balance_delta, checkpoint, entry, pending_hold, transaction
from ledger.posting.journal import compute_hash
from tests.ledger.factories import Programme, commit, create_programme, new_client_id
from tests.ledger.tampering import tamper
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing


@dataclass
class Busy:
    programme: Programme
    transfer: uuid.UUID
    captured: uuid.UUID
    open_hold: uuid.UUID


async def make_busy(db: Database, keyring: KeyRing) -> Busy:
    """Every kind of transaction, some sealed, some not, hot-account deltas left unfolded."""
    p = await create_programme(db)

    async def run(work: Callable[[Any], Any]) -> ledger.Outcome:
        outcome: ledger.Outcome = await commit(db, work)
        return outcome

    fund = await run(
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 10_000)])
    )
    await run(
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.available, p.voucher, 5_000)])
    )
    holds = [
        await run(
            lambda s: ledger.hold(
                s, new_client_id(), Transfer(p.voucher, p.provider, 300), timeout=timedelta(hours=1)
            )
        )
        for _ in range(3)
    ]
    captured = await run(
        lambda s: ledger.capture(s, new_client_id(), holds[0].transaction.id, amount=200)
    )
    await run(lambda s: ledger.void(s, new_client_id(), holds[1].transaction.id))
    await run(
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.voucher, p.available, 999_999)])
    )
    await commit(db, lambda s: ledger.seal_checkpoint(s, keyring))
    await run(
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(p.provider, p.voucher, 50)],
            related_id=captured.transaction.id,
        )
    )
    await run(lambda s: ledger.reverse(s, new_client_id(), fund.transaction.id, reference="oops"))
    await run(
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 10_000)])
    )
    await commit(db, lambda s: ledger.seal_checkpoint(s, keyring))
    held = await run(
        lambda s: ledger.hold(
            s, new_client_id(), Transfer(p.voucher, p.provider, 5), timeout=timedelta(hours=1)
        )
    )
    await run(lambda s: ledger.capture(s, new_client_id(), held.transaction.id))
    return Busy(p, fund.transaction.id, captured.transaction.id, holds[2].transaction.id)


async def _verify(db: Database, keyring: KeyRing) -> ledger.VerifyReport:
    async with db.unit_of_work(readonly=True) as session:
        return await ledger.verify(session, keyring)


async def test_fresh_and_busy_ledgers_verify(db: Database, keyring: KeyRing) -> None:
    fresh = await _verify(db, keyring)
    assert fresh.ok and fresh.transactions == 0 and fresh.first_break is None
    await make_busy(db, keyring)
    busy = await _verify(db, keyring)
    assert busy.ok, busy.breaks
    assert (busy.checkpoints, busy.holds) == (2, 4)
    assert busy.transactions == 13 and busy.accounts >= 5


def _leg_amount(busy: Busy) -> Any:
    return sa.update(entry).where(entry.c.transaction_id == busy.transfer).values(amount=1)


def _account_total(busy: Busy) -> Any:
    return (
        sa.update(account)
        .where(account.c.id == busy.programme.available.id)
        .values(credits_posted=account.c.credits_posted + 1)
    )


def _orphan_delta(_: Busy) -> Any:
    values = {"id": uuid.uuid4(), "account_id": uuid.uuid4(), "transaction_id": uuid.uuid4()}
    return sa.insert(balance_delta).values(values | {"credits_posted": 0, "credits_pending": 0})


def _lost_hold(busy: Busy) -> Any:
    return sa.delete(pending_hold).where(pending_hold.c.hold_id == busy.open_hold)


def _unsealed(busy: Busy) -> Any:
    return (
        sa.update(transaction).where(transaction.c.id == busy.captured).values(checkpoint_seq=None)
    )


def _chain(_: Busy) -> Any:
    return sa.update(checkpoint).where(checkpoint.c.seq == 2).values(prev_hash="f" * 64)


def _gap(_: Busy) -> Any:
    columns = [c for c in checkpoint.c if c.name not in ("seq", "checkpoint_hash")]
    copied = sa.select(sa.literal(4), sa.literal("e" * 64), *columns).where(checkpoint.c.seq == 2)
    return sa.insert(checkpoint).from_select(
        ["seq", "checkpoint_hash", *(c.name for c in columns)], copied
    )


@pytest.mark.parametrize(
    ("change", "check", "subject"),
    [
        (_leg_amount, "content_hash", "transfer"),
        (_account_total, "balance", "available"),
        (_orphan_delta, "delta", "balance delta"),
        (_lost_hold, "hold", "open_hold"),
        (_unsealed, "checkpoint", "checkpoint 1"),
        (_chain, "checkpoint", "checkpoint 2"),
        (_gap, "checkpoint", "checkpoint 4"),
    ],
)
async def test_a_tamper_is_named(
    db: Database, keyring: KeyRing, change: Callable[[Busy], Any], check: str, subject: str
) -> None:
    busy = await make_busy(db, keyring)
    await tamper(db, change(busy))
    report = await _verify(db, keyring)
    assert not report.ok
    first = report.first_break
    assert first is not None and first.check == check
    named = {
        "transfer": str(busy.transfer),
        "available": busy.programme.available.code,
        "open_hold": str(busy.open_hold),
    }.get(subject, subject)
    assert named in str(first)


async def test_a_forged_signature_is_caught(db: Database, keyring: KeyRing, tmp_path: Any) -> None:
    await make_busy(db, keyring)
    forger = KeyRing(tmp_path / "forger")
    forger.ensure()
    async with db.unit_of_work(readonly=True) as session:
        payload = (await session.execute(sa.select(checkpoint).where(checkpoint.c.seq == 1))).one()
    forged = forger.sign(ledger.Checkpoint(**payload._mapping).payload)
    await tamper(db, sa.update(checkpoint).where(checkpoint.c.seq == 1).values(signature=forged))
    report = await _verify(db, keyring)
    assert report.first_break is not None
    assert "checkpoint 1" in str(report.first_break) and "signature" in str(report.first_break)
    # A signature over some other payload is caught too.
    other = keyring.sign(b"{}")
    await tamper(db, sa.update(checkpoint).where(checkpoint.c.seq == 1).values(signature=other))
    assert "another payload" in str((await _verify(db, keyring)).first_break)


async def test_a_rewritten_transaction_with_a_matching_hash_breaks_the_seal(
    db: Database, keyring: KeyRing
) -> None:
    """An attacker who recomputes the content hash still cannot match the signed Merkle root."""
    busy = await make_busy(db, keyring)
    async with db.unit_of_work(readonly=True) as session:
        original = await ledger.get_transaction(session, busy.transfer)
    rewritten = replace(original, reference="rewritten")
    await tamper(
        db,
        sa.update(transaction)
        .where(transaction.c.id == busy.transfer)
        .values(reference="rewritten", content_hash=compute_hash(rewritten)),
    )
    report = await _verify(db, keyring)
    assert report.first_break is not None
    assert report.first_break.check == "checkpoint" and "Merkle root" in str(report.first_break)


async def test_structural_breaks_are_reported(db: Database, keyring: KeyRing) -> None:
    """Refused headers with legs, unbalanced legs, legs on a foreign currency, limits broken."""
    busy = await make_busy(db, keyring)
    p = busy.programme
    euros = await commit(
        db, lambda s: ledger.open_account(s, ledger.AccountSpec(f"e:{uuid.uuid4()}", "EUR"))
    )
    refused = await commit(
        db,
        lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.enterprise, p.voucher, 10**9)]),
    )
    await tamper(
        db,
        sa.update(entry)
        .where(entry.c.transaction_id == busy.transfer, entry.c.position == 0)
        .values(amount=5, account_id=euros.id),
        sa.insert(entry).values(
            transaction_id=refused.transaction.id,
            position=0,
            account_id=p.voucher.id,
            side="debit",
            phase="posted",
            amount=1,
        ),
        # The CHECK constraint guards the row itself; a forged hot-account delta slips past it.
        sa.insert(balance_delta).values(
            id=uuid.uuid4(),
            account_id=p.provider.id,
            transaction_id=uuid.uuid4(),
            credits_posted=-10_000,
            credits_pending=0,
        ),
    )
    checks = {b.check for b in (await _verify(db, keyring)).breaks}
    assert {"balanced", "currency", "refused_with_legs", "limit", "balance"} <= checks


def _missing_seal(_: Busy) -> Any:
    return sa.delete(checkpoint).where(checkpoint.c.seq == 2)


def _double_resolution(busy: Busy) -> list[Any]:
    """A second resolution of a captured hold, once the unique index is out of the way."""
    copied = [c for c in transaction.c if c.name not in ("id", "client_id", "kind")]
    second = sa.select(
        sa.literal(uuid.uuid4(), sa.Uuid),
        sa.literal("forged", sa.String),
        sa.literal("void"),
        *copied,
    ).where(transaction.c.id == busy.captured)
    columns = ["id", "client_id", "kind", *(c.name for c in copied)]
    return [
        sa.text("DROP INDEX uq_ledger_transaction_resolves"),
        sa.insert(transaction).from_select(columns, second),
    ]


def _hold_row(busy: Busy) -> Any:
    return sa.update(pending_hold).where(pending_hold.c.hold_id == busy.open_hold).values(amount=1)


async def test_more_tampers_are_named(db: Database, keyring: KeyRing) -> None:
    busy = await make_busy(db, keyring)
    await tamper(db, _missing_seal(busy))
    assert "sealed under a missing seal" in str((await _verify(db, keyring)).first_break)


async def test_a_second_resolution_is_named(db: Database, keyring: KeyRing) -> None:
    busy = await make_busy(db, keyring)
    async with db.unit_of_work(readonly=True) as session:
        hold_id = (await ledger.get_transaction(session, busy.captured)).related_id
    await tamper(db, *_double_resolution(busy))
    report = await _verify(db, keyring)
    assert any(
        b.check == "hold" and f"hold {hold_id}" in b.subject and "resolved 2 times" in b.detail
        for b in report.breaks
    )


async def test_an_open_row_must_match_its_hold(db: Database, keyring: KeyRing) -> None:
    busy = await make_busy(db, keyring)
    await tamper(db, _hold_row(busy))
    report = await _verify(db, keyring)
    assert any("does not match" in str(b) and str(busy.open_hold) in str(b) for b in report.breaks)


async def test_a_broken_credit_limit_is_named(db: Database, keyring: KeyRing) -> None:
    spec = ledger.AccountSpec(f"clearing:{uuid.uuid4()}", credits_must_not_exceed_debits=True)
    clearing = await commit(db, lambda s: ledger.open_account(s, spec))
    forged = {"id": uuid.uuid4(), "transaction_id": uuid.uuid4(), "credits_pending": 0}
    await tamper(
        db,
        sa.insert(balance_delta).values(forged | {"account_id": clearing.id, "credits_posted": 5}),
    )
    checks = [(b.check, b.detail) for b in (await _verify(db, keyring)).breaks]
    assert ("limit", "credits exceed debits") in checks


async def test_a_report_keeps_the_first_fifty_breaks(db: Database, keyring: KeyRing) -> None:
    busy = await make_busy(db, keyring)
    await tamper(db, *(_orphan_delta(busy) for _ in range(60)))
    report = await _verify(db, keyring)
    assert len(report.breaks) == 50 and not report.ok
