"""Abuse: each attack is refused cheaply, with a clear problem, and audited where it matters.

Route lists come from the application itself, so routes added later are covered without editing
this file. Attacks already proven elsewhere: forged, replayed and confused user tokens
(tests/auth/test_jwt_attacks.py), refresh-token replay ending the session
(tests/auth/test_login.py), oversized bodies in detail (tests/kit/test_problems.py).
"""

from __future__ import annotations

import asyncio
import gzip
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.test_jwt_attacks import alg_none, hs256_with_public_key
from tests.factories import (
    DEFAULT_PASSWORD,
    audit_events,
    auth_headers,
    bearer,
    client_token,
    create_provider_client,
    create_user,
)
from voucher_service.app import create_app
from voucher_service.db import Database
from voucher_service.kit.middleware import BodySizeLimitMiddleware
from voucher_service.kit.pagination import MAX_PAGE_SIZE
from voucher_service.settings import Settings
from voucher_service.users.models import Role

MUTATING = {"POST", "PUT", "PATCH"}
# Lists page by MAX_PAGE_SIZE (200); ledger statements allow 500 rows, top-N reports 1,000.
HARD_PAGE_LIMIT = 1000


def concrete(path: str) -> str:
    """``/v1/things/{id}`` with every path parameter filled in."""
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


_schema: dict[str, Any] = {}


def openapi_of(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document (the same for every app instance: built once, it takes seconds)."""
    if not _schema:
        _schema.update(app.openapi())
    return _schema


def mutating_api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every mutating operation of the public API, as its OpenAPI documents it."""
    routes = {
        (method.upper(), path)
        for path, operations in openapi_of(app)["paths"].items()
        for method in operations
        if method.upper() in MUTATING
    }
    assert len(routes) > 10
    return sorted(routes)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


async def test_every_mutating_route_refuses_an_oversized_body_before_reading_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    [configured] = [m for m in app.user_middleware if m.cls is BodySizeLimitMiddleware]
    limits = BodySizeLimitMiddleware(app, *configured.args, **configured.kwargs)
    for method, path in mutating_api_routes(app):
        # Announced too large: refused on the headers alone, the body is never read.
        url = concrete(path)
        declared = str(limits.limit_for(url) + 1)
        response = await client.request(
            method, url, content=b"{}", headers={"content-length": declared}
        )
        assert_problem(response, 413, "payload_too_large")


ENCODINGS = ["gzip", "deflate", "br", "gzip, identity", "x-unknown"]


async def test_compressed_bodies_are_refused_with_415_on_every_mutating_route(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # A decompression bomb: 1 MB of zeros compresses to about a kilobyte.
    bombs = {"gzip": gzip.compress(b"0" * 10**6), "deflate": zlib.compress(b"0" * 10**6)}
    for index, (method, path) in enumerate(mutating_api_routes(app)):
        encoding = ENCODINGS[index % len(ENCODINGS)]
        headers = {"content-encoding": encoding, "content-type": "application/json"}
        body = bombs["deflate" if encoding == "deflate" else "gzip"]
        response = await client.request(method, concrete(path), content=body, headers=headers)
        assert_problem(response, 415, "unsupported_content_encoding")
    user = await create_user(session)
    form = {"username": user.email, "password": DEFAULT_PASSWORD}
    encoded = await client.post(
        "/v1/auth/token",
        content=gzip.compress(httpx.QueryParams(form).__str__().encode()),
        headers={"content-encoding": "gzip", "content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(encoded, 415, "unsupported_content_encoding")


async def test_identity_encoding_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    response = await client.post(
        "/v1/auth/token",
        data={"username": user.email, "password": DEFAULT_PASSWORD},
        headers={"content-encoding": "identity"},
    )
    assert response.status_code == 200, response.text


NESTINGS = [(b"[", b"]"), (b'{"a":', b"}")]


async def test_deeply_nested_json_is_refused_cheaply(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    durations = []
    for index, (method, path) in enumerate(mutating_api_routes(app)):
        opening, closing = NESTINGS[index % 2]
        depth = (100, 5_000, 300_000)[index % 3]
        body = opening * depth + b"1" + closing * depth
        started = time.perf_counter()
        response = await client.request(
            method, concrete(path), content=body, headers={"content-type": "application/json"}
        )
        durations.append(time.perf_counter() - started)
        # Refused by the size limit, the parser's depth limit or validation; never a 500.
        assert response.status_code in (400, 401, 403, 404, 413, 415, 422, 429), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    # A third of the bodies are 300,000 levels deep: were any parsed recursively, the 90th
    # percentile would show it (all take a few ms on an idle machine; a busy one has spikes).
    assert sorted(durations)[len(durations) * 9 // 10] < 1


def test_every_list_route_bounds_its_page_size(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    schema = openapi_of(create_app(settings))
    bounded = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "limit" and parameter["in"] == "query":
                    maximum = parameter["schema"].get("maximum")
                    assert maximum is not None, f"{method.upper()} {path}: limit has no maximum"
                    assert maximum <= HARD_PAGE_LIMIT, f"{method.upper()} {path}: {maximum}"
                    bounded += 1
    assert bounded >= 3


async def test_a_huge_or_odd_page_size_is_a_422(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await auth_headers(app, session, await create_user(session, role=Role.auditor))
    for limit in ["1000000000000", "201", "0", "-1", "1e3", "NaN", "9" * 5000]:
        response = await client.get(f"/v1/admin/audit-events?limit={limit}", headers=headers)
        assert_problem(response, 422, "validation_error")
    largest = await client.get(f"/v1/admin/audit-events?limit={MAX_PAGE_SIZE}", headers=headers)
    assert largest.status_code == 200


async def test_login_brute_force_locks_then_rate_limits_and_is_audited(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    settings = app.state.settings
    user = await create_user(session)
    statuses = []
    for attempt in range(settings.rate_limit_login_per_account + 5):
        response = await client.post(
            "/v1/auth/token", data={"username": user.email, "password": f"Guess-{attempt:04}x"}
        )
        statuses.append(response.status_code)
    limit = settings.rate_limit_login_per_account
    assert statuses[:limit] == [401] * limit  # wrong, then locked: the same answer
    assert set(statuses[limit:]) == {429}
    # Even the right password now fails: the account is locked and the caller limited.
    right = await client.post(
        "/v1/auth/token", data={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1
    failures = await audit_events(database, "auth.login.failed")
    assert len(failures) == limit
    assert any(event.reason == "locked" for event in failures)
    # The flood of 429s is audited once, not once per request (an audit table is no DoS target).
    [limited] = await audit_events(database, "auth.rate_limited")
    assert limited.actor_label == user.email and limited.reason == "rate_limited"


ATTACKS = {"alg_none": alg_none, "hs256_with_public_key": hs256_with_public_key}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_a_forged_provider_client_token_is_refused_and_audited(
    attack: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
) -> None:
    from jose import jwt

    token = await client_token(client, await create_provider_client(app, session))
    assert (await client.get("/v1/provider/me", headers=bearer(token))).status_code == 200
    forged = ATTACKS[attack](app, jwt.get_unverified_claims(token))
    response = await client.get("/v1/provider/me", headers=bearer(forged))
    assert_problem(response, 401, "invalid_token")
    [event] = await audit_events(database, "auth.token.rejected")
    assert event.reason is not None and event.reason.startswith("algorithm_not_allowed")


async def test_slow_clients_and_slow_requests_meet_the_deadline(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"request_timeout_seconds": 0.5}))

    async def stuck() -> dict[str, str]:
        await asyncio.sleep(30)
        return {}

    app.add_api_route("/test/stuck", stuck)

    async def dribble() -> AsyncIterator[bytes]:
        yield b'{"a":'
        await asyncio.sleep(30)
        yield b"1}"

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            started = time.perf_counter()
            slow_body = await client.post(
                "/v1/auth/register", content=dribble(), headers={"content-type": "application/json"}
            )
            assert_problem(slow_body, 408, "request_timeout")
            slow_work = await client.get("/test/stuck")
            assert_problem(slow_work, 503, "request_deadline_exceeded")
            assert slow_work.headers["retry-after"] == "5"
            assert time.perf_counter() - started < 20  # each would have taken 30 s
            assert (await client.get("/livez")).status_code in (200, 404)


def _wrong_check_character(code: str) -> str:
    good = code[-1]
    return code[:-1] + next(c for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ" if c != good)


async def test_voucher_codes_cannot_be_enumerated(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    """A wrong check character is refused before any voucher query; lookups are rate-limited."""
    from sqlalchemy import event

    from tests.redemptions.factories import create_seller, voucher_for

    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        found = await client.get(f"/v1/provider/vouchers/{voucher.code}", headers=seller.headers)
        assert found.status_code == 200, found.text
        looked_up = [s for s in statements if "FROM voucher" in s]
        assert looked_up  # the listener sees the voucher query when there is one
        statements.clear()
        typo = _wrong_check_character(voucher.code)
        refused = await client.get(f"/v1/provider/vouchers/{typo}", headers=seller.headers)
        assert refused.status_code == 422, refused.text
        assert not [s for s in statements if "voucher" in s.split("WHERE")[0].lower()]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_voucher_lookups_are_rate_limited_per_client(
    settings: Settings, session: AsyncSession
) -> None:
    from tests.redemptions.factories import create_seller

    limited = create_app(settings.model_copy(update={"rate_limit_provider_per_client": 5}))
    async with limited.router.lifespan_context(limited):
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            seller = await create_seller(limited, client, session)
            statuses = [
                (await client.get(f"/v1/provider/vouchers/{code}", headers=seller.headers))
                for code in ["0000-0000-0000-0"] * 8
            ]
    assert [r.status_code for r in statuses][-2:] == [429, 429]
    assert statuses[-1].headers["retry-after"]
