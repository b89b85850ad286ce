"""Test databases: one migrated template per backend, a fresh copy for every test.

SQLite: the template file is copied. PostgreSQL (when ``VOUCHER_TEST_POSTGRES_URL`` is set):
``CREATE DATABASE ... TEMPLATE``, dropped after the test. Every test therefore commits for real,
runs real concurrent transactions, and still starts from a clean, migrated schema.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from voucher_service import migrations

T = TypeVar("T")

POSTGRES_URL = os.environ.get("VOUCHER_TEST_POSTGRES_URL", "")
_counter = itertools.count()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even if an event loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrations.upgrade(sqlite_url(path))
    return path


def copy_sqlite(template: Path, directory: Path) -> str:
    path = directory / "test.db"
    shutil.copyfile(template, path)
    return sqlite_url(path)


def _postgres_dsn(database: str | None = None) -> str:
    url = make_url(POSTGRES_URL)
    if database:
        url = url.set(database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(_postgres_dsn())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_template(tag: str) -> str:
    name = f"vs_tmpl_{tag}_{os.getpid()}"
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    migrations.upgrade(postgres_url(name))
    return name


def create_postgres_copy(template: str, tag: str) -> str:
    name = f"vs_t_{tag}_{os.getpid()}_{next(_counter)}"
    run_sync(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


def drop_postgres(name: str) -> None:
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
