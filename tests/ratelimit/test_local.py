"""The provider API's in-process rate limit: the same sliding window, without the database."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, client_token, create_provider_client
from voucher_service.auth.errors import RateLimited
from voucher_service.db import Database
from voucher_service.ratelimit import local
from voucher_service.ratelimit.service import Limit

START = 1_000_000.0  # the start of a 10-second window


def test_counts_each_key_and_refuses_past_the_limit() -> None:
    limiter = local.LocalRateLimiter(10)
    for _ in range(3):
        limiter.check([Limit("a", 3)], now=START)
    with pytest.raises(RateLimited) as caught:
        limiter.check([Limit("a", 3)], now=START + 4)
    assert caught.value.first_refusal
    assert caught.value.headers["Retry-After"] == "6"
    with pytest.raises(RateLimited) as again:
        limiter.check([Limit("a", 3)], now=START + 4)
    assert not again.value.first_refusal  # audited once, not for the flood after it
    limiter.check([Limit("b", 3)], now=START)  # another key
    for _ in range(10):
        limiter.check([Limit("off", 0)], now=START)  # 0 switches a limit off
    assert len(limiter) == 2


def test_the_previous_window_still_weighs_on_the_estimate() -> None:
    limiter = local.LocalRateLimiter(10)
    for _ in range(4):
        limiter.check([Limit("k", 4)], now=START)
    with pytest.raises(RateLimited):  # 10% into the next window: 90% of the previous 4 count
        limiter.check([Limit("k", 4)], now=START + 11)
    limiter.check([Limit("k", 4)], now=START + 19)  # 90% in: 10% of 4 plus the refused hit
    for _ in range(4):  # after a quiet window the old hits no longer count
        limiter.check([Limit("k", 4)], now=START + 35)
    with pytest.raises(RateLimited):
        limiter.check([Limit("k", 4)], now=START + 35)


def test_idle_keys_are_swept_when_there_are_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "SWEEP_ABOVE", 5)
    limiter = local.LocalRateLimiter(10)
    for n in range(5):
        limiter.check([Limit(f"old{n}", 9)], now=START)
    limiter.check([Limit("new", 9)], now=START + 30)
    assert len(limiter) == 1


async def test_provider_calls_write_no_rate_limit_row(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    app.state.settings.rate_limit_provider_per_client = 2
    headers = bearer(await client_token(client, await create_provider_client(app, session)))
    async with database.unit_of_work(readonly=True) as reading:
        before = await reading.scalar(sa.text("SELECT count(*) FROM rate_limit_bucket"))
    statuses = [
        (await client.get("/v1/provider/me", headers=headers)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    async with database.unit_of_work(readonly=True) as reading:
        after = await reading.scalar(sa.text("SELECT count(*) FROM rate_limit_bucket"))
    assert after == before  # the token request's own (shared) limit counted before
