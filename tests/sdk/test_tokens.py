"""Access tokens: both client authentication methods, refresh before expiry, once on 401."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from providers.sdk import (
    AsyncVoucherClient,
    AuthenticationFailed,
    ClientSecret,
    InvalidClient,
    PrivateKeyJwt,
)
from tests.sdk.conftest import async_client
from tests.sdk.faults import Faults

TOKEN = "/v1/oauth/token"
ME = "/v1/provider/me"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_secret_client_gets_one_token_for_many_calls(
    sdk: AsyncVoucherClient, secret_credentials: ClientSecret, faults: Faults
) -> None:
    first = await sdk.me()
    second = await sdk.me()
    assert first == second
    assert first.client_id == secret_credentials.client_id
    assert "redemptions:write" in first.scopes
    assert faults.paths() == [TOKEN, ME, ME]
    assert faults.seen[0].headers["authorization"].startswith("Basic ")
    assert faults.seen[1].headers["authorization"] == f"Bearer {sdk.tokens.current.value}"  # type: ignore[union-attr]


async def test_a_key_client_signs_a_fresh_assertion_for_every_token(
    app: FastAPI, key_credentials: PrivateKeyJwt, faults: Faults
) -> None:
    clock = Clock()
    async with async_client(app, key_credentials, faults, clock=clock) as sdk:
        assert (await sdk.me()).client_id == key_credentials.client_id
        clock.now += 3600  # a used assertion is refused for ever: the refresh must sign anew
        assert (await sdk.me()).client_id == key_credentials.client_id
    assert faults.paths() == [TOKEN, ME, TOKEN, ME]
    assertions = [r.content for r in faults.seen if r.url.path == TOKEN]
    assert assertions[0] != assertions[1]


async def test_the_token_is_refreshed_shortly_before_it_expires(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    clock = Clock()
    lifetime = app.state.settings.client_token_seconds
    async with async_client(app, secret_credentials, faults, clock=clock, refresh_margin=60) as sdk:
        await sdk.me()
        clock.now += lifetime - 61
        await sdk.me()
        assert sdk.tokens.fetched == 1
        clock.now += 2  # now within the margin: refreshed before the service would refuse it
        await sdk.me()
        assert sdk.tokens.fetched == 2
    assert faults.paths() == [TOKEN, ME, ME, TOKEN, ME]


async def test_a_refused_token_is_replaced_once(
    app: FastAPI, secret_credentials: ClientSecret
) -> None:
    spoiled: list[int] = []

    def spoil_first_me(request: httpx.Request) -> None:
        if request.url.path == ME and not spoiled:
            spoiled.append(1)
            request.headers["Authorization"] = "Bearer not-a-token"

    faults = Faults(tamper=spoil_first_me)
    async with async_client(app, secret_credentials, faults) as sdk:
        assert (await sdk.me()).client_id == secret_credentials.client_id
        assert sdk.tokens.fetched == 2
    assert faults.paths() == [TOKEN, ME, TOKEN, ME]


async def test_a_token_refused_twice_is_an_error_not_a_loop(
    app: FastAPI, secret_credentials: ClientSecret
) -> None:
    def spoil(request: httpx.Request) -> None:
        if request.url.path == ME:
            request.headers["Authorization"] = "Bearer not-a-token"

    faults = Faults(tamper=spoil)
    async with async_client(app, secret_credentials, faults) as sdk:
        with pytest.raises(AuthenticationFailed) as refused:
            await sdk.me()
    assert refused.value.status == 401
    assert faults.paths() == [TOKEN, ME, TOKEN, ME]


async def test_wrong_credentials_are_refused_without_retrying(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    wrong = ClientSecret(secret_credentials.client_id, "not-the-secret")
    async with async_client(app, wrong, faults) as sdk:
        with pytest.raises(InvalidClient) as refused:
            await sdk.me()
    assert refused.value.problem_code == "invalid_client"
    assert faults.paths() == [TOKEN]


async def test_concurrent_calls_share_one_token_fetch(
    sdk: AsyncVoucherClient, faults: Faults
) -> None:
    await asyncio.gather(*(sdk.me() for _ in range(8)))
    assert faults.paths().count(TOKEN) == 1
