"""Replay dead-lettered events: back to pending, with a fresh retry schedule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ledger.sqltypes import utcnow
from providers.webhooks.endpoints import get_endpoint
from providers.webhooks.errors import EndpointDisabled, EventNotReplayable
from providers.webhooks.models import DEAD, PENDING, WebhookEvent

MAX_REPLAY_IDS = 1000


async def replay(
    session: AsyncSession,
    provider_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID] | None = None,
    *,
    now: datetime | None = None,
) -> list[uuid.UUID]:
    """Re-queue the given dead-lettered events of the provider (all of them when None).

    All or nothing: if any given id is not a dead-lettered event of this provider, nothing is
    replayed (the caller's unit of work rolls back on the error). For the provider's own
    operators and for admins alike; the caller decides who may.
    """
    endpoint = await get_endpoint(session, provider_id)
    if endpoint.disabled_at is not None:
        raise EndpointDisabled("The endpoint is disabled; save it again before replaying.")
    if event_ids is not None and not 0 < len(event_ids) <= MAX_REPLAY_IDS:
        raise EventNotReplayable(f"Give between 1 and {MAX_REPLAY_IDS} event ids.")
    statement = (
        update(WebhookEvent)
        .where(col(WebhookEvent.provider_id) == provider_id, col(WebhookEvent.status) == DEAD)
        .values(
            status=PENDING,
            round_attempt_count=0,
            next_attempt_at=now or utcnow(),
            dead_lettered_at=None,
            claimed_at=None,
            claimed_by=None,
        )
        .returning(col(WebhookEvent.id))
    )
    if event_ids is not None:
        statement = statement.where(col(WebhookEvent.id).in_(set(event_ids)))
    replayed = list((await session.scalars(statement)).all())
    if event_ids is not None and len(replayed) != len(set(event_ids)):
        missing = sorted(str(i) for i in set(event_ids) - set(replayed))
        raise EventNotReplayable(
            f"Not dead-lettered events of this provider: {', '.join(missing)}."
        )
    return replayed
