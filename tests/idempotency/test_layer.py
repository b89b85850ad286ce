"""The idempotency layer through real HTTP requests on a test router (see conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from tests.factories import audit_events, auth_headers, create_user
from tests.idempotency.conftest import ACTION
from voucher_service.db import Database
from voucher_service.idempotency import service
from voucher_service.idempotency.models import IdempotencyRecord

pytestmark = pytest.mark.usefixtures("idempotent_app")


@pytest.fixture
async def headers(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await auth_headers(app, session, await create_user(session))


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def made(database: Database) -> int:
    return len(await audit_events(database, ACTION))


async def test_same_key_same_request_replays_the_answer(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    sent = keyed(headers)
    first = await client.post("/test/optional/a", json={"amount": 5, "note": "x"}, headers=sent)
    # The same body with keys in another order and other spacing is the same request.
    again = await client.post(
        "/test/optional/a",
        content=b'{ "note": "x",   "amount": 5 }',
        headers={**sent, "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert await made(database) == 1


async def test_same_key_other_request_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    sent = keyed(headers)
    assert (await client.post("/test/optional/a", json={"amount": 5}, headers=sent)).is_success
    for path, body in (("/test/optional/a", {"amount": 6}), ("/test/optional/b", {"amount": 5})):
        reused = await client.post(path, json=body, headers=sent)
        assert reused.status_code == 422
        assert reused.json()["code"] == "idempotency_key_reused"
    assert await made(database) == 1


async def test_keys_are_scoped_to_the_caller(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    database: Database,
) -> None:
    other = await auth_headers(app, session, await create_user(session))
    key = str(uuid.uuid4())
    first = await client.post("/test/optional/a", json={"amount": 5}, headers=keyed(headers, key))
    second = await client.post("/test/optional/a", json={"amount": 5}, headers=keyed(other, key))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert await made(database) == 2


async def test_without_a_key_every_request_runs(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    for _ in range(2):
        response = await client.post("/test/optional/a", json={"amount": 1}, headers=headers)
        assert response.is_success
    assert await made(database) == 2


async def test_a_required_key_must_be_sent_and_well_formed(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    missing = await client.post("/test/required/a", json={"amount": 1}, headers=headers)
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    for bad in ("", "with space", "x" * 256, "tab\tkey"):
        invalid = await client.post(
            "/test/required/a", json={"amount": 1}, headers={**headers, "Idempotency-Key": bad}
        )
        assert invalid.status_code == 400, bad
        assert invalid.json()["code"] in {"idempotency_key_invalid", "idempotency_key_missing"}
    assert await made(database) == 0
    ok = await client.post("/test/required/a", json={"amount": 1}, headers=keyed(headers))
    assert ok.status_code == 201


async def test_a_refusal_is_kept_and_its_changes_are_not(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    sent = keyed(headers)
    body = {"amount": 1, "outcome": "refuse"}
    first = await client.post("/test/optional/a", json=body, headers=sent)
    again = await client.post("/test/optional/a", json=body, headers=sent)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()
    assert first.json()["code"] == "test_refused"
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"
    assert await made(database) == 0  # the refused request's audit event was rolled back


async def test_a_server_error_is_not_kept(
    app: FastAPI, headers: dict[str, str], database: Database
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        sent = keyed(headers)
        crash = await client.post(
            "/test/optional/a", json={"amount": 1, "outcome": "crash"}, headers=sent
        )
        assert crash.status_code == 500
        async with database.unit_of_work(readonly=True) as session:
            count = await session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord))
        assert count == 0
        # The retry runs again (here with the same crash: nothing was kept either time).
        again = await client.post(
            "/test/optional/a", json={"amount": 1, "outcome": "crash"}, headers=sent
        )
        assert again.status_code == 500
        assert "idempotent-replayed" not in again.headers
    assert await made(database) == 0


async def test_invalid_bodies_are_not_kept(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    sent = keyed(headers)
    invalid = await client.post("/test/optional/a", json={"amount": "many"}, headers=sent)
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "validation_error"
    fixed = await client.post("/test/optional/a", json={"amount": "many"}, headers=sent)
    assert "idempotent-replayed" not in fixed.headers


async def test_reads_ignore_the_key(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    sent = keyed(headers)
    for _ in range(2):
        read = await client.get("/test/optional/a", headers=sent)
        assert read.status_code == 200
        assert "idempotent-replayed" not in read.headers


async def test_expired_records_are_purged_and_the_key_is_free_again(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    sent = keyed(headers)
    assert (await client.post("/test/optional/a", json={"amount": 1}, headers=sent)).is_success
    async with database.unit_of_work() as session:
        record = (await session.scalars(sa.select(IdempotencyRecord))).one()
        assert record.expires_at is not None
        hours = app.state.settings.idempotency_retention_hours
        assert abs(record.expires_at - (record.created_at + timedelta(hours=hours))).seconds < 5
        record.expires_at = utcnow() - timedelta(seconds=1)
    again = await client.post("/test/optional/a", json={"amount": 1}, headers=sent)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers  # expired: a new request
    async with database.unit_of_work() as session:
        await session.execute(sa.update(IdempotencyRecord).values(expires_at=utcnow()))
    async with database.unit_of_work() as session:
        assert await service.purge_expired(session) == 1
    async with database.unit_of_work(readonly=True) as session:
        assert (await session.scalars(sa.select(IdempotencyRecord))).all() == []
    assert await made(database) == 2


async def test_records_of_required_routes_can_be_kept_for_ever(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    app.state.settings.idempotency_retention_hours = None
    assert (
        await client.post("/test/optional/a", json={"amount": 1}, headers=keyed(headers))
    ).is_success
    async with database.unit_of_work() as session:
        record = (await session.scalars(sa.select(IdempotencyRecord))).one()
        assert record.expires_at is None
        assert await service.purge_expired(session) == 0


@pytest.mark.postgres_only
async def test_concurrent_retries_run_once_and_answer_alike(
    client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    sent = keyed(headers)
    answers = await asyncio.gather(
        *(client.post("/test/optional/a", json={"amount": 7}, headers=sent) for _ in range(20))
    )
    assert {(answer.status_code, answer.text) for answer in answers} == {(201, answers[0].text)}
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 19
    assert await made(database) == 1


@pytest.mark.postgres_only
async def test_a_request_still_running_gives_409_after_the_wait(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], database: Database
) -> None:
    app.state.settings.idempotency_wait_seconds = 0.3
    key = str(uuid.uuid4())
    sent = keyed(headers, key)
    caller = f"user:{await _user_id(client, headers)}"
    attempt = service.Attempt(caller, key, "f" * 64, "POST", "/test/optional/a", None)
    async with database.unit_of_work() as holder:
        await service.claim(holder, attempt, wait_seconds=0)
        busy = await client.post("/test/optional/a", json={"amount": 1}, headers=sent)
        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_request_in_progress"
        assert busy.headers["retry-after"] == "1"
        await holder.rollback()
    # The holder gave up without an answer: the key is free, and the request runs.
    assert (await client.post("/test/optional/a", json={"amount": 1}, headers=sent)).is_success


async def _user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get("/v1/users/me", headers=headers)).json()["id"])
