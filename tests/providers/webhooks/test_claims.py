"""Leases: a lost attempt is retried and logged; a late result cannot overwrite a newer claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from providers.webhooks.claims import claim_due, record_results
from providers.webhooks.delivery import AttemptResult
from providers.webhooks.models import DELIVERED, FAILED, OK, PENDING, WebhookAttempt
from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard
from providers.webhooks.worker import DeliveryEngine
from tests.providers.webhooks.conftest import FakeClock, create_endpoint, no_jitter
from tests.providers.webhooks.receiver import Receiver
from tests.providers.webhooks.test_delivery import attempts, emit_events, event
from voucher_service.db import Database

EngineFactory = Callable[..., DeliveryEngine]
LEASE = timedelta(seconds=7)


async def claim(database: Database, box: SecretBox, clock: FakeClock, worker: str) -> list:  # type: ignore[type-arg]
    async with database.unit_of_work() as session:
        batch = await claim_due(
            session, box, limit=10, now=clock.now, lease_until=clock.now + LEASE, worker_id=worker
        )
    return batch.claimed


async def test_a_claimed_event_is_not_claimed_again_until_its_lease_ends(
    database: Database, box: SecretBox, guard: UrlGuard, clock: FakeClock, receiver: Receiver
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
    [event_id] = await emit_events(database, provider_id)
    [first] = await claim(database, box, clock, "worker-a")
    assert first.attempt_count == 1
    assert await claim(database, box, clock, "worker-b") == []
    clock.advance(LEASE - timedelta(milliseconds=1))
    assert await claim(database, box, clock, "worker-b") == []
    clock.advance(timedelta(milliseconds=1))
    [second] = await claim(database, box, clock, "worker-b")
    assert (second.event_id, second.attempt_count) == (event_id, 2)


async def test_an_attempt_lost_with_its_worker_is_logged_and_sent_again(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
    [event_id] = await emit_events(database, provider_id)
    await claim(database, box, clock, "crashed-worker")  # ...and never came back
    engine = make_engine(attempt_timeout=2.0, lease_margin=5.0)
    assert (await engine.run()).attempts == 0  # still leased
    clock.advance(LEASE)
    stats = await engine.run()
    assert (stats.lost, stats.delivered) == (1, 1)
    log = await attempts(database, event_id)
    assert [(a.attempt_number, a.outcome, a.worker_id) for a in log] == [
        (1, "lost", "crashed-worker"),
        (2, "delivered", "test-worker"),
    ]
    assert (await event(database, event_id)).status == DELIVERED


async def test_a_result_after_the_lease_was_taken_over_changes_nothing(
    database: Database, box: SecretBox, guard: UrlGuard, clock: FakeClock, receiver: Receiver
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
    [event_id] = await emit_events(database, provider_id)
    [slow] = await claim(database, box, clock, "slow-worker")
    clock.advance(LEASE)
    [fresh] = await claim(database, box, clock, "fresh-worker")

    late = AttemptResult(slow, clock.now, clock.now, OK, 204, 10)
    async with database.unit_of_work() as session:
        await record_results(session, [late], no_jitter(), worker_id="slow-worker")
    row = await event(database, event_id)
    assert (row.status, row.claimed_by, row.attempt_count) == (PENDING, "fresh-worker", 2)

    failed = AttemptResult(fresh, clock.now, clock.now, FAILED, 500, 10, "HTTP 500")
    async with database.unit_of_work() as session:
        await record_results(session, [failed], no_jitter(), worker_id="fresh-worker")
    row = await event(database, event_id)
    # The taken-over attempt counted as the first, so this failed second one waits 5 minutes.
    assert (row.status, row.claimed_at, row.next_attempt_at) == (
        PENDING,
        None,
        clock.now + timedelta(minutes=5),
    )
    async with database.unit_of_work(readonly=True) as session:
        logged = (
            await session.execute(
                select(
                    WebhookAttempt.attempt_number, WebhookAttempt.outcome, WebhookAttempt.worker_id
                )
            )
        ).all()
    # Both attempts happened, so both are in the log, beside the takeover's "lost" entry.
    assert sorted(logged) == [
        (1, "delivered", "slow-worker"),
        (1, "lost", "slow-worker"),
        (2, "failed", "fresh-worker"),
    ]
