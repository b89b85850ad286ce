"""What was sent: a provider's events and its delivery log (every attempt).

These build the queries; the HTTP layer pages them with the keyset paginator (newest first by
UUIDv7 id), so each page is one index range scan however deep.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select

from providers.webhooks.models import WebhookAttempt, WebhookEvent


def events_query(provider_id: uuid.UUID, *, status: str | None = None) -> Select[Any]:
    """The provider's events, optionally only those in ``status`` (``dead`` to replay)."""
    query = select(WebhookEvent).where(col(WebhookEvent.provider_id) == provider_id)
    if status is not None:
        query = query.where(col(WebhookEvent.status) == status)
    return query


def attempts_query(provider_id: uuid.UUID, *, event_id: uuid.UUID | None = None) -> Select[Any]:
    """The provider's delivery log: time, status code, latency, error and next retry of each."""
    query = select(WebhookAttempt).where(col(WebhookAttempt.provider_id) == provider_id)
    if event_id is not None:
        query = query.where(col(WebhookAttempt.event_id) == event_id)
    return query
