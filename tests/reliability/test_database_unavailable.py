"""A database that goes away under a request: 503 ``service_unavailable`` with ``Retry-After``,
nothing half-written, and the next request works without restarting anything.

On PostgreSQL the test cuts the connection of a request in flight with ``pg_terminate_backend``
(after the request wrote something it had not committed), and every idle pooled connection; on
SQLite another connection holds the write lock past the busy timeout. The process-level variant
(the real server under load, SIGKILLs, cuts and a server restart) is ``test_crash.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.factories import auth_headers, create_user
from tests.ledger.fakes import db_error
from tests.reliability.processes import terminate_backends
from voucher_service.db import Database
from voucher_service.dependencies import SessionDep
from voucher_service.kit.problems import PROBLEM_MEDIA_TYPE
from voucher_service.kit.unavailable import is_unavailable
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users.models import Role

MARKER = "cut-under-request"


def _wrapped(driver_error: BaseException) -> OperationalError:
    """What SQLAlchemy raises for a driver error: the adapted error caused by the driver's."""
    adapted = Exception(str(driver_error))
    adapted.__cause__ = driver_error
    return OperationalError("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (db_error(invalidated=True), True),
        (db_error(sqlstate="57P01"), True),  # terminated by an administrator
        (db_error(sqlstate="08006"), True),
        (db_error("database is locked"), True),
        (_wrapped(asyncpg.ConnectionDoesNotExistError("closed in the middle")), True),
        (_wrapped(asyncpg.CannotConnectNowError("the database system is starting up")), True),
        (_wrapped(asyncpg.TooManyConnectionsError("too many clients")), True),
        (_wrapped(asyncpg.InterfaceError("another operation is in progress")), True),
        (asyncpg.ConnectionDoesNotExistError("raised unwrapped"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (PoolTimeout("QueuePool limit reached"), True),
        (db_error(sqlstate="23505"), False),
        (IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")), False),
        (InterfaceError("INSERT", {}, sqlite3.InterfaceError("Error binding parameter 1")), False),
        (_wrapped(asyncpg.InterfaceError("the server expects 2 arguments")), False),
        (ValueError("not a database error"), False),
    ],
)
def test_which_failures_mean_the_database_is_unavailable(
    error: BaseException, unavailable: bool
) -> None:
    assert is_unavailable(error) is unavailable
    assert is_unavailable(ExceptionGroup("in a task group", [error])) is unavailable


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def organisations_named(database: Database, name: str) -> int:
    async with database.unit_of_work(readonly=True) as session:
        count = await session.scalar(select(func.count()).where(Organisation.name == name))
    return int(count or 0)


@pytest.fixture
def slow_write(app: FastAPI) -> str:
    """A route that writes an organisation, then waits in the database before committing."""
    name = f"{MARKER} {uuid.uuid4().hex[:8]}"

    async def write_then_wait(session: SessionDep) -> dict[str, Any]:
        session.add(Organisation(kind=OrganisationKind.authority, name=name))
        await session.flush()
        await session.execute(text("SELECT pg_sleep(60) /* " + MARKER + " */"))
        return {}

    app.router.add_api_route("/test/slow-write", write_then_wait, methods=["POST"])
    return name


@pytest.mark.postgres_only
async def test_a_request_whose_connection_is_cut_gets_503_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, database: Database, database_url: str, slow_write: str
) -> None:
    request = asyncio.create_task(client.post("/test/slow-write"))
    cut = 0
    for _ in range(200):
        cut = await terminate_backends(database_url, f"%pg_sleep(60) /* {MARKER}%")
        if cut:
            break
        await asyncio.sleep(0.05)
    assert cut == 1
    assert_unavailable(await asyncio.wait_for(request, timeout=30))
    assert await organisations_named(database, slow_write) == 0
    assert (await client.get("/readyz")).status_code == 200  # the pool opens a new connection


@pytest.mark.postgres_only
async def test_idle_pooled_connections_cut_between_requests(
    app: FastAPI, client: httpx.AsyncClient, database: Database, database_url: str
) -> None:
    """Whether the pool checks connections before use or not: a 503 at worst, never a 500."""
    async with database.session() as session:
        headers = await auth_headers(app, session, await create_user(session))
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
    for _ in range(3):
        assert await terminate_backends(database_url) >= 1
        statuses = []
        for _ in range(5):
            response = await client.get("/v1/users/me", headers=headers)
            if response.status_code == 200:
                break
            assert_unavailable(response)
            statuses.append(response.status_code)
        assert response.status_code == 200, statuses


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sqlite_busy_timeout_ms": 200})


async def test_a_locked_sqlite_file_gets_503(
    app: FastAPI, client: httpx.AsyncClient, database: Database, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    async with database.session() as session:
        headers = await auth_headers(app, session, await create_user(session, role=Role.owner))
    path = make_url(app.state.settings.resolved_database_url).database
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        response = await client.patch(
            "/v1/organisations/me", json={"name": "locked out"}, headers=headers
        )
        assert_unavailable(response)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    after = await client.get("/v1/organisations/me", headers=headers)
    assert after.status_code == 200
    assert after.json()["name"] != "locked out"
