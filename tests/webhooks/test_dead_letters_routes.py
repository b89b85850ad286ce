"""Through the API: a 410 becomes a notice; dead letters are listed and replayed, by the provider
and by the authority; nobody sees or replays another provider's events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from providers.webhooks.events import example_data
from providers.webhooks.outbox import emit
from providers.webhooks.schedule import RetryPolicy
from providers.webhooks.worker import DeliveryEngine
from tests.factories import audit_events, create_organisation
from tests.providers.webhooks.conftest import FakeClock
from tests.providers.webhooks.receiver import Answer, Receiver, running
from tests.webhooks.helpers import ENDPOINT, authority_user, operator_of, save_endpoint
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

EngineFactory = Callable[..., DeliveryEngine]
# Two attempts, then the dead-letter queue: the whole schedule in one clock step.
SHORT = RetryPolicy(delays=(timedelta(seconds=5),), random=lambda: 0.5)


@pytest.fixture(autouse=True)
def loopback(app: FastAPI) -> None:
    app.state.settings.webhook_allow_loopback = True


async def emit_events(database: Database, provider_id: uuid.UUID, count: int) -> list[str]:
    async with database.unit_of_work() as session:
        data = example_data("voucher.bound")
        return [str(emit(session, provider_id, "voucher.bound", data)) for _ in range(count)]


async def dead_letter_all(engine: DeliveryEngine, clock: FakeClock) -> None:
    await engine.run()
    clock.advance(timedelta(seconds=6))
    await engine.run()


async def test_gone_shows_up_as_a_notice_until_the_endpoint_is_saved_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_engine: EngineFactory,
) -> None:
    with running(Receiver(lambda _path, _n: Answer(410))) as receiver:
        _, headers = await operator_of(app, session)
        await save_endpoint(client, headers, receiver.url(), ["voucher.bound"])
        event_id = (await client.post(f"{ENDPOINT}/test", headers=headers)).json()["event_id"]
        await make_engine().run()

    notices = (await client.get("/v1/provider/webhook-notices", headers=headers)).json()["items"]
    [notice] = notices
    assert notice["kind"] == "endpoint_disabled" and notice["event_id"] == event_id
    assert "410" in notice["message"] and receiver.url() in notice["message_zh"]
    endpoint = (await client.get(ENDPOINT, headers=headers)).json()
    assert endpoint["disabled_at"] is not None and "410" in endpoint["disabled_reason"]
    refused = await client.post(f"{ENDPOINT}/test", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "webhook_endpoint_disabled")
    dead = await client.get("/v1/provider/webhook-events?status=dead", headers=headers)
    assert [e["id"] for e in dead.json()["items"]] == [event_id]

    await save_endpoint(client, headers, receiver.url(), ["voucher.bound"])
    assert (await client.get("/v1/provider/webhook-notices", headers=headers)).json()["items"] == []
    history = await client.get(
        "/v1/provider/webhook-notices?include_resolved=true", headers=headers
    )
    [resolved] = history.json()["items"]
    assert resolved["id"] == notice["id"] and resolved["resolved_at"] is not None


async def test_provider_replays_its_own_dead_letters_and_only_those(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    healthy = False

    def script(_path: str, _n: int) -> Answer:
        return Answer(204) if healthy else Answer(500)

    with running(Receiver(script)) as receiver:
        mine, headers = await operator_of(app, session)
        other, other_headers = await operator_of(app, session)
        for who in (headers, other_headers):
            await save_endpoint(client, who, receiver.url(), ["voucher.bound"])
        dead = await emit_events(database, mine.id, 3)
        [theirs] = await emit_events(database, other.id, 1)
        engine = make_engine(policy=SHORT)
        await dead_letter_all(engine, clock)
        listed = await client.get("/v1/provider/webhook-events?status=dead", headers=headers)
        assert sorted(e["id"] for e in listed.json()["items"]) == sorted(dead)

        # Another provider's event is "not found", whichever route names it (and audited).
        replay_theirs = {"event_ids": [str(uuid.uuid4()), dead[0], theirs]}
        for response in (
            await client.post(
                "/v1/provider/webhook-events/replay", json=replay_theirs, headers=headers
            ),
            await client.get(f"/v1/provider/webhook-events/{theirs}", headers=headers),
            await client.get(f"/v1/provider/webhook-deliveries?event_id={theirs}", headers=headers),
        ):
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
        missing = await client.get(f"/v1/provider/webhook-events/{uuid.uuid4()}", headers=headers)
        assert missing.json() | {"instance": None, "request_id": None} == (
            response.json() | {"instance": None, "request_id": None}
        )
        denied = await audit_events(database, "access.denied")
        assert [e.target_id for e in denied] == [theirs] * 3  # each of the three requests

        healthy = True
        one = await client.post(
            "/v1/provider/webhook-events/replay", json={"event_ids": [dead[0]]}, headers=headers
        )
        assert one.json()["replayed"] == [dead[0]]
        again = await client.post(
            "/v1/provider/webhook-events/replay", json={"event_ids": [dead[0]]}, headers=headers
        )
        assert (again.status_code, again.json()["code"]) == (409, "webhook_event_not_replayable")
        rest = await client.post("/v1/provider/webhook-events/replay", headers=headers)
        assert sorted(rest.json()["replayed"]) == sorted(dead[1:])
        await engine.run()

    delivered = await client.get("/v1/provider/webhook-events?status=delivered", headers=headers)
    assert sorted(e["id"] for e in delivered.json()["items"]) == sorted(dead)
    detail = (await client.get(f"/v1/provider/webhook-events/{dead[0]}", headers=headers)).json()
    assert (detail["attempt_count"], detail["payload"]["type"]) == (3, "voucher.bound")
    theirs_now = await client.get("/v1/provider/webhook-events?status=dead", headers=other_headers)
    assert [e["id"] for e in theirs_now.json()["items"]] == [theirs]  # untouched
    replays = await audit_events(database, "webhook.events.replayed")
    assert [e.target_id for e in replays] == [str(mine.id)] * 2


async def test_authority_reads_figures_and_replays_dead_letters(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    clock: FakeClock,
    make_engine: EngineFactory,
) -> None:
    with running(Receiver(lambda _path, _n: Answer(500))) as receiver:
        provider, headers = await operator_of(app, session)
        await save_endpoint(client, headers, receiver.url(), ["voucher.bound"])
        dead = await emit_events(database, provider.id, 2)
        engine = make_engine(policy=SHORT)
        await dead_letter_all(engine, clock)
    [waiting] = await emit_events(database, provider.id, 1)

    finance = await authority_user(app, session, Role.finance)
    figures = await client.get("/v1/admin/webhooks/metrics", headers=finance)
    [row] = [r for r in figures.json()["items"] if r["provider_id"] == str(provider.id)]
    assert (row["pending"], row["retrying"], row["delivered"], row["dead_lettered"]) == (1, 0, 0, 2)
    assert row["provider_name"] == provider.name and row["endpoint"]["url"] == receiver.url()
    assert row["oldest_pending_at"] is not None and row["oldest_pending_age_seconds"] >= 0

    base = f"/v1/admin/webhooks/providers/{provider.id}"
    listed = await client.get(f"{base}/events?status=dead", headers=finance)
    assert sorted(e["id"] for e in listed.json()["items"]) == sorted(dead)
    log = await client.get(f"{base}/deliveries?event_id={dead[0]}", headers=finance)
    assert [a["status_code"] for a in log.json()["items"]] == [500, 500]
    assert (await client.post(f"{base}/replay", headers=finance)).status_code == 403

    admin = await authority_user(app, session, Role.program_admin)
    replayed = await client.post(f"{base}/replay", json={"event_ids": [dead[1]]}, headers=admin)
    assert replayed.json()["replayed"] == [dead[1]]
    not_dead = await client.post(f"{base}/replay", json={"event_ids": [waiting]}, headers=admin)
    assert (not_dead.status_code, not_dead.json()["code"]) == (409, "webhook_event_not_replayable")
    [audited] = await audit_events(database, "webhook.events.replayed")
    assert (audited.role, audited.target_id) == ("program_admin", str(provider.id))
    assert dead[1] in (audited.after_json or "")

    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    not_a_provider = await client.get(
        f"/v1/admin/webhooks/providers/{enterprise.id}/events", headers=finance
    )
    assert (not_a_provider.status_code, not_a_provider.json()["code"]) == (404, "not_found")
