"""Database-backed rate limits: 429 with Retry-After, per address and per client/account."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, client_token, create_provider_client, create_user
from voucher_service.auth.errors import RateLimited
from voucher_service.db import Database
from voucher_service.ratelimit import service as ratelimit


async def test_sliding_window_counts_and_refuses(database: Database) -> None:
    limit = [ratelimit.Limit("test:key", 3)]
    for _ in range(3):
        await ratelimit.check(database, limit, window_seconds=60)
    with pytest.raises(RateLimited) as caught:
        await ratelimit.check(database, limit, window_seconds=60)
    retry_after = int(caught.value.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    # Other keys are counted separately, and a limit of 0 is switched off.
    await ratelimit.check(database, [ratelimit.Limit("test:other", 3)], window_seconds=60)
    for _ in range(10):
        await ratelimit.check(database, [ratelimit.Limit("test:off", 0)], window_seconds=60)


async def test_previous_window_still_weighs_on_the_estimate(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_000_000.0]  # the start of a 10-second window
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    limit = [ratelimit.Limit("test:slide", 4)]
    for _ in range(4):
        await ratelimit.check(database, limit, window_seconds=10)
    clock[0] += 11  # 10% into the next window: 90% of the previous 4 still count
    with pytest.raises(RateLimited):
        await ratelimit.check(database, limit, window_seconds=10)
    clock[0] += 8  # 90% in: 10% of 4 plus the 1 refused hit
    await ratelimit.check(database, limit, window_seconds=10)


@pytest.mark.postgres_only
async def test_concurrent_hits_are_counted_exactly(database: Database) -> None:
    limit = [ratelimit.Limit("test:race", 20)]

    async def hit() -> bool:
        try:
            await ratelimit.check(database, limit, window_seconds=3600)
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(hit() for _ in range(40)))
    assert sum(results) == 20


async def test_login_is_limited_per_account_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.rate_limit_login_per_account = 3
    app.state.settings.login_lockout_threshold = 100
    user = await create_user(session)
    statuses = [
        (
            await client.post("/v1/auth/token", data={"username": user.email, "password": "x"})
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    response = await client.post("/v1/auth/token", data={"username": user.email, "password": "x"})
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == "rate_limited"
    # An unknown account is limited just the same: no hint about which accounts exist.
    app.state.settings.rate_limit_login_per_account = 1
    await client.post("/v1/auth/token", data={"username": "ghost@example.cn", "password": "x"})
    ghost = await client.post(
        "/v1/auth/token", data={"username": "ghost@example.cn", "password": "x"}
    )
    assert ghost.status_code == 429


async def test_login_is_limited_per_address(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.settings.rate_limit_login_per_address = 2
    statuses = [
        (
            await client.post(
                "/v1/auth/token", data={"username": f"u{i}@example.cn", "password": "x"}
            )
        ).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 429]


async def test_token_endpoint_is_limited_per_client(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.rate_limit_token_per_client = 2
    issued = await create_provider_client(app, session)
    await client_token(client, issued)
    await client_token(client, issued)
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret or "",
    }
    response = await client.post("/v1/oauth/token", data=form)
    assert response.status_code == 429 and "retry-after" in response.headers


async def test_provider_endpoints_are_limited_per_client(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.rate_limit_provider_per_client = 2
    headers = bearer(await client_token(client, await create_provider_client(app, session)))
    statuses = [
        (await client.get("/v1/provider/me", headers=headers)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
