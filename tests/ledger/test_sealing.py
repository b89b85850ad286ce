"""Checkpoints seal committed transactions under a signed, chained Merkle root; receipts."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from jose import jws

import ledger
from ledger import Transfer
from ledger.hashing import canonical_json, content_hash, merkle_root, root_from_proof, sha256_hex
from ledger.models import entry, transaction
from ledger.posting.journal import compute_hash
from ledger.sealing import GENESIS
from ledger.types import Leg
from tests.ledger.factories import Programme, commit, create_programme, new_client_id
from tests.ledger.tampering import tamper
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing


async def _transfers(db: Database, p: Programme, count: int) -> list[ledger.Outcome]:
    return [
        await commit(
            db,
            lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 1)]),
        )
        for _ in range(count)
    ]


async def _seal(db: Database, keyring: KeyRing, limit: int = 5000) -> ledger.Checkpoint | None:
    return await commit(db, lambda s: ledger.seal_checkpoint(s, keyring, max_transactions=limit))


async def test_checkpoints_chain_and_verify(db: Database, keyring: KeyRing) -> None:
    assert await _seal(db, keyring) is None
    p = await create_programme(db)
    done = await _transfers(db, p, 5)
    first = await _seal(db, keyring, limit=3)
    second = await _seal(db, keyring, limit=3)
    assert first is not None and second is not None
    assert (first.seq, first.transaction_count, first.prev_hash) == (1, 3, GENESIS)
    assert (second.seq, second.transaction_count) == (2, 2)
    assert second.prev_hash == first.checkpoint_hash == sha256_hex(first.payload)
    assert second.last_transaction_id == done[-1].transaction.id
    assert keyring.verify(second.signature) == second.payload
    assert await _seal(db, keyring) is None
    hashes = [bytes.fromhex(o.transaction.content_hash) for o in done[3:]]
    assert second.merkle_root == merkle_root(hashes).hex()
    with pytest.raises(ledger.InvalidRequest):
        await _seal(db, keyring, limit=0)
    async with db.unit_of_work(readonly=True) as session:
        report = await ledger.verify(session, keyring)
    assert report.ok and report.checkpoints == 2 and report.transactions == 5


@pytest.mark.postgres_only
async def test_a_transaction_that_commits_late_is_sealed_later_not_skipped(
    db: Database, keyring: KeyRing
) -> None:
    p = await create_programme(db)
    specs = [ledger.AccountSpec(f"late:{uuid.uuid4()}") for _ in range(2)]
    opened = await commit(db, lambda s: ledger.open_accounts(s, specs))
    source, target = (opened[spec.code] for spec in specs)
    async with db.unit_of_work() as slow:
        late = await ledger.transfer(slow, new_client_id(), [Transfer(source, target, 7)])
        await asyncio.sleep(0.005)
        (early,) = await _transfers(db, p, 1)
        assert late.transaction.id < early.transaction.id  # older id, commits later
        first = await _seal(db, keyring)
        assert first is not None and first.transaction_count == 1
        assert first.first_transaction_id == early.transaction.id
    second = await _seal(db, keyring)
    assert second is not None and second.transaction_count == 1
    assert second.first_transaction_id == late.transaction.id
    async with db.unit_of_work(readonly=True) as session:
        assert (await ledger.verify(session, keyring)).ok


async def test_the_sealer_never_seals_a_changed_row(db: Database, keyring: KeyRing) -> None:
    p = await create_programme(db)
    (outcome,) = await _transfers(db, p, 1)
    await tamper(
        db,
        sa.update(transaction)
        .where(transaction.c.id == outcome.transaction.id)
        .values(reference="x"),
    )
    with pytest.raises(ledger.IntegrityBreach, match=str(outcome.transaction.id)):
        await _seal(db, keyring)


async def test_receipts_carry_content_and_once_sealed_an_audit_path(
    db: Database, keyring: KeyRing
) -> None:
    p = await create_programme(db)
    await _transfers(db, p, 2)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 50)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 20),
            timeout=timedelta(hours=1),
            reference="redemption:1",
            details={"order": "A-1"},
        ),
    )
    async with db.unit_of_work(readonly=True) as session:
        unsealed = await ledger.receipt(session, keyring, held.transaction.id)
    body = ledger.read_receipt(keyring, unsealed)
    assert "checkpoint" not in body
    content = body["transaction"]
    assert content["reference"] == "redemption:1" and content["details"] == {"order": "A-1"}
    assert [leg["account_code"] for leg in content["legs"]] == [p.voucher.code, p.provider.code]
    # Anyone can recompute the content hash from the receipt...
    legs = [
        Leg(leg["position"], leg["account_id"], leg["side"], leg["phase"], leg["amount"])
        for leg in content["legs"]
    ]
    header = {k: v for k, v in content.items() if k not in ("legs", "content_hash")}
    assert content_hash(header, legs) == content["content_hash"] == held.transaction.content_hash
    # ... and check the signature with the published key alone (what /.well-known/jwks.json serves).
    jwk = keyring.jwks()["keys"][0]
    assert json.loads(jws.verify(unsealed, jwk, algorithms=["ES256"])) == body

    sealed = await _seal(db, keyring)
    assert sealed is not None
    async with db.unit_of_work(readonly=True) as session:
        body = ledger.read_receipt(
            keyring, await ledger.receipt(session, keyring, held.transaction.id)
        )
    proof = body["checkpoint"]
    root = root_from_proof(
        bytes.fromhex(body["transaction"]["content_hash"]),
        proof["index"],
        proof["size"],
        [bytes.fromhex(node) for node in proof["proof"]],
    )
    assert root.hex() == sealed.merkle_root
    assert json.loads(keyring.verify(proof["signature"]))["root"] == sealed.merkle_root

    with pytest.raises(ledger.InvalidRequest):
        ledger.read_receipt(keyring, sealed.signature)  # a checkpoint is not a receipt
    with pytest.raises(ledger.TransactionNotFound):
        async with db.unit_of_work(readonly=True) as session:
            await ledger.receipt(session, keyring, p.treasury.id)


async def test_recomputed_hash_covers_every_leg(db: Database) -> None:
    p = await create_programme(db)
    (outcome,) = await _transfers(db, p, 1)
    record = outcome.transaction
    assert compute_hash(record) == record.content_hash
    changed = record.legs[0].__class__(0, record.legs[0].account_id, "debit", "posted", 2)
    assert content_hash({"id": str(record.id)}, [changed]) != record.content_hash
    assert canonical_json({"b": 1, "a": "量"}) == '{"a":"量","b":1}'.encode()
    async with db.unit_of_work(readonly=True) as session:
        legs = (
            await session.execute(sa.select(entry).where(entry.c.transaction_id == record.id))
        ).all()
    assert len(legs) == 2


@pytest.mark.postgres_only
async def test_concurrent_sealers_seal_once(db: Database, keyring: KeyRing) -> None:
    p = await create_programme(db)
    await _transfers(db, p, 3)
    async with db.unit_of_work() as first:
        sealed = await ledger.seal_checkpoint(first, keyring)
        assert sealed is not None and sealed.transaction_count == 3
        # A second sealer read the same chain head and the same rows; it waits for ours...
        second = asyncio.ensure_future(_seal(db, keyring))
        await asyncio.sleep(0.2)
        assert not second.done()
    # ... and, ours committed, finds its sequence number taken and steps aside.
    assert await second is None
    async with db.unit_of_work(readonly=True) as session:
        report = await ledger.verify(session, keyring)
    assert report.ok and report.checkpoints == 1


async def test_a_fresh_receipt_signs_what_receipt_reads_back(
    db: Database, keyring: KeyRing
) -> None:
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 50)])
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 20),
            timeout=timedelta(hours=1),
            reference="redemption:2",
            details={"order": "A-2"},
        ),
    )
    codes = {p.voucher.id: p.voucher.code, p.provider.id: p.provider.code}
    fresh = ledger.read_receipt(keyring, ledger.fresh_receipt(keyring, held.transaction, codes))
    async with db.unit_of_work(readonly=True) as session:
        read = ledger.read_receipt(
            keyring, await ledger.receipt(session, keyring, held.transaction.id)
        )
    assert fresh["transaction"] == read["transaction"]
    assert fresh["typ"] == read["typ"]
    await _seal(db, keyring)
    async with db.unit_of_work(readonly=True) as session:
        sealed = await ledger.get_transaction(session, held.transaction.id)
    with pytest.raises(ledger.InvalidRequest):
        ledger.fresh_receipt(keyring, sealed, codes)
