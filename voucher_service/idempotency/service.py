"""Claim an idempotency key, store the answer, replay it; purge expired records.

The record is inserted before the route runs, in the request's unit of work, and completed in the
same unit of work just before it commits. A second request with the same key therefore sees
either nothing (the first is still running: it waits) or a completed record (it replays it).
On PostgreSQL the waiting is a poll on a transaction-scoped advisory lock, so it can give up with
409 ``idempotency_request_in_progress`` instead of blocking on the unique index for ever; on
SQLite, ``BEGIN IMMEDIATE`` already queues the second request behind the first.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from ledger.sqltypes import new_id, utcnow
from voucher_service.idempotency.errors import (
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
)
from voucher_service.idempotency.models import IdempotencyRecord

TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]
#: Response headers kept with the answer and sent again on a replay.
KEPT = frozenset({"content-type", "content-language", "location", "retry-after"})
REPLAYED_HEADER = "Idempotent-Replayed"
_FIRST_POLL_SECONDS = 0.01
_MAX_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Attempt:
    """One request under an idempotency key: who, which key, and what exactly it asks."""

    caller: str
    key: str
    fingerprint: str
    method: str
    path: str
    expires_at: datetime | None

    @property
    def lock_key(self) -> int:
        """A signed 64-bit number naming (caller, key) for PostgreSQL's advisory locks."""
        digest = hashlib.sha256(f"idempotency\0{self.caller}\0{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class StoredAnswer:
    """What the first request answered, as kept in the record."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def replay(self) -> Response:
        """The same answer again, marked as a replay."""
        response = Response(content=self.body, status_code=self.status)
        response.headers.update(dict(self.headers))
        response.headers[REPLAYED_HEADER] = "true"
        return response

    @classmethod
    def of(cls, response: Response) -> StoredAnswer:
        headers = [(name, value) for name, value in response.headers.items() if name in KEPT]
        return cls(response.status_code, headers, bytes(response.body))


class Replay(Exception):
    """Raised by the claim when the key already has an answer for this very request."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("idempotent replay")
        self.answer = answer


def canonical_body(content_type: str | None, body: bytes) -> bytes:
    """JSON bodies in a canonical form (sorted keys, no spaces); anything else as sent."""
    if body and (content_type or "").split(";")[0].strip().lower().endswith("json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return canonical.encode()
    return body


def fingerprint(
    method: str, path: str, query: Iterable[tuple[str, str]], content_type: str | None, body: bytes
) -> str:
    """SHA-256 of the method, path, sorted query parameters and canonical body."""
    digest = hashlib.sha256()
    for part in (method.upper(), path, json.dumps(sorted(query))):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(canonical_body(content_type, body))
    return digest.hexdigest()


def expiry(retention: timedelta | None) -> datetime | None:
    """When a record made now may be purged (``None``: kept for ever)."""
    return None if retention is None else utcnow() + retention


def _row_values(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": new_id(),
        "created_at": utcnow(),
        "caller": attempt.caller,
        "key": attempt.key,
        "fingerprint": attempt.fingerprint,
        "method": attempt.method,
        "path": attempt.path[:500],
        "expires_at": attempt.expires_at,
    }


_COLUMNS = ("id", "created_at", "caller", "key", "fingerprint", "method", "path", "expires_at")


def _postgresql_claim() -> Any:
    """``INSERT ... SELECT ... WHERE pg_try_advisory_xact_lock(:lock_key)``, built once with bind
    parameters (SQLAlchemy caches its compiled form; literals would be rebuilt every time)."""
    lock = sa.func.pg_try_advisory_xact_lock(sa.bindparam("lock_key", type_=sa.BigInteger))
    held = sa.select(lock.label("locked")).cte("idempotency_lock")
    source = sa.select(
        *(sa.bindparam(name, type_=TABLE.c[name].type).label(name) for name in _COLUMNS)
    ).where(held.c.locked)
    insert = postgresql.insert(TABLE).from_select(list(_COLUMNS), source)
    return insert.on_conflict_do_nothing(index_elements=["caller", "key"]).returning(TABLE.c.id)


_POSTGRESQL_CLAIM = _postgresql_claim()


async def _try_insert(session: AsyncSession, attempt: Attempt) -> uuid.UUID | None:
    """Insert the record unless the key is taken (or, on PostgreSQL, held by a running request)."""
    values = _row_values(attempt)
    if session.get_bind().dialect.name == "postgresql":
        inserted = await session.execute(
            _POSTGRESQL_CLAIM, {**values, "lock_key": attempt.lock_key}
        )
        return inserted.scalar_one_or_none()
    stmt = sqlite.insert(TABLE).values(values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["caller", "key"])
    inserted = await session.execute(stmt.returning(TABLE.c.id))
    return inserted.scalar_one_or_none()


async def _find(session: AsyncSession, caller: str, key: str) -> Any:
    query = sa.select(
        TABLE.c.id,
        TABLE.c.fingerprint,
        TABLE.c.response_status,
        TABLE.c.response_headers,
        TABLE.c.response_body,
        TABLE.c.expires_at,
    ).where(TABLE.c.caller == caller, TABLE.c.key == key)
    return (await session.execute(query)).one_or_none()


async def claim(session: AsyncSession, attempt: Attempt, *, wait_seconds: float) -> uuid.UUID:
    """Take the key for this request and return the record's id, or raise what to answer.

    Raises :class:`Replay` when the same request was answered before, ``IdempotencyKeyReused``
    when the key was used for a different request, ``IdempotencyRequestInProgress`` when another
    request with the key is still running after ``wait_seconds``.
    """
    deadline = time.monotonic() + wait_seconds
    pause = _FIRST_POLL_SECONDS
    while True:
        record_id = await _try_insert(session, attempt)
        if record_id is not None:
            return record_id
        found = await _find(session, attempt.caller, attempt.key)
        if found is not None and found.expires_at is not None and found.expires_at <= utcnow():
            await session.execute(sa.delete(TABLE).where(TABLE.c.id == found.id))
            continue
        if found is not None and found.fingerprint != attempt.fingerprint:
            raise IdempotencyKeyReused(
                "This idempotency key was used for a different request; use a new key.",
                detail_zh="该幂等键已用于另一个不同的请求，请使用新的幂等键。",
            )
        if found is not None and found.response_status is not None:
            headers = [(str(name), str(value)) for name, value in found.response_headers or []]
            raise Replay(StoredAnswer(found.response_status, headers, found.response_body or b""))
        if time.monotonic() >= deadline:
            raise IdempotencyRequestInProgress(
                "A request with this idempotency key is still being processed; retry later.",
                detail_zh="使用该幂等键的请求仍在处理中，请稍后重试。",
                headers={"Retry-After": "1"},
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, _MAX_POLL_SECONDS)


#: Keeps the answer with the claimed record (built once: a request only binds values).
_COMPLETE = (
    sa.update(TABLE)
    .where(TABLE.c.id == sa.bindparam("record_id"))
    .values(
        response_status=sa.bindparam("status", type_=TABLE.c.response_status.type),
        response_headers=sa.bindparam("headers", type_=TABLE.c.response_headers.type),
        response_body=sa.bindparam("body", type_=TABLE.c.response_body.type),
        completed_at=sa.bindparam("completed_at", type_=TABLE.c.completed_at.type),
    )
)


async def complete(session: AsyncSession, record_id: uuid.UUID, answer: StoredAnswer) -> None:
    """Keep the answer with the claimed record, in the unit of work of the change."""
    values = {
        "record_id": record_id,
        "status": answer.status,
        "headers": [list(pair) for pair in answer.headers],
        "body": answer.body,
        "completed_at": utcnow(),
    }
    await session.execute(_COMPLETE, values)


async def store(session: AsyncSession, attempt: Attempt, answer: StoredAnswer) -> None:
    """Keep a refusal after the request's changes were rolled back (its claim went with them)."""
    values = {
        **_row_values(attempt),
        "response_status": answer.status,
        "response_headers": [list(pair) for pair in answer.headers],
        "response_body": answer.body,
        "completed_at": utcnow(),
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(TABLE).values(values).on_conflict_do_nothing(index_elements=["caller", "key"])
    await session.execute(stmt)


async def purge_expired(session: AsyncSession, *, batch: int = 1000) -> int:
    """Delete up to ``batch`` records whose retention has ended; returns how many."""
    due = (
        sa.select(TABLE.c.id)
        .where(TABLE.c.expires_at.is_not(None), TABLE.c.expires_at <= utcnow())
        .limit(batch)
        .scalar_subquery()
    )
    deleted = await session.execute(sa.delete(TABLE).where(TABLE.c.id.in_(due)))
    return int(deleted.rowcount)  # type: ignore[attr-defined]
