"""Races that only real concurrency shows (PostgreSQL): one winner, clear refusals, no 500."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import DEFAULT_PASSWORD, create_user, login, make_credit_code

pytestmark = pytest.mark.postgres_only


async def test_concurrent_registrations_of_one_credit_code(client: httpx.AsyncClient) -> None:
    code = make_credit_code()

    async def register(index: int) -> int:
        body = {
            "organisation": {"name": f"并发公司 {index}", "credit_code": code},
            "owner": {
                "email": f"race{index}@example.cn",
                "name": "R",
                "password": DEFAULT_PASSWORD,
            },
        }
        return (await client.post("/v1/auth/register", json=body)).status_code

    statuses = Counter(await asyncio.gather(*(register(i) for i in range(8))))
    assert statuses == Counter({201: 1, 409: 7})


async def test_concurrent_use_of_one_refresh_token(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    tokens = await login(client, user.email)

    async def refresh() -> int:
        response = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        return response.status_code

    statuses = Counter(await asyncio.gather(*(refresh() for _ in range(6))))
    assert statuses[200] <= 1 and statuses[500] == 0
    assert sum(statuses.values()) == 6
