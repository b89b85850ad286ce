"""The SDK against the real application: over ASGI for the async client, over a real uvicorn
on a free port for the blocking one (httpx has no blocking ASGI transport, and a real socket
also exercises connection handling)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from providers.clients.models import AuthMethod
from providers.sdk import AsyncVoucherClient, ClientSecret, PrivateKeyJwt, RetryPolicy
from providers.sdk.auth import Credentials
from tests.callbacks.conftest import recorder
from tests.clients.test_client_credentials import ec_key
from tests.factories import create_provider_client
from tests.programs.factories import create_provider
from tests.sdk.faults import AsyncFlakyTransport, Faults
from voucher_service.app import create_app
from voucher_service.organisations.models import Organisation
from voucher_service.settings import Settings

FAST_RETRIES = RetryPolicy(base_delay=0.001, max_delay=0.01)
__all__ = ["recorder"]  # the callback tests' throw-away handler, used here too


@pytest.fixture
async def provider(session: AsyncSession) -> Organisation:
    """An approved provider selling compute and model (``gpu_hour``, ``token_1k``)."""
    return await create_provider(session)


@pytest.fixture
async def secret_credentials(
    app: FastAPI, session: AsyncSession, provider: Organisation
) -> ClientSecret:
    issued = await create_provider_client(app, session, organisation=provider)
    return ClientSecret(issued.client.client_id, issued.client_secret or "")


@pytest.fixture
async def key_credentials(
    app: FastAPI, session: AsyncSession, provider: Organisation
) -> PrivateKeyJwt:
    pem, public = ec_key()
    issued = await create_provider_client(
        app,
        session,
        organisation=provider,
        auth_method=AuthMethod.private_key_jwt,
        public_jwk=public | {"kid": "sdk-key-1"},
    )
    return PrivateKeyJwt(issued.client.client_id, pem, key_id="sdk-key-1")


@pytest.fixture
def faults() -> Faults:
    return Faults()


def async_client(
    app: FastAPI, credentials: Credentials, faults: Faults, **options: object
) -> AsyncVoucherClient:
    """An async SDK client talking to ``app`` in-process through the fault injector."""
    transport = AsyncFlakyTransport(httpx.ASGITransport(app=app), faults)
    options.setdefault("retry", FAST_RETRIES)
    return AsyncVoucherClient(
        app.state.settings.base_url,
        credentials,
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def sdk(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> AsyncIterator[AsyncVoucherClient]:
    async with async_client(app, secret_credentials, faults) as client:
        yield client


@pytest.fixture
def live_url(settings: Settings, app: FastAPI) -> Iterator[str]:
    """A second instance of the application on the same database, served by uvicorn."""
    del app  # the test's own app is started first, so both share the migrated database
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        listener.close()
