"""Replay of dead letters, the delivery log queries, and the delivery metrics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update

from providers.webhooks.endpoints import disable_endpoint
from providers.webhooks.errors import EndpointDisabled, EndpointNotFound, EventNotReplayable
from providers.webhooks.history import attempts_query, events_query
from providers.webhooks.metrics import DeliveryStatsCollector, delivery_stats
from providers.webhooks.models import DEAD, PENDING, WebhookAttempt, WebhookEvent
from providers.webhooks.replay import replay
from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard
from providers.webhooks.worker import DeliveryEngine
from tests.providers.webhooks.conftest import FakeClock, create_endpoint, new_provider
from tests.providers.webhooks.receiver import Answer, Receiver, running
from tests.providers.webhooks.test_delivery import emit_events, event
from voucher_service.db import Database
from voucher_service.kit.pagination import PageParams, decode_cursor, paginate

EngineFactory = Callable[..., DeliveryEngine]
URL = "http://127.0.0.1:9/hook"


async def dead_letter(database: Database, *event_ids: uuid.UUID) -> None:
    async with database.unit_of_work() as session:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(event_ids))  # type: ignore[attr-defined]
            .values(status=DEAD, next_attempt_at=None, attempt_count=10, round_attempt_count=10)
        )


async def test_replay_one_or_all_dead_letters(
    database: Database, box: SecretBox, guard: UrlGuard, clock: FakeClock
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, URL)
    dead = await emit_events(database, provider_id, 3)
    [alive] = await emit_events(database, provider_id)
    await dead_letter(database, *dead)

    async with database.unit_of_work() as session:
        assert await replay(session, provider_id, [dead[0]], now=clock.now) == [dead[0]]
    row = await event(database, dead[0])
    assert (row.status, row.round_attempt_count, row.attempt_count) == (PENDING, 0, 10)
    assert row.next_attempt_at == clock.now

    async with database.unit_of_work() as session:
        assert sorted(await replay(session, provider_id)) == sorted(dead[1:])
    assert (await event(database, alive)).status == PENDING


async def test_replay_is_all_or_nothing_and_scoped_to_the_provider(
    database: Database, box: SecretBox, guard: UrlGuard
) -> None:
    provider_id, _ = await create_endpoint(database, box, guard, URL)
    other_provider, _ = await create_endpoint(database, box, guard, URL)
    [mine] = await emit_events(database, provider_id)
    [theirs] = await emit_events(database, other_provider)
    [not_dead] = await emit_events(database, provider_id)
    await dead_letter(database, mine, theirs)

    for ids in ([mine, theirs], [mine, not_dead], [uuid.uuid4()]):
        with pytest.raises(EventNotReplayable):
            async with database.unit_of_work() as session:
                await replay(session, provider_id, ids)
    assert (await event(database, mine)).status == DEAD  # rolled back with the error
    with pytest.raises(EventNotReplayable, match="between 1 and"):
        async with database.unit_of_work() as session:
            await replay(session, provider_id, [])


async def test_replay_needs_an_enabled_endpoint(
    database: Database, box: SecretBox, guard: UrlGuard, clock: FakeClock
) -> None:
    without_endpoint = await new_provider(database)
    async with database.unit_of_work() as session:
        with pytest.raises(EndpointNotFound):
            await replay(session, without_endpoint)
    provider_id, _ = await create_endpoint(database, box, guard, URL)
    async with database.unit_of_work() as session:
        await disable_endpoint(
            session, provider_id, URL, reason="it answered 410 Gone", event_id=None, now=clock.now
        )
    async with database.unit_of_work() as session:
        with pytest.raises(EndpointDisabled):
            await replay(session, provider_id)


async def test_delivery_log_and_metrics(
    database: Database,
    box: SecretBox,
    guard: UrlGuard,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    def script(path: str, n: int) -> Answer:
        return Answer(500) if path == "/flaky" else Answer(204)

    with running(Receiver(script)) as receiver:
        good, _ = await create_endpoint(database, box, guard, receiver.url("/ok"))
        flaky, _ = await create_endpoint(database, box, guard, receiver.url("/flaky"))
        await emit_events(database, good, 3)
        flaky_ids = await emit_events(database, flaky, 2)
        await make_engine().run()
    [fresh] = await emit_events(database, flaky)  # never attempted yet
    await dead_letter(database, flaky_ids[0])

    async with database.unit_of_work(readonly=True) as session:
        stats = {s.provider_id: s for s in await delivery_stats(session)}
        assert stats[good].counts == {
            "pending": 0,
            "retrying": 0,
            "delivered": 3,
            "dead_lettered": 0,
        }
        assert stats[flaky].counts == {
            "pending": 1,
            "retrying": 1,
            "delivered": 0,
            "dead_lettered": 1,
        }
        oldest = (await session.get(WebhookEvent, flaky_ids[1])).created_at  # type: ignore[union-attr]
        assert stats[flaky].oldest_pending_at == oldest
        assert stats[good].oldest_pending_at is None
        [only] = await delivery_stats(session, provider_id=good)
        assert only.provider_id == good

        # The log pages newest first with the keyset paginator the routes will use.
        first_page, cursor = await paginate(
            session,
            attempts_query(flaky),
            WebhookAttempt.id,
            PageParams(1, None),  # type: ignore[arg-type]
        )
        assert cursor is not None
        second_page, end = await paginate(
            session,
            attempts_query(flaky),
            WebhookAttempt.id,
            PageParams(1, decode_cursor(cursor)),  # type: ignore[arg-type]
        )
        assert end is None and first_page[0].id > second_page[0].id
        rows = [*first_page, *second_page]
        assert sorted(r.outcome for r in rows) == ["failed", "failed"]
        assert all(
            r.status_code == 500 and r.next_attempt_at == clock.now + timedelta(seconds=5)
            for r in rows
        )
        dead = (await session.scalars(events_query(flaky, status=DEAD))).all()
        assert [e.id for e in dead] == [flaky_ids[0]]
        assert len((await session.scalars(events_query(flaky))).all()) == 3
        assert len((await session.scalars(attempts_query(flaky, event_id=fresh))).all()) == 0

    collector = DeliveryStatsCollector(list(stats.values()), clock.now)
    families = {f.name: f for f in collector.collect()}
    samples = {
        (s.labels["provider_id"], s.labels.get("state")): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[(str(flaky), "dead_lettered")] == 1
    assert samples[(str(good), "delivered")] == 3
    age = samples[(str(flaky), None)]
    assert age == (clock.now - oldest).total_seconds() > 0
