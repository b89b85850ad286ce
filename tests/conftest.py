"""Fixtures shared by the whole suite: a database per test on each backend, app and client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests import databases
from voucher_service.app import create_app
from voucher_service.db import Database
from voucher_service.settings import Settings

BACKENDS = ["sqlite", "postgres"] if databases.POSTGRES_URL else ["sqlite"]


@pytest.fixture(scope="session")
def worker_tag(request: pytest.FixtureRequest) -> str:
    worker_input = getattr(request.config, "workerinput", None)
    return worker_input["workerid"] if worker_input else "main"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.make_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_template(worker_tag: str) -> Iterator[str]:
    if not databases.POSTGRES_URL:
        pytest.skip("VOUCHER_TEST_POSTGRES_URL is not set")
    name = databases.create_postgres_template(worker_tag)
    yield name
    databases.drop_postgres(name)


@pytest.fixture(scope="session")
def postgres_copies(postgres_template: str, worker_tag: str) -> Iterator[databases.PostgresCopies]:
    copies = databases.PostgresCopies(postgres_template, worker_tag)
    yield copies
    copies.close()


def _postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    copies: databases.PostgresCopies = request.getfixturevalue("postgres_copies")
    name = copies.take()
    yield databases.postgres_url(name)
    copies.give_back(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite``, and ``postgres`` when configured."""
    if request.param == "sqlite" and request.node.get_closest_marker("postgres_only"):
        pytest.skip("PostgreSQL only")
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if backend == "sqlite":
        yield databases.copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        yield from _postgres_database(request)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        environment="development",
        embedded_worker=False,
        # Cheap argon2 for speed; production defaults are checked in tests/auth/test_passwords.py.
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        password_hash_parallelism=1,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def database(app: FastAPI) -> Database:
    return app.state.database  # type: ignore[no-any-return]


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data; commit to make it visible to the app."""
    async with database.session() as session:
        yield session


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client
