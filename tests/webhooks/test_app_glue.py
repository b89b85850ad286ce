"""The application's side: problems, OpenAPI webhooks, /metrics, the job, settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr

from providers.webhooks.errors import EndpointDisabled, WebhookUrlRefused
from providers.webhooks.events import EVENT_TYPES, TEST_EVENT_TYPE, example_data
from providers.webhooks.models import DELIVERED, WebhookEvent
from providers.webhooks.outbox import emit
from tests.providers.webhooks.conftest import new_provider
from tests.providers.webhooks.receiver import Receiver, running
from tests.worker.test_runner import make_worker
from voucher_service.audit.service import AuditActor
from voucher_service.db import Database
from voucher_service.settings import Settings
from voucher_service.webhooks import service
from voucher_service.webhooks.jobs import deliver_webhooks
from voucher_service.webhooks.runtime import secret_box, url_guard
from voucher_service.worker import jobs  # noqa: F401  (registers every job)
from voucher_service.worker.registry import registered_jobs

SYSTEM = AuditActor.system("test")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (WebhookUrlRefused("10.0.0.1 is private"), 422, "webhook_url_refused"),
        (EndpointDisabled("save it again"), 409, "webhook_endpoint_disabled"),
    ],
)
async def test_engine_errors_are_problems(
    app: FastAPI, client: httpx.AsyncClient, error: Exception, status: int, code: str
) -> None:
    async def fail() -> None:
        raise error

    app.add_api_route("/test-webhook-error", fail)
    response = await client.get("/test-webhook-error", headers={"accept-language": "zh"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["detail"] == str(error)
    assert body["title"] == type(error).title_zh  # type: ignore[attr-defined]


async def test_openapi_documents_every_event_with_an_example(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    webhooks = document["webhooks"]
    assert set(webhooks) == {*EVENT_TYPES, TEST_EVENT_TYPE}
    operation = webhooks["redemption.refunded"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    assert set(schema["required"]) == {"type", "timestamp", "data"}
    [example] = schema["examples"]
    assert example["type"] == "redemption.refunded"
    assert example["data"]["refund"]["amount"] == 100_000
    assert "Retry-After" in operation["description"]


async def test_metrics_report_delivery_state_per_provider(
    client: httpx.AsyncClient, database: Database
) -> None:
    provider_id = await new_provider(database)
    async with database.unit_of_work() as session:
        for _ in range(2):
            emit(session, provider_id, "voucher.bound", example_data("voucher.bound"))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert f'voucher_webhook_events{{provider_id="{provider_id}",state="pending"}} 2.0' in text
    assert f'voucher_webhook_oldest_pending_age_seconds{{provider_id="{provider_id}"}}' in text
    assert "process_cpu_seconds_total" in text or "python_info" in text


def test_delivery_is_a_shared_job() -> None:
    [job] = [j for j in registered_jobs() if j.name == "webhooks.deliver"]
    assert job.exclusive is False


async def test_the_job_delivers_through_the_worker(database: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"webhook_allow_loopback": True})
    [job] = [j for j in registered_jobs() if j.name == "webhooks.deliver"]
    with running(Receiver()) as receiver:
        provider_id = await new_provider(database)
        async with database.unit_of_work() as session:
            saved = await service.set_endpoint(
                session, settings, provider_id, receiver.url(), ["voucher.bound"], actor=SYSTEM
            )
            event_id = await service.send_test_event(session, provider_id, actor=SYSTEM)
        assert saved.secret is not None
        assert await make_worker(database, settings, job).run_once("webhooks.deliver")
    [request] = receiver.received
    assert request.webhook_id == str(event_id)
    async with database.unit_of_work(readonly=True) as session:
        row = await session.get(WebhookEvent, event_id)
        assert row is not None and row.status == DELIVERED
        [stats] = await service.delivery_metrics(session, provider_id)
        assert stats.counts["delivered"] == 1
    assert deliver_webhooks is job.run


async def test_rotation_uses_the_configured_overlap(database: Database, settings: Settings) -> None:
    settings = settings.model_copy(
        update={"webhook_allow_loopback": True, "webhook_secret_overlap_hours": 2}
    )
    provider_id = await new_provider(database)
    async with database.unit_of_work() as session:
        await service.set_endpoint(
            session, settings, provider_id, "http://127.0.0.1/", ["voucher.bound"], actor=SYSTEM
        )
        secret, endpoint = await service.rotate_secret(session, settings, provider_id, actor=SYSTEM)
    assert secret.startswith("whsec_")
    assert endpoint.previous_secret_expires_at is not None
    assert endpoint.previous_secret_expires_at - endpoint.updated_at == timedelta(hours=2)


def test_secret_keys_come_from_settings_or_the_server_secret(tmp_path: Path) -> None:
    derived = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    token = secret_box(derived).encrypt(b"s")
    assert derived.secret_path.exists()
    assert secret_box(derived).decrypt(token) == b"s"
    elsewhere = Settings(data_dir=tmp_path / "elsewhere", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        secret_box(elsewhere).decrypt(token)

    key = Fernet.generate_key().decode()
    configured = Settings(
        data_dir=tmp_path / "other",
        webhook_secret_keys=SecretStr(key),
        _env_file=None,  # type: ignore[call-arg]
    )
    assert Fernet(key.encode()).decrypt(secret_box(configured).encrypt(b"t").encode()) == b"t"
    assert not (tmp_path / "other").exists()


async def test_guard_follows_the_environment() -> None:
    production = Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(WebhookUrlRefused, match="https"):
        await url_guard(production).check_url("http://93.184.216.34/")
    development = Settings(_env_file=None, webhook_allow_loopback=True)  # type: ignore[call-arg]
    assert await url_guard(development).check_url("http://127.0.0.1:8000/")
    with pytest.raises(WebhookUrlRefused, match="loopback"):
        await url_guard(Settings(_env_file=None)).check_url("http://127.0.0.1:8000/")  # type: ignore[call-arg]
