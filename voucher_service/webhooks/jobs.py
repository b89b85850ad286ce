"""The delivery job: a shared job, so every worker delivers and they split the work."""

from __future__ import annotations

import logging
from datetime import timedelta

from providers.webhooks.worker import DeliveryEngine
from voucher_service.webhooks.runtime import delivery_config, secret_box, url_guard
from voucher_service.worker.registry import JobContext, job

logger = logging.getLogger("voucher_service.webhooks")

DELIVERY_INTERVAL = timedelta(seconds=0.5)
# A run ends when nothing is due or after this long, so the job's bookkeeping and a stop request
# are seen at least this often even under a steady stream of events.
RUN_BUDGET_SECONDS = 10.0


@job("webhooks.deliver", every=DELIVERY_INTERVAL, exclusive=False)
async def deliver_webhooks(context: JobContext) -> None:
    """Deliver due webhook events (claims rows with FOR UPDATE SKIP LOCKED)."""
    engine = DeliveryEngine(
        context.database.unit_of_work,
        secret_box(context.settings),
        url_guard(context.settings),
        worker_id=context.worker_id,
        config=delivery_config(context.settings),
    )
    stats = await engine.run(budget=RUN_BUDGET_SECONDS)
    if stats.attempts or stats.skipped or stats.dead_on_claim or stats.lost:
        logger.info(
            "webhook deliveries",
            extra={
                "attempts": stats.attempts,
                "delivered": stats.delivered,
                "failed": stats.failed,
                "gone": stats.gone,
                "skipped": stats.skipped,
                "dead_on_claim": stats.dead_on_claim,
                "lost": stats.lost,
            },
        )
