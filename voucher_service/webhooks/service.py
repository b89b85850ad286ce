"""What the provider and admin routes call: the engine's functions with the settings applied.

Functions take the session first and never commit; the request's unit of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from providers.webhooks import endpoints, metrics
from providers.webhooks.endpoints import EndpointSaved
from providers.webhooks.replay import replay as replay_dead_letters
from voucher_service.settings import Settings
from voucher_service.webhooks.runtime import secret_box, url_guard


async def set_endpoint(
    session: AsyncSession,
    settings: Settings,
    provider_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
) -> EndpointSaved:
    """PUT /v1/provider/webhook-endpoint: save URL and types; a new endpoint's secret once."""
    return await endpoints.set_endpoint(
        session, secret_box(settings), url_guard(settings), provider_id, url, event_types
    )


async def rotate_secret(session: AsyncSession, settings: Settings, provider_id: uuid.UUID) -> str:
    """A new ``whsec_`` secret; the old one keeps signing for the configured overlap."""
    overlap = timedelta(hours=settings.webhook_secret_overlap_hours)
    return await endpoints.rotate_secret(
        session, secret_box(settings), provider_id, overlap=overlap
    )


async def send_test_event(session: AsyncSession, provider_id: uuid.UUID) -> uuid.UUID:
    """Queue a ``webhook.test`` event; its attempts appear in the delivery log."""
    return await endpoints.send_test_event(session, provider_id)


async def replay(
    session: AsyncSession, provider_id: uuid.UUID, event_ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID]:
    """Replay the provider's dead-lettered events (all of them when ``event_ids`` is None)."""
    return await replay_dead_letters(session, provider_id, event_ids)


async def delivery_metrics(
    session: AsyncSession, provider_id: uuid.UUID | None = None
) -> list[metrics.ProviderDeliveryStats]:
    """The admin view of delivery: counts per state and oldest pending event, per provider."""
    return await metrics.delivery_stats(session, provider_id=provider_id)
