"""Receiving a callback: verify, check freshness, store once, dispatch, answer retries the same.

Order of checks: the signature first (nothing unauthenticated is even parsed), then the envelope,
the timestamp, the type and its scope, the data. Then the row is inserted with
``ON CONFLICT DO NOTHING`` on ``(provider_id, callback_id)``:

- inserted: this is the first time; the handler runs and its outcome is stored with the row;
- conflict: the id was seen before. Same content: the stored outcome is returned (nothing runs
  again). Different content: CallbackIdReused. On PostgreSQL a concurrent duplicate waits on the
  unique index until the first transaction ends, so a handler never runs twice for one id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import new_id
from providers.callbacks.envelope import (
    CallbackEnvelope,
    check_fresh,
    content_fingerprint,
    parse_envelope,
)
from providers.callbacks.errors import CallbackIdReused
from providers.callbacks.models import ProviderCallback
from providers.callbacks.registry import CallbackRegistry, ReceivedCallback, Registration
from providers.callbacks.signature import VerifiedSignature, verify_detached
from providers.clients.jwk import PublicJwk

DEFAULT_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Sender:
    """The authenticated API client sending the callback, and the keys it may sign with."""

    provider_id: uuid.UUID
    api_client_id: uuid.UUID
    scopes: frozenset[str]
    keys: Sequence[PublicJwk]


@dataclass(frozen=True)
class CallbackReceipt:
    """The stored callback, and whether this request was a retry of it."""

    record: ProviderCallback
    replayed: bool


async def receive(
    session: AsyncSession,
    registry: CallbackRegistry,
    sender: Sender,
    body: bytes,
    signature: str | None,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> CallbackReceipt:
    """Accept ``body`` from ``sender`` (or raise a CallbackError); the caller's unit commits."""
    verified = verify_detached(signature, body, sender.keys)
    envelope = parse_envelope(body)
    check_fresh(envelope, now, tolerance)
    registration = registry.get(envelope.type)
    registration.check_scope(sender.scopes)
    data = registration.parse(envelope.data)
    fingerprint = content_fingerprint(envelope)
    record_id = await _insert_if_absent(session, sender, envelope, body, verified, fingerprint, now)
    if record_id is None:
        existing = await _existing(session, sender.provider_id, envelope.id)
        if existing.content_sha256 != fingerprint:
            raise CallbackIdReused(
                f"The id {envelope.id!r} was already used for a callback with other content."
            )
        return CallbackReceipt(existing, replayed=True)
    record = await _existing(session, sender.provider_id, envelope.id)
    await _dispatch(session, registration, record, sender, verified, data)
    return CallbackReceipt(record, replayed=False)


async def _dispatch(
    session: AsyncSession,
    registration: Registration[Any],
    record: ProviderCallback,
    sender: Sender,
    verified: VerifiedSignature,
    data: BaseModel,
) -> None:
    """Run the type's handler on the newly stored callback and keep what it answers."""
    callback = ReceivedCallback(
        receipt_id=record.id,
        provider_id=sender.provider_id,
        api_client_id=sender.api_client_id,
        callback_id=record.callback_id,
        type=record.callback_type,
        sent_at=record.sent_at,
        key_id=verified.key_id,
        data=data,
    )
    record.outcome = dict(await registration.handler(session, callback))
    await session.flush()


async def _insert_if_absent(
    session: AsyncSession,
    sender: Sender,
    envelope: CallbackEnvelope,
    body: bytes,
    verified: VerifiedSignature,
    fingerprint: str,
    now: datetime,
) -> uuid.UUID | None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {
        "id": new_id(),
        "created_at": now,
        "provider_id": sender.provider_id,
        "api_client_id": sender.api_client_id,
        "callback_id": envelope.id,
        "callback_type": envelope.type,
        "sent_at": envelope.timestamp,
        "content_sha256": fingerprint,
        "body": body.decode(),
        "signature": verified.signature,
        "signing_key": verified.key.to_json(),
    }
    statement = (
        insert(ProviderCallback)
        .values(row)
        .on_conflict_do_nothing(index_elements=["provider_id", "callback_id"])
        .returning(col(ProviderCallback.id))
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _existing(
    session: AsyncSession, provider_id: uuid.UUID, callback_id: str
) -> ProviderCallback:
    query = select(ProviderCallback).where(
        col(ProviderCallback.provider_id) == provider_id,
        col(ProviderCallback.callback_id) == callback_id,
    )
    return (await session.scalars(query)).one()
