"""Checkpoints: sealing committed transactions under a signed, chained Merkle root; receipts.

The sealer takes the oldest transactions not sealed yet (``checkpoint_seq IS NULL``, a partial
index), whatever order they committed in: a transaction that commits late, with an old id, is
still unsealed and goes into the next checkpoint. Nothing on the write path waits for it.

A checkpoint's payload (canonical JSON) names its sequence number, the previous checkpoint's
hash, the Merkle root (RFC 6962) of its transactions' content hashes in id order, their count
and id range; the payload's SHA-256 is the next checkpoint's ``prev``; the signer's compact JWS
over the payload is stored as ``signature``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger.errors import IntegrityBreach, InvalidRequest
from ledger.hashing import canonical_json, inclusion_proof, merkle_root, sha256_hex
from ledger.models import account, checkpoint, transaction
from ledger.posting.journal import compute_hash, header_content, load_transactions
from ledger.queries import get_transaction
from ledger.signing import Signer, Verifier
from ledger.sqltypes import utcnow
from ledger.types import JsonObject, Transaction

CHECKPOINT_TYPE = "voucher-ledger-checkpoint"
RECEIPT_TYPE = "voucher-ledger-receipt"
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A sealed checkpoint as stored in ``ledger_checkpoint``."""

    seq: int
    prev_hash: str
    merkle_root: str
    transaction_count: int
    first_transaction_id: uuid.UUID
    last_transaction_id: uuid.UUID
    sealed_at: datetime
    signature: str = ""
    checkpoint_hash: str = ""

    @property
    def payload(self) -> bytes:
        """The bytes that are signed and hashed."""
        return canonical_json(
            {
                "typ": CHECKPOINT_TYPE,
                "seq": self.seq,
                "prev": self.prev_hash,
                "root": self.merkle_root,
                "count": self.transaction_count,
                "first": self.first_transaction_id,
                "last": self.last_transaction_id,
                "sealed_at": self.sealed_at,
            }
        )


async def _head(session: AsyncSession) -> tuple[int, str]:
    last = (
        await session.execute(
            sa.select(checkpoint.c.seq, checkpoint.c.checkpoint_hash)
            .order_by(checkpoint.c.seq.desc())
            .limit(1)
        )
    ).first()
    return (0, GENESIS) if last is None else (last.seq, last.checkpoint_hash)


async def _unsealed(connection: AsyncConnection, limit: int) -> list[Transaction]:
    """The oldest unsealed transactions, each checked against its stored hash."""
    unsealed = (
        sa.select(transaction.c.id)
        .where(transaction.c.checkpoint_seq.is_(None))
        .order_by(transaction.c.id)
        .limit(limit)
    )
    ids = list((await connection.execute(unsealed)).scalars())
    records = await load_transactions(connection, transaction.c.id.in_(ids)) if ids else []
    for record in records:
        if compute_hash(record) != record.content_hash:
            raise IntegrityBreach(f"transaction {record.id} changed since it was written")
    return records


def _signed(seq: int, prev_hash: str, records: list[Transaction], signer: Signer) -> Checkpoint:
    leaves = [bytes.fromhex(record.content_hash) for record in records]
    root = merkle_root(leaves).hex()
    first, last = records[0].id, records[-1].id
    draft = Checkpoint(seq, prev_hash, root, len(records), first, last, utcnow())
    return replace(
        draft, checkpoint_hash=sha256_hex(draft.payload), signature=signer.sign(draft.payload)
    )


async def seal_checkpoint(
    session: AsyncSession, signer: Signer, *, max_transactions: int = 5000
) -> Checkpoint | None:
    """Seal the oldest unsealed transactions into the next checkpoint; None if there are none
    (or if a concurrent sealer took the next sequence number first).

    Each transaction's hash is recomputed first: a row changed since it was written is never
    sealed (``IntegrityBreach``), so a seal only ever vouches for what the ledger wrote.
    """
    if max_transactions < 1:
        raise InvalidRequest("max_transactions must be positive")
    connection = await session.connection()
    # The chain head is read before the unsealed rows. A concurrent sealer that commits in
    # between has taken the same sequence number (our insert then finds it taken and we stop) or
    # committed before our row query (whose fresh snapshot no longer sees its rows as unsealed).
    seq, prev_hash = await _head(session)
    records = await _unsealed(connection, max_transactions)
    if not records:
        return None
    sealed = _signed(seq + 1, prev_hash, records, signer)
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    added = await connection.execute(
        insert(checkpoint)
        .values(asdict(sealed))
        .on_conflict_do_nothing()
        .returning(checkpoint.c.seq)
    )
    if added.first() is None:
        return None  # a concurrent sealer took this sequence number; it sealed these rows
    ids = [record.id for record in records]
    await connection.execute(
        sa.update(transaction).where(transaction.c.id.in_(ids)).values(checkpoint_seq=sealed.seq)
    )
    return sealed


async def _inclusion(session: AsyncSession, seq: int, transaction_id: uuid.UUID) -> JsonObject:
    rows = (
        await session.execute(
            sa.select(transaction.c.id, transaction.c.content_hash)
            .where(transaction.c.checkpoint_seq == seq)
            .order_by(transaction.c.id)
        )
    ).all()
    index = next(i for i, row in enumerate(rows) if row.id == transaction_id)
    leaves = [bytes.fromhex(row.content_hash) for row in rows]
    proof = [node.hex() for node in inclusion_proof(leaves, index)]
    signature = await session.scalar(
        sa.select(checkpoint.c.signature).where(checkpoint.c.seq == seq)
    )
    return {"seq": seq, "index": index, "size": len(rows), "proof": proof, "signature": signature}


async def receipt(session: AsyncSession, signer: Signer, transaction_id: uuid.UUID) -> str:
    """A compact JWS over a transaction's full content, verifiable with the published keys.

    The receipt carries everything its ``content_hash`` covers, so a holder can recompute it;
    once the transaction is sealed it also carries the Merkle audit path to its checkpoint and
    that checkpoint's signed payload.
    """
    record = await get_transaction(session, transaction_id)
    codes = dict(
        (
            await session.execute(
                sa.select(account.c.id, account.c.code).where(
                    account.c.id.in_([leg.account_id for leg in record.legs])
                )
            )
        ).all()
    )
    body = _receipt_body(record, codes)
    if record.checkpoint_seq is not None:
        body["checkpoint"] = await _inclusion(session, record.checkpoint_seq, record.id)
    return signer.sign(canonical_json(body))


def fresh_receipt(signer: Signer, record: Transaction, codes: Mapping[uuid.UUID, str]) -> str:
    """The receipt of a transaction just posted (``outcome.transaction``), read from nothing.

    Exactly what :func:`receipt` signs for it until it is sealed; ``codes`` maps the ids of its
    accounts to their codes (the caller holds the ``Account`` values it posted with).
    """
    if record.checkpoint_seq is not None:
        raise InvalidRequest("a sealed transaction's receipt carries its checkpoint: use receipt()")
    return signer.sign(canonical_json(_receipt_body(record, codes)))


def _receipt_body(record: Transaction, codes: Mapping[uuid.UUID, str]) -> JsonObject:
    content = {
        **header_content(record),
        "content_hash": record.content_hash,
        "legs": [{**asdict(leg), "account_code": codes[leg.account_id]} for leg in record.legs],
    }
    return {"typ": RECEIPT_TYPE, "transaction": content, "issued_at": utcnow()}


def read_receipt(verifier: Verifier, token: str) -> JsonObject:
    """The content of a receipt our key signed (the verifier raises on anything else)."""
    body: JsonObject = json.loads(verifier.verify(token))
    if body.get("typ") != RECEIPT_TYPE:
        raise InvalidRequest("not a ledger receipt")
    return body
