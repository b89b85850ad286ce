"""A provider's signing API client, and a throw-away callback type that counts its calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from providers.callbacks import ReceivedCallback, callbacks
from providers.clients import service as clients
from providers.clients.models import AuthMethod
from tests.callbacks.signing import envelope, sign
from tests.clients.test_client_credentials import assertion, assertion_form, ec_key
from tests.factories import bearer, create_organisation, create_provider_client
from voucher_service.kit.problems import ProblemError
from voucher_service.organisations.models import Organisation, OrganisationKind

RECORDED = "test.recorded"
URL = "/v1/provider/callbacks"


@dataclass
class SigningClient:
    """A provider's ``private_key_jwt`` API client: its private key and a bearer token."""

    provider: Organisation
    credential: clients.IssuedCredential
    private_key: str
    headers: dict[str, str]

    async def send(
        self, http: httpx.AsyncClient, callback_id: str, data: dict[str, Any], **options: Any
    ) -> httpx.Response:
        """POST a callback of ``options['type']`` (default test.recorded), signed as documented."""
        body = envelope(
            callback_id, options.pop("type", RECORDED), data, timestamp=options.pop("at", None)
        )
        signature = sign(body, options.pop("key", self.private_key))
        headers = self.headers | {"JWS-Signature": signature, "Content-Type": "application/json"}
        return await http.post(URL, content=options.pop("body", body), headers=headers)


async def signing_client(
    app: FastAPI,
    http: httpx.AsyncClient,
    session: AsyncSession,
    provider: Organisation | None = None,
    scope: str | None = None,
) -> SigningClient:
    """A provider (made if not given) with a key client and an access token for it."""
    provider = provider or await create_organisation(session, kind=OrganisationKind.provider)
    pem, public = ec_key()
    issued = await create_provider_client(
        app,
        session,
        organisation=provider,
        auth_method=AuthMethod.private_key_jwt,
        public_jwk=public | {"kid": "key-1"},
    )
    form = assertion_form(assertion(app, issued.client.client_id, pem))
    if scope:
        form["scope"] = scope
    token = await http.post("/v1/oauth/token", data=form)
    assert token.status_code == 200, token.text
    return SigningClient(provider, issued, pem, bearer(token.json()["access_token"]))


class Recorded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int
    fail: bool = False


class RecordingFailed(ProblemError):
    status = 409
    code = "recording_failed"


@dataclass
class Recorder:
    """What the throw-away handler saw, one entry per call."""

    calls: list[ReceivedCallback[Recorded]] = field(default_factory=list)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Registers ``test.recorded`` (needs settlements:write) for the duration of a test."""
    seen = Recorder()

    async def record(
        _session: AsyncSession, callback: ReceivedCallback[Recorded]
    ) -> dict[str, Any]:
        seen.calls.append(callback)
        if callback.data.fail:
            raise RecordingFailed("the domain refused it")
        return {"recorded_amount": callback.data.amount, "call": len(seen.calls)}

    callbacks.register(RECORDED, data=Recorded, handler=record, scope="settlements:write")
    try:
        yield seen
    finally:
        callbacks.unregister(RECORDED)
