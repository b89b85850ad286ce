"""The cache of API client principals: reused briefly, dropped when a client or its provider
changes, bounded, never past the token's expiry, and never for users."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.clients.models import ApiClient
from tests.factories import bearer, client_token, create_provider_client
from voucher_service.auth import principal_cache
from voucher_service.auth.principal import Principal
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind


def _principal(kind: str = "client") -> Principal:
    import uuid

    return Principal(
        kind=kind,  # type: ignore[arg-type]
        id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        organisation_kind=OrganisationKind.provider,
        role=None,
        label="c",
    )


def _count_client_loads(database: Database) -> list[str]:
    loads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM api_client" in statement:
            loads.append(statement)

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    return loads


async def test_a_client_is_loaded_once_then_reused(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    headers = bearer(await client_token(client, await create_provider_client(app, session)))
    loads = _count_client_loads(database)
    for _ in range(3):
        assert (await client.get("/v1/provider/me", headers=headers)).status_code == 200
    assert len(loads) == 1


async def test_a_revoked_client_is_refused_at_once_despite_the_cache(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    issued = await create_provider_client(app, session)
    headers = bearer(await client_token(client, issued))
    assert (await client.get("/v1/provider/me", headers=headers)).status_code == 200
    async with database.unit_of_work() as changing:  # as the revoke route does, via the ORM
        row = await changing.get(ApiClient, issued.client.id)
        assert row is not None
        row.status = "revoked"
    assert (await client.get("/v1/provider/me", headers=headers)).status_code == 401


async def test_without_the_cache_every_request_loads_the_client(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    app.state.settings.principal_cache_seconds = 0
    headers = bearer(await client_token(client, await create_provider_client(app, session)))
    loads = _count_client_loads(database)
    for _ in range(2):
        assert (await client.get("/v1/provider/me", headers=headers)).status_code == 200
    assert len(loads) == 2


def test_entries_run_out_and_are_never_kept_past_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(principal_cache.time, "monotonic", lambda: clock[0])
    cache = principal_cache.PrincipalCache(2.0)
    now = utcnow()
    cache.put("t1", _principal(), now + timedelta(minutes=5))
    cache.put("t2", _principal(), now + timedelta(seconds=1))
    assert cache.get("t1", now) is not None
    assert cache.get("t2", now + timedelta(seconds=1)) is None  # the token itself expired
    clock[0] += 2.0
    assert cache.get("t1", now) is None  # the entry ran out
    assert len(cache) == 0


def test_users_are_not_cached_and_the_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(principal_cache, "MAX_ENTRIES", 3)
    cache = principal_cache.PrincipalCache(2.0)
    later = utcnow() + timedelta(minutes=5)
    cache.put("user", _principal("user"), later)
    assert cache.get("user", utcnow()) is None
    for n in range(5):
        cache.put(f"t{n}", _principal(), later)
    assert len(cache) == 3
    assert cache.get("t0", utcnow()) is None and cache.get("t4", utcnow()) is not None
    principal_cache.invalidate_all()
    assert cache.get("t4", utcnow()) is None
