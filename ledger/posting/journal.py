"""Writing and reading journal transactions: headers, legs, idempotent replays, refusals.

The header is inserted with ``ON CONFLICT DO NOTHING``: when nothing is inserted, another
transaction holds the client id (or, for a resolution or reversal, the hold or original was
already taken) and the stored outcome is returned instead, or ``IdempotencyConflict`` raised when
that client id asked for something else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.errors import IdempotencyConflict, Refusal
from ledger.hashing import content_hash
from ledger.ids import created_at_of
from ledger.models import entry, pending_hold, transaction
from ledger.types import JsonObject, Leg, Outcome, Transaction

MAX_DETAIL_LENGTH = 500


@dataclass(slots=True)
class Draft:
    """A journal transaction being written."""

    id: uuid.UUID
    client_id: str
    fingerprint: str
    kind: str
    currency: str
    legs: list[Leg] = field(default_factory=list)
    related_id: uuid.UUID | None = None
    reference: str | None = None
    details: JsonObject | None = None
    timeout_ms: int | None = None


def header_content(record: Transaction) -> JsonObject:
    """The header fields covered by the content hash (everything but hash and seal)."""
    return {
        "id": record.id,
        "client_id": record.client_id,
        "fingerprint": record.fingerprint,
        "kind": record.kind,
        "status": record.status,
        "error_code": record.error_code,
        "error_detail": record.error_detail,
        "currency": record.currency,
        "related_id": record.related_id,
        "reference": record.reference,
        "details": record.details,
        "timeout_ms": record.timeout_ms,
        "leg_count": record.leg_count,
        "created_at": record.created_at,
    }


def compute_hash(record: Transaction) -> str:
    """The content hash of a transaction as stored (what the sealer and ``verify`` recompute)."""
    return content_hash(header_content(record), record.legs)


def finish(draft: Draft, refusal: Refusal | None = None) -> Transaction:
    """The stored form of ``draft``: committed with its legs, or refused without any."""
    unhashed = Transaction(
        id=draft.id,
        client_id=draft.client_id,
        fingerprint=draft.fingerprint,
        kind=draft.kind,
        status="committed" if refusal is None else "refused",
        error_code=None if refusal is None else refusal.code,
        error_detail=None if refusal is None else str(refusal)[:MAX_DETAIL_LENGTH],
        currency=draft.currency,
        related_id=draft.related_id,
        reference=draft.reference,
        details=draft.details,
        timeout_ms=draft.timeout_ms,
        created_at=created_at_of(draft.id),
        content_hash="",
        legs=tuple(draft.legs) if refusal is None else (),
        leg_count=len(draft.legs) if refusal is None else 0,
    )
    return replace(unhashed, content_hash=compute_hash(unhashed))


#: The columns a header is written with (``checkpoint_seq`` is set later, by the sealer).
HEADER_COLUMNS = tuple(column.name for column in transaction.c if column.name != "checkpoint_seq")

_INSERT_HEADER = {
    "postgresql": postgresql.insert(transaction).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(transaction).on_conflict_do_nothing(),
}


def header_row(record: Transaction) -> dict[str, Any]:
    """The ``ledger_transaction`` row of a transaction."""
    return {**header_content(record), "content_hash": record.content_hash}


async def insert_header(connection: AsyncConnection, record: Transaction) -> bool:
    """Insert the header unless a unique key is taken; True if it was inserted."""
    statement = _INSERT_HEADER[connection.dialect.name].returning(transaction.c.id)
    inserted = await connection.execute(statement, header_row(record))
    return inserted.first() is not None


async def insert_headers(connection: AsyncConnection, records: Sequence[Transaction]) -> None:
    """Insert headers that must not conflict with anything (a conflict raises)."""
    await connection.execute(sa.insert(transaction), [header_row(record) for record in records])


async def insert_legs(connection: AsyncConnection, records: Sequence[Transaction]) -> None:
    """Insert the legs of ``records`` in position order (SQLite's balance check relies on it)."""
    rows = [
        {
            "transaction_id": record.id,
            "position": leg.position,
            "account_id": leg.account_id,
            "side": leg.side,
            "phase": leg.phase,
            "amount": leg.amount,
        }
        for record in records
        for leg in record.legs
    ]
    await connection.execute(sa.insert(entry), rows)


def _record(row: Any, legs: Sequence[Leg]) -> Transaction:
    return Transaction(
        id=row.id,
        client_id=row.client_id,
        fingerprint=row.fingerprint,
        kind=row.kind,
        status=row.status,
        error_code=row.error_code,
        error_detail=row.error_detail,
        currency=row.currency,
        related_id=row.related_id,
        reference=row.reference,
        details=row.details,
        timeout_ms=row.timeout_ms,
        created_at=row.created_at,
        content_hash=row.content_hash,
        checkpoint_seq=row.checkpoint_seq,
        legs=tuple(legs),
        leg_count=row.leg_count,
    )


def leg_of(row: Any) -> Leg:
    """A leg from its ``ledger_entry`` row."""
    return Leg(row.position, row.account_id, row.side, row.phase, row.amount)


async def load_transactions(
    connection: AsyncConnection, where: sa.ColumnElement[bool]
) -> list[Transaction]:
    """Stored transactions matching ``where``, with their legs, in id order."""
    headers = (
        await connection.execute(sa.select(transaction).where(where).order_by(transaction.c.id))
    ).all()
    if not headers:
        return []
    legs: dict[uuid.UUID, list[Leg]] = {row.id: [] for row in headers}
    leg_rows = await connection.execute(
        sa.select(entry)
        .where(entry.c.transaction_id.in_(list(legs)))
        .order_by(entry.c.transaction_id, entry.c.position)
    )
    for row in leg_rows:
        legs[row.transaction_id].append(leg_of(row))
    return [_record(row, legs[row.id]) for row in headers]


async def load_by_client_id(connection: AsyncConnection, client_id: str) -> Transaction | None:
    """The transaction stored under ``client_id``, if any."""
    found = await load_transactions(connection, transaction.c.client_id == client_id)
    return found[0] if found else None


async def replay(connection: AsyncConnection, draft: Draft) -> Outcome | None:
    """The stored outcome of ``draft.client_id``; None if that client id was never used."""
    stored = await load_by_client_id(connection, draft.client_id)
    if stored is None:
        return None
    if stored.fingerprint != draft.fingerprint:
        raise IdempotencyConflict(
            f"client id {draft.client_id!r} was used for a different {stored.kind} request"
        )
    expires_at = None
    if stored.kind == "hold" and stored.committed:
        expires_at = await connection.scalar(
            sa.select(pending_hold.c.timeout_at).where(pending_hold.c.hold_id == stored.id)
        )
    return Outcome(stored, replayed=True, expires_at=expires_at)


async def refuse(connection: AsyncConnection, draft: Draft, refusal: Refusal) -> Outcome:
    """Remember ``refusal`` under the draft's client id (or return what is remembered there)."""
    record = finish(draft, refusal)
    if await insert_header(connection, record):
        return Outcome(record)
    stored = await replay(connection, draft)
    if stored is None:  # pragma: no cover - refused headers match no other unique index
        raise RuntimeError(f"refusal of {draft.client_id!r} conflicted with no stored request")
    return stored
