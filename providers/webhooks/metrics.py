"""Delivery metrics per provider, from the database (so every API replica reports the same).

States: ``pending`` (never attempted yet, or its first attempt in flight), ``retrying`` (pending
after at least one failed attempt, or replayed), ``delivered``, ``dead_lettered``; and the age of
the oldest event not yet delivered nor dead-lettered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from providers.webhooks.models import DEAD, DELIVERED, PENDING, WebhookEvent

STATES = ("pending", "retrying", "delivered", "dead_lettered")


@dataclass
class ProviderDeliveryStats:
    """Counts of a provider's events by state, and its oldest undelivered event."""

    provider_id: uuid.UUID
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    oldest_pending_at: datetime | None = None

    def oldest_pending_age_seconds(self, now: datetime) -> float:
        """How long the oldest undelivered event has waited (0 when there is none)."""
        if self.oldest_pending_at is None:
            return 0.0
        return max((now - self.oldest_pending_at).total_seconds(), 0.0)


async def delivery_stats(
    session: AsyncSession, *, provider_id: uuid.UUID | None = None
) -> list[ProviderDeliveryStats]:
    """Per-provider delivery counts (one provider's when given), ordered by provider id."""
    event = WebhookEvent
    state = case(
        (col(event.status) == DELIVERED, "delivered"),
        (col(event.status) == DEAD, "dead_lettered"),
        (col(event.last_attempt_at).is_not(None), "retrying"),
        else_="pending",
    ).label("state")
    query = (
        select(col(event.provider_id), state, func.count(), func.min(col(event.created_at)))
        .where(col(event.status).in_([PENDING, DELIVERED, DEAD]))
        .group_by(col(event.provider_id), state)
    )
    if provider_id is not None:
        query = query.where(col(event.provider_id) == provider_id)
    stats: dict[uuid.UUID, ProviderDeliveryStats] = {}
    for pid, state_name, count, oldest in (await session.execute(query)).all():
        entry = stats.setdefault(pid, ProviderDeliveryStats(pid))
        entry.counts[state_name] = int(count)
        if state_name in ("pending", "retrying"):
            if entry.oldest_pending_at is None or oldest < entry.oldest_pending_at:
                entry.oldest_pending_at = oldest
    return [stats[pid] for pid in sorted(stats)]


class DeliveryStatsCollector(Collector):
    """Prometheus gauges for one snapshot of :func:`delivery_stats`."""

    def __init__(self, stats: Sequence[ProviderDeliveryStats], now: datetime) -> None:
        self._stats = stats
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        events = GaugeMetricFamily(
            "voucher_webhook_events",
            "Webhook events per provider and delivery state",
            labels=["provider_id", "state"],
        )
        oldest = GaugeMetricFamily(
            "voucher_webhook_oldest_pending_age_seconds",
            "Age of the provider's oldest event not yet delivered nor dead-lettered",
            labels=["provider_id"],
        )
        for entry in self._stats:
            for state_name in STATES:
                events.add_metric([str(entry.provider_id), state_name], entry.counts[state_name])
            oldest.add_metric([str(entry.provider_id)], entry.oldest_pending_age_seconds(self._now))
        yield events
        yield oldest
