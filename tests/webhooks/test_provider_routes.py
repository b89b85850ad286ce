"""A provider sets its endpoint through the API; the worker's deliveries verify with its secret."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from providers.webhooks.worker import DeliveryEngine
from tests.factories import audit_events, provider_headers
from tests.providers.webhooks.receiver import Answer, Receiver, running
from tests.webhooks.helpers import ENDPOINT, operator_of, save_endpoint
from voucher_service.db import Database

EngineFactory = Callable[..., DeliveryEngine]


@pytest.fixture(autouse=True)
def loopback(app: FastAPI) -> None:
    """The receivers listen on 127.0.0.1: let the app's SSRF guard accept loopback."""
    app.state.settings.webhook_allow_loopback = True


async def test_secret_is_shown_once_and_signs_what_the_worker_sends(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    _, headers = await operator_of(app, session)
    body = {"url": receiver.url(), "events": ["settlement.paid", "voucher.bound"]}
    created = await client.put(ENDPOINT, json=body, headers=headers)
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert created.json()["events"] == ["voucher.bound", "settlement.paid"]  # published order

    again = await client.put(ENDPOINT, json=body | {"events": ["voucher.bound"]}, headers=headers)
    assert (again.status_code, again.json()["secret"]) == (200, None)
    shown = await client.get(ENDPOINT, headers=headers)
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert shown.json()["events"] == ["voucher.bound"]

    queued = await client.post(f"{ENDPOINT}/test", headers=headers)
    assert queued.status_code == 202
    await make_engine().run()
    [request] = receiver.received
    assert request.webhook_id == queued.json()["event_id"]
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

    actions = [e.action for e in await audit_events(database) if e.action.startswith("webhook.")]
    assert actions == [
        "webhook.endpoint.created",
        "webhook.endpoint.updated",
        "webhook.test_event.queued",
    ]
    assert all(secret not in (e.after_json or "") for e in await audit_events(database))


async def test_rotation_through_the_api_signs_with_both_secrets(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    receiver: Receiver,
    make_engine: EngineFactory,
) -> None:
    _, headers = await operator_of(app, session)
    old = (await save_endpoint(client, headers, receiver.url(), ["voucher.bound"]))["secret"]
    rotated = await client.post(f"{ENDPOINT}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated.json()["previous_secret_expires_at"] is not None

    await client.post(f"{ENDPOINT}/test", headers=headers)
    await make_engine().run()
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    tampered = request.body.replace(b"webhook.test", b"webhook.tset")
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(new).verify(tampered, request.headers)
    [audited] = await audit_events(database, "webhook.endpoint.secret_rotated")
    assert new not in (audited.after_json or "") and old not in (audited.after_json or "")


async def test_delivery_log_pages_and_filters(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_engine: EngineFactory,
) -> None:
    def script(_path: str, n: int) -> Answer:
        return Answer(503) if n == 0 else Answer(204)

    with running(Receiver(script)) as receiver:
        _, headers = await operator_of(app, session)
        await save_endpoint(client, headers, receiver.url(), ["voucher.bound"])
        first = (await client.post(f"{ENDPOINT}/test", headers=headers)).json()["event_id"]
        engine = make_engine()
        await engine.run()  # 503: retried in 5 s
        second = (await client.post(f"{ENDPOINT}/test", headers=headers)).json()["event_id"]
        await engine.run()

    page = await client.get("/v1/provider/webhook-deliveries?limit=1", headers=headers)
    assert page.status_code == 200
    [newest] = page.json()["items"]
    assert (newest["event_id"], newest["status_code"], newest["outcome"]) == (
        second,
        204,
        "delivered",
    )
    assert newest["event_type"] == "webhook.test" and isinstance(newest["latency_ms"], int)
    cursor = page.json()["next_cursor"]
    rest = await client.get(f"/v1/provider/webhook-deliveries?cursor={cursor}", headers=headers)
    [failed] = rest.json()["items"]
    assert (failed["event_id"], failed["status_code"], failed["outcome"]) == (first, 503, "failed")
    assert failed["next_attempt_at"] is not None and failed["error"].startswith("HTTP 503")

    only_first = await client.get(
        "/v1/provider/webhook-deliveries", params={"event_id": first}, headers=headers
    )
    assert [a["event_id"] for a in only_first.json()["items"]] == [first]
    by_type = await client.get(
        "/v1/provider/webhook-deliveries", params={"type": "voucher.bound"}, headers=headers
    )
    assert by_type.json()["items"] == []
    pending = await client.get("/v1/provider/webhook-events?status=pending", headers=headers)
    assert [e["id"] for e in pending.json()["items"]] == [first]
    assert pending.json()["items"][0]["attempt_count"] == 1


async def test_api_clients_need_the_webhooks_scope(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    url = "https://93.184.216.34/hook"
    manager = await provider_headers(app, client, session, scopes=["webhooks:manage"])
    response = await client.put(
        ENDPOINT, json={"url": url, "events": ["voucher.bound"]}, headers=manager
    )
    assert response.status_code == 201
    reader = await provider_headers(app, client, session, scopes=["vouchers:read"])
    refused = await client.get(ENDPOINT, headers=reader)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


async def test_requests_are_strict_and_unknown_types_refused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await operator_of(app, session)
    url = "https://93.184.216.34/hook"
    extra = await client.put(
        ENDPOINT, json={"url": url, "events": ["voucher.bound"], "secret": "x"}, headers=headers
    )
    assert (extra.status_code, extra.json()["code"]) == (422, "validation_error")
    unknown = await client.put(
        ENDPOINT, json={"url": url, "events": ["voucher.melted"]}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "webhook_event_type_unknown")
    private = await client.put(
        ENDPOINT,
        json={"url": "https://10.0.0.1/hook", "events": ["voucher.bound"]},
        headers=headers,
    )
    assert (private.status_code, private.json()["code"]) == (422, "webhook_url_refused")
    missing = await client.post(f"{ENDPOINT}/rotate-secret", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "webhook_endpoint_not_found")
