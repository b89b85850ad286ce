"""What was sent: a provider's events, its delivery log (every attempt) and its notices.

These build the queries; the HTTP layer pages them with the keyset paginator (newest first by
UUIDv7 id), so each page is one index range scan however deep.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.webhooks.models import WebhookAttempt, WebhookEvent, WebhookNotice


def events_query(
    provider_id: uuid.UUID, *, status: str | None = None, event_type: str | None = None
) -> Select[Any]:
    """The provider's events, optionally only those in ``status`` (``dead`` to replay)."""
    query = select(WebhookEvent).where(col(WebhookEvent.provider_id) == provider_id)
    if status is not None:
        query = query.where(col(WebhookEvent.status) == status)
    if event_type is not None:
        query = query.where(col(WebhookEvent.event_type) == event_type)
    return query


def attempts_query(
    provider_id: uuid.UUID, *, event_id: uuid.UUID | None = None, event_type: str | None = None
) -> Select[Any]:
    """The provider's delivery log: time, status code, latency, error and next retry of each."""
    query = select(WebhookAttempt).where(col(WebhookAttempt.provider_id) == provider_id)
    if event_id is not None:
        query = query.where(col(WebhookAttempt.event_id) == event_id)
    if event_type is not None:
        query = query.join(WebhookEvent, col(WebhookEvent.id) == col(WebhookAttempt.event_id))
        query = query.where(col(WebhookEvent.event_type) == event_type)
    return query


def notices_query(provider_id: uuid.UUID, *, include_resolved: bool = False) -> Select[Any]:
    """The provider's notices (unresolved only unless asked)."""
    query = select(WebhookNotice).where(col(WebhookNotice.provider_id) == provider_id)
    if not include_resolved:
        query = query.where(col(WebhookNotice.resolved_at).is_(None))
    return query


async def event_types_of(
    session: AsyncSession, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The type of each event in ``event_ids`` (one query for a page of attempts)."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(col(WebhookEvent.id), col(WebhookEvent.event_type)).where(
            col(WebhookEvent.id).in_(set(event_ids))
        )
    )
    return dict(rows.all())
