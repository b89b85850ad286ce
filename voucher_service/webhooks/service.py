"""What the provider and admin routes call: the engine's functions with the settings applied.

Functions take the session first and never commit; the request's unit of work does. Every change
(an endpoint saved, a secret rotated, a test event, a replay) records its audit event here, in the
same unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.webhooks import endpoints, metrics
from providers.webhooks.endpoints import EndpointSaved
from providers.webhooks.models import WebhookEndpoint
from providers.webhooks.replay import replay as replay_dead_letters
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.organisations.models import Organisation
from voucher_service.settings import Settings
from voucher_service.webhooks.runtime import secret_box, url_guard
from voucher_service.webhooks.schemas import EndpointState, ProviderDeliveryMetrics

Actor = AuditActor | Auditable
# Ids listed in a replay's audit event; beyond this only the count (keeps the event small).
AUDITED_IDS = 200


def _endpoint_summary(endpoint: WebhookEndpoint | None) -> dict[str, Any] | None:
    if endpoint is None:
        return None
    return {
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "disabled": endpoint.disabled_at is not None,
    }


async def set_endpoint(
    session: AsyncSession,
    settings: Settings,
    provider_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    *,
    actor: Actor,
) -> EndpointSaved:
    """PUT /v1/provider/webhook-endpoint: save URL and types; a new endpoint's secret once."""
    before = _endpoint_summary(await endpoints.find_endpoint(session, provider_id))
    saved = await endpoints.set_endpoint(
        session, secret_box(settings), url_guard(settings), provider_id, url, event_types
    )
    await audit.record(
        session,
        action="webhook.endpoint.created" if saved.secret else "webhook.endpoint.updated",
        actor=actor,
        target=("webhook_endpoint", saved.endpoint.id),
        before=before,
        after=_endpoint_summary(saved.endpoint),
    )
    return saved


async def rotate_secret(
    session: AsyncSession, settings: Settings, provider_id: uuid.UUID, *, actor: Actor
) -> tuple[str, WebhookEndpoint]:
    """A new ``whsec_`` secret; the old one keeps signing for the configured overlap."""
    overlap = timedelta(hours=settings.webhook_secret_overlap_hours)
    secret = await endpoints.rotate_secret(
        session, secret_box(settings), provider_id, overlap=overlap
    )
    endpoint = await endpoints.get_endpoint(session, provider_id)
    await audit.record(
        session,
        action="webhook.endpoint.secret_rotated",
        actor=actor,
        target=("webhook_endpoint", endpoint.id),
        after={"previous_valid_until": endpoint.previous_secret_expires_at},
    )
    return secret, endpoint


async def send_test_event(
    session: AsyncSession, provider_id: uuid.UUID, *, actor: Actor
) -> uuid.UUID:
    """Queue a ``webhook.test`` event; its attempts appear in the delivery log."""
    event_id = await endpoints.send_test_event(session, provider_id)
    await audit.record(
        session,
        action="webhook.test_event.queued",
        actor=actor,
        target=("webhook_event", event_id),
    )
    return event_id


async def replay(
    session: AsyncSession,
    provider_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID] | None,
    *,
    actor: Actor,
) -> list[uuid.UUID]:
    """Replay the provider's dead-lettered events (all of them when ``event_ids`` is None)."""
    replayed = await replay_dead_letters(session, provider_id, event_ids)
    await audit.record(
        session,
        action="webhook.events.replayed",
        actor=actor,
        target=("organisation", provider_id),
        after={
            "requested": "all dead letters" if event_ids is None else len(event_ids),
            "count": len(replayed),
            "event_ids": [str(i) for i in sorted(replayed)[:AUDITED_IDS]],
        },
    )
    return replayed


async def delivery_metrics(
    session: AsyncSession, provider_id: uuid.UUID | None = None
) -> list[metrics.ProviderDeliveryStats]:
    """Counts per state and oldest pending event, per provider (the engine's figures)."""
    return await metrics.delivery_stats(session, provider_id=provider_id)


async def provider_overview(
    session: AsyncSession, provider_id: uuid.UUID | None = None
) -> list[ProviderDeliveryMetrics]:
    """The admin view: every provider with events or an endpoint, its figures and endpoint."""
    stats = {s.provider_id: s for s in await delivery_metrics(session, provider_id)}
    query = select(WebhookEndpoint)
    if provider_id is not None:
        query = query.where(col(WebhookEndpoint.provider_id) == provider_id)
    hooks = {e.provider_id: e for e in (await session.scalars(query)).all()}
    ids = sorted(stats.keys() | hooks.keys())
    names = await _names(session, ids)
    now = utcnow()
    return [_overview(pid, names.get(pid, ""), stats.get(pid), hooks.get(pid), now) for pid in ids]


async def _names(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Organisation.id), col(Organisation.name)).where(col(Organisation.id).in_(ids))
    )
    return dict(rows.all())


def _overview(
    provider_id: uuid.UUID,
    name: str,
    stats: metrics.ProviderDeliveryStats | None,
    endpoint: WebhookEndpoint | None,
    now: datetime,
) -> ProviderDeliveryMetrics:
    stats = stats or metrics.ProviderDeliveryStats(provider_id)
    return ProviderDeliveryMetrics(
        provider_id=provider_id,
        provider_name=name,
        **stats.counts,
        oldest_pending_at=stats.oldest_pending_at,
        oldest_pending_age_seconds=stats.oldest_pending_age_seconds(now),
        endpoint=EndpointState(url=endpoint.url, disabled_at=endpoint.disabled_at)
        if endpoint
        else None,
    )
