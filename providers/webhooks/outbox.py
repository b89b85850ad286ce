"""The transactional outbox: events are rows written in the caller's unit of work.

``emit`` only adds one ``webhook_event`` row to the caller's session; it reads nothing and sends
nothing. The row is inserted with the caller's next flush and becomes visible to the delivery
worker when, and only when, the caller's transaction commits, so a rolled-back change never emits
and a committed one always does. The request that emits pays exactly one INSERT (batched with
its other inserts by the ORM), whatever the provider's endpoint or subscription: those are looked
at by the worker.

Order: ids are UUIDv7 and ``timestamp`` has microseconds, so a provider's events are ordered by
creation; the worker tries due events oldest first. Delivery itself is concurrent and retried, so
receivers order by ``timestamp`` (or by fetching the current state), as with any webhook source.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import new_id, utcnow
from providers.webhooks.errors import UnknownEventType
from providers.webhooks.events import EVENT_TYPES, EventData, encode_event
from providers.webhooks.models import PENDING, WebhookEvent


def emit(
    session: AsyncSession,
    provider_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any] | EventData,
    *,
    occurred_at: datetime | None = None,
) -> uuid.UUID:
    """Queue ``event_type`` for ``provider_id`` in the caller's transaction; returns its id."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(f"Unknown event type {event_type!r}.")
    return queue_event(session, provider_id, event_type, data, occurred_at=occurred_at)


def queue_event(
    session: AsyncSession,
    provider_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any] | EventData,
    *,
    occurred_at: datetime | None = None,
) -> uuid.UUID:
    """Add the outbox row (any type, the test event included); the one insert of ``emit``."""
    moment = occurred_at or utcnow()
    event = WebhookEvent(
        id=new_id(),
        created_at=moment,
        provider_id=provider_id,
        event_type=event_type,
        payload=encode_event(event_type, data, moment),
        status=PENDING,
        next_attempt_at=moment,
    )
    session.add(event)
    return event.id
