"""``/metrics`` in the Prometheus text format: this process's metrics and webhook delivery.

The webhook figures come from the database at scrape time, so every API replica reports the
same cluster-wide numbers whichever worker did the delivering. Not in the OpenAPI; expose it to
the monitoring network only (the reverse proxy should not route it from outside).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from ledger.sqltypes import utcnow
from providers.webhooks.metrics import DeliveryStatsCollector, delivery_stats
from voucher_service.dependencies import SessionDep

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(session: SessionDep) -> Response:
    """Process metrics plus webhook delivery gauges per provider."""
    stats = await delivery_stats(session)
    webhooks = CollectorRegistry(auto_describe=False)
    webhooks.register(DeliveryStatsCollector(stats, utcnow()))
    body = generate_latest(REGISTRY) + generate_latest(webhooks)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
