"""The delivery engine against a real receiver on 127.0.0.1, with the retry clock injected."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from standardwebhooks import Webhook

from providers.webhooks.endpoints import list_notices, rotate_secret, set_endpoint
from providers.webhooks.events import EVENT_TYPES, example_data
from providers.webhooks.models import (
    DEAD,
    DELIVERED,
    PENDING,
    SKIPPED,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from providers.webhooks.outbox import emit
from providers.webhooks.replay import replay
from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard
from providers.webhooks.worker import DeliveryEngine
from tests.providers.webhooks.conftest import FakeClock, create_endpoint, new_provider
from tests.providers.webhooks.receiver import Answer, Receiver, running
from voucher_service.db import Database

EngineFactory = Callable[..., DeliveryEngine]
S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


async def emit_events(
    database: Database,
    provider_id: uuid.UUID,
    count: int = 1,
    event_type: str = "redemption.captured",
) -> list[uuid.UUID]:
    async with database.unit_of_work() as session:
        return [
            emit(session, provider_id, event_type, example_data(event_type)) for _ in range(count)
        ]


async def event(database: Database, event_id: uuid.UUID) -> WebhookEvent:
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WebhookEvent, event_id)
    assert row is not None
    return row


async def attempts(database: Database, event_id: uuid.UUID) -> list[WebhookAttempt]:
    async with database.unit_of_work(readonly=True) as session:
        query = select(WebhookAttempt).where(WebhookAttempt.event_id == event_id)
        return list((await session.scalars(query.order_by(WebhookAttempt.id))).all())


async def test_delivers_signed_standard_webhooks(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    provider_id, saved = await create_endpoint(database, box, guard, receiver.url())
    [event_id] = await emit_events(database, provider_id)

    stats = await make_engine().run()

    assert (stats.attempts, stats.delivered) == (1, 1)
    [request] = receiver.received
    assert request.webhook_id == str(event_id)
    assert saved.secret is not None
    payload = Webhook(saved.secret).verify(request.body, request.headers)
    assert payload["type"] == "redemption.captured"
    assert payload["data"]["order_id"] == "INV-2026-000123"
    row = await event(database, event_id)
    assert (row.status, row.attempt_count, row.claimed_at) == (DELIVERED, 1, None)
    [attempt] = await attempts(database, event_id)
    assert (attempt.outcome, attempt.status_code, attempt.next_attempt_at) == (
        "delivered",
        204,
        None,
    )
    assert attempt.latency_ms is not None and attempt.worker_id == "test-worker"


async def test_fails_first_attempts_then_succeeds_on_schedule(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    def script(_path: str, n: int) -> Answer:
        return Answer(500, body=b"database down") if n < 2 else Answer(200)

    with running(Receiver(script)) as receiver:
        provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
        [event_id] = await emit_events(database, provider_id)
        engine = make_engine()
        await engine.run()
        row = await event(database, event_id)
        assert (row.status, row.next_attempt_at) == (PENDING, clock.now + 5 * S)

        await engine.run()  # not due yet: nothing is sent
        assert len(receiver.received) == 1

        clock.advance(5 * S)
        await engine.run()
        assert (await event(database, event_id)).next_attempt_at == clock.now + 5 * M
        clock.advance(5 * M)
        await engine.run()

    assert (await event(database, event_id)).status == DELIVERED
    log = await attempts(database, event_id)
    assert [(a.attempt_number, a.outcome, a.status_code) for a in log] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "delivered", 200),
    ]
    assert log[0].error == "HTTP 500: database down"
    assert [a.next_attempt_at - a.created_at for a in log[:2]] == [5 * S, 5 * M]  # type: ignore[operator]
    assert len({r.webhook_id for r in receiver.received}) == 1  # same id on every retry


async def test_dead_letters_after_the_tenth_attempt_and_replays(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    healthy = False

    def script(_path: str, _n: int) -> Answer:
        return Answer(204) if healthy else Answer(503)

    with running(Receiver(script)) as receiver:
        provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
        [event_id] = await emit_events(database, provider_id)
        engine = make_engine()
        waits = []
        for _ in range(10):
            await engine.run()
            row = await event(database, event_id)
            if row.next_attempt_at is not None:
                waits.append(row.next_attempt_at - clock.now)
                clock.advance_to(row.next_attempt_at)
        assert waits == [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H]
        row = await event(database, event_id)
        assert (row.status, row.attempt_count, row.dead_lettered_at) == (DEAD, 10, clock.now)
        clock.advance(48 * H)
        await engine.run()
        assert len(receiver.received) == 10  # dead letters are left alone

        healthy = True
        async with database.unit_of_work() as session:
            assert await replay(session, provider_id, [event_id], now=clock.now) == [event_id]
        await engine.run()

    row = await event(database, event_id)
    assert (row.status, row.attempt_count, row.round_attempt_count) == (DELIVERED, 11, 1)
    assert len(receiver.received) == 11


async def test_gone_disables_the_endpoint_and_tells_the_operators(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    gone = True

    def script(_path: str, _n: int) -> Answer:
        return Answer(410) if gone else Answer(204)

    with running(Receiver(script)) as receiver:
        provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
        [first] = await emit_events(database, provider_id)
        engine = make_engine()
        await engine.run()
        [second] = await emit_events(database, provider_id)
        stats = await engine.run()
        assert (stats.attempts, stats.dead_on_claim) == (0, 1)  # not even tried
        assert len(receiver.received) == 1

        async with database.unit_of_work(readonly=True) as session:
            endpoint = (await session.scalars(select(WebhookEndpoint))).one()
            [notice] = await list_notices(session, provider_id)
        assert endpoint.disabled_at is not None and "410" in (endpoint.disabled_reason or "")
        assert notice.event_id == first
        assert [(await event(database, e)).status for e in (first, second)] == [DEAD, DEAD]
        assert (await attempts(database, first))[0].outcome == "gone"

        gone = False
        async with database.unit_of_work() as session:
            await set_endpoint(session, box, guard, provider_id, receiver.url(), list(EVENT_TYPES))
            assert sorted(await replay(session, provider_id, now=clock.now)) == [first, second]
        await engine.run()
    assert [(await event(database, e)).status for e in (first, second)] == [DELIVERED, DELIVERED]


async def test_retry_after_is_honoured(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    def script(_path: str, n: int) -> Answer:
        return Answer(429, {"retry-after": "120"}) if n == 0 else Answer(204)

    with running(Receiver(script)) as receiver:
        provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
        [event_id] = await emit_events(database, provider_id)
        engine = make_engine()
        await engine.run()
        assert (await event(database, event_id)).next_attempt_at == clock.now + 120 * S
        clock.advance(5 * S)  # the schedule alone would retry now
        await engine.run()
        assert len(receiver.received) == 1
        clock.advance(115 * S)
        await engine.run()
    assert (await event(database, event_id)).status == DELIVERED


async def test_a_hanging_endpoint_times_out_without_holding_up_others(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    def script(path: str, _n: int) -> Answer:
        return Answer(204, delay=30) if path == "/hang" else Answer(204)

    with running(Receiver(script)) as receiver:
        slow_provider, _ = await create_endpoint(database, box, guard, receiver.url("/hang"))
        fast_provider, _ = await create_endpoint(database, box, guard, receiver.url("/fast"))
        [slow] = await emit_events(database, slow_provider)
        fast = await emit_events(database, fast_provider, 5)
        started = time.monotonic()
        await make_engine(attempt_timeout=0.5).run()
        elapsed = time.monotonic() - started
        fast_done = max(r.finished for r in receiver.for_path("/fast"))

    assert elapsed < 5
    assert fast_done - started < 0.5  # the fast ones did not wait for the slow one
    row = await event(database, slow)
    assert (row.status, row.next_attempt_at) == (PENDING, clock.now + 5 * S)
    [attempt] = await attempts(database, slow)
    assert attempt.status_code is None and (attempt.error or "").startswith("timeout")
    assert [(await event(database, e)).status for e in fast] == [DELIVERED] * 5


async def test_redirects_are_not_followed_and_count_as_failures(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    def script(path: str, _n: int) -> Answer:
        target = "http://169.254.169.254/latest/meta-data/"
        return Answer(307, {"location": target}) if path == "/moved" else Answer(204)

    with running(Receiver(script)) as receiver:
        provider_id, _ = await create_endpoint(database, box, guard, receiver.url("/moved"))
        [event_id] = await emit_events(database, provider_id)
        await make_engine().run()
    assert [r.path for r in receiver.received] == ["/moved"]
    [attempt] = await attempts(database, event_id)
    assert (attempt.outcome, attempt.status_code) == ("failed", 307)
    assert "169.254.169.254" in (attempt.error or "") and "not followed" in (attempt.error or "")
    assert (await event(database, event_id)).next_attempt_at == clock.now + 5 * S


async def test_an_address_refused_at_delivery_is_a_failed_attempt(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine: EngineFactory,
    settings: object,
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, receiver.url())
    [event_id] = await emit_events(database, provider_id)
    strict = UrlGuard(require_https=False, allow_loopback=False)
    engine = DeliveryEngine(
        database.unit_of_work, box, strict, worker_id="w", config=make_engine().config
    )
    await engine.run()
    assert receiver.received == []
    [attempt] = await attempts(database, event_id)
    assert attempt.outcome == "failed"
    assert (attempt.error or "").startswith("webhook_url_refused: 127.0.0.1 resolves to 127.0.0.1")


async def test_unsubscribed_types_and_providers_without_endpoint_are_skipped(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    provider_id, _ = await create_endpoint(
        database, box, guard, receiver.url(), event_types=["voucher.bound"]
    )
    [unsubscribed] = await emit_events(database, provider_id, event_type="voucher.frozen")
    [subscribed] = await emit_events(database, provider_id, event_type="voucher.bound")
    without_endpoint = await new_provider(database)
    [nobody] = await emit_events(database, without_endpoint, event_type="voucher.bound")
    stats = await make_engine().run()
    assert (stats.delivered, stats.skipped) == (1, 2)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["voucher.bound"]
    statuses = [(await event(database, e)).status for e in (unsubscribed, subscribed, nobody)]
    assert statuses == [SKIPPED, DELIVERED, SKIPPED]


async def test_many_events_are_all_delivered_once(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    providers = [
        (await create_endpoint(database, box, guard, receiver.url(f"/p{n}")))[0] for n in range(3)
    ]
    ids = [e for p in providers for e in await emit_events(database, p, 40)]
    stats = await make_engine(concurrency=8).run()
    assert stats.delivered == len(ids) == 120
    assert sorted(r.webhook_id for r in receiver.received) == sorted(str(i) for i in ids)


async def test_after_a_rotation_both_secrets_verify_the_delivery(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    provider_id, saved = await create_endpoint(database, box, guard, receiver.url())
    async with database.unit_of_work() as session:
        new_secret = await rotate_secret(session, box, provider_id)
    await emit_events(database, provider_id)
    await make_engine().run()
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (new_secret, saved.secret):
        assert (
            Webhook(secret).verify(request.body, request.headers)["type"] == "redemption.captured"
        )  # type: ignore[arg-type]
