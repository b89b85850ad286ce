"""No secret reaches a log: every flow that handles one runs with DEBUG logging captured, then the
captured records (message, arguments, extras, tracebacks) and the process output are searched for
each secret value the test used."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from providers.clients.models import AuthMethod
from tests.clients.test_client_credentials import assertion, assertion_form, ec_key
from tests.factories import bearer, create_provider_client, create_user, login
from tests.providers.webhooks.receiver import Receiver, running
from tests.webhooks.helpers import ENDPOINT, operator_of
from voucher_service.db import Database
from voucher_service.keys.secret import load_or_create_secret
from voucher_service.worker.registry import JobContext
from voucher_service.worker.runner import Worker

PASSWORD = "Secret-Pass-" + uuid.uuid4().hex[:12]
WRONG_PASSWORD = "Wrong-Pass-" + uuid.uuid4().hex[:12]


def everything_logged(caplog: pytest.LogCaptureFixture, output: str) -> str:
    """Every captured record rendered fully (with its extras and traceback), and the output."""
    parts = [output]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


async def user_flows(client: httpx.AsyncClient, session: AsyncSession) -> list[str]:
    """Password login (right and wrong), refresh, a refresh replay, password change, logout."""
    user = await create_user(session, password=PASSWORD)
    refused = await client.post(
        "/v1/auth/token", data={"username": user.email, "password": WRONG_PASSWORD}
    )
    assert refused.status_code == 401
    tokens = await login(client, user.email, PASSWORD)
    renewed = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    fresh = await login(client, user.email, PASSWORD)
    new_password = PASSWORD + "-New"
    changed = await client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(fresh["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    final = changed.json()
    logout = await client.post("/v1/auth/logout", headers=bearer(final["access_token"]))
    assert logout.status_code == 204
    return [
        PASSWORD,
        WRONG_PASSWORD,
        new_password,
        *(t[key] for t in (tokens, renewed.json(), fresh, final) for key in ("access_token",)),
        *(t["refresh_token"] for t in (tokens, renewed.json(), fresh, final)),
    ]


async def client_flows(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> list[str]:
    """client_secret grant (right and wrong), and a private_key_jwt assertion grant."""
    issued = await create_provider_client(app, session)
    secret = issued.client_secret or ""
    form = {"grant_type": "client_credentials", "client_id": issued.client.client_id}
    wrong_form = form | {"client_secret": secret[:-4] + "xxxx"}
    wrong = await client.post("/v1/oauth/token", data=wrong_form)
    assert wrong.status_code == 401
    granted = await client.post("/v1/oauth/token", data=form | {"client_secret": secret})
    assert granted.status_code == 200, granted.text
    pem, jwk = ec_key()
    keyed = await create_provider_client(
        app, session, auth_method=AuthMethod.private_key_jwt, public_jwk=jwk
    )
    signed = assertion(app, keyed.client.client_id, pem)
    by_key = await client.post("/v1/oauth/token", data=assertion_form(signed))
    assert by_key.status_code == 200, by_key.text
    replayed = await client.post("/v1/oauth/token", data=assertion_form(signed))
    assert replayed.status_code == 401
    pem_body = "".join(pem.splitlines()[1:-1])
    return [secret, signed, pem_body, granted.json()["access_token"], by_key.json()["access_token"]]


async def webhook_flows(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> list[str]:
    """An endpoint's signing secret, its rotation, and deliveries signed with both."""
    app.state.settings.webhook_allow_loopback = True
    _, headers = await operator_of(app, session)
    with running(Receiver()) as receiver:
        saved = await client.put(
            ENDPOINT, json={"url": receiver.url(), "events": ["voucher.bound"]}, headers=headers
        )
        assert saved.status_code == 201, saved.text
        rotated = await client.post(f"{ENDPOINT}/rotate-secret", headers=headers)
        assert rotated.status_code == 200, rotated.text
        sent = await client.post(f"{ENDPOINT}/test", headers=headers)
        assert sent.status_code in (200, 201, 202), sent.text
        context = JobContext(database, app.state.settings, app.state.keyring, "secrets-test")
        assert await Worker(context).run_once("webhooks.deliver")
        assert receiver.received
    return [saved.json()["secret"], rotated.json()["secret"]]


def server_secrets(app: FastAPI) -> list[str]:
    """The server secret, the client secret pepper and the signing key, as text."""
    settings = app.state.settings
    raw = load_or_create_secret(settings.secret_path)
    private_pem = app.state.keyring.active.private_pem
    pem = private_pem.decode() if isinstance(private_pem, bytes) else private_pem
    return [raw.hex(), "".join(pem.splitlines()[1:-1]), app.state.client_secret_pepper.hex()]


async def test_no_secret_appears_in_any_log_record_or_output(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's DEBUG records too
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL and its parameters as well
    secrets = [
        *await user_flows(client, session),
        *await client_flows(app, client, session),
        *await webhook_flows(app, client, session, database),
        *server_secrets(app),
    ]
    captured = capfd.readouterr()
    logged = everything_logged(caplog, captured.out + captured.err)
    assert len(caplog.records) > 20  # the flows really logged (access lines at least)
    assert all(len(secret) >= 16 for secret in secrets)
    leaked = [secret[:8] + "…" for secret in secrets if secret in logged]
    assert not leaked, f"secrets found in the logs: {leaked}"
