"""Test databases: one migrated template per backend, a fresh copy for every test.

SQLite: the template file is copied. PostgreSQL (when ``VOUCHER_TEST_POSTGRES_URL`` is set):
``CREATE DATABASE ... TEMPLATE``, dropped after the test. Every test therefore commits for real,
runs real concurrent transactions, and still starts from a clean, migrated schema.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import shutil
import threading
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
    """A copy of ``template``. Its commits do not wait for the disk: a test database needs no
    durability across a server crash, and fsync per commit is most of a test's database time."""
    name = f"vs_t_{tag}_{os.getpid()}_{next(_counter)}"
    run_sync(
        _admin(
            f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )
    )
    return name


def drop_postgres(name: str) -> None:
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PostgresCopies:
    """Fresh copies of a template, made ahead and dropped behind in background threads.

    Creating a database from a template and dropping one (which forces a checkpoint) take longer
    than most tests; a test takes a copy that is already made and hands it back to be dropped
    while the next tests run. Several drops at once wait for the same checkpoint.
    """

    def __init__(self, template: str, tag: str, ahead: int = 2, droppers: int = 3) -> None:
        self._template = template
        self._tag = tag
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=ahead)
        self._doomed: queue.Queue[str | None] = queue.Queue()
        self._closing = threading.Event()
        self._maker = threading.Thread(target=self._make, name="pg-copy-maker", daemon=True)
        self._droppers = [
            threading.Thread(target=self._drop, name="pg-copy-dropper", daemon=True)
            for _ in range(droppers)
        ]
        self._maker.start()
        for dropper in self._droppers:
            dropper.start()

    def take(self) -> str:
        """A fresh copy, yours until you ``give_back`` its name."""
        copy = self._ready.get()
        if isinstance(copy, BaseException):
            raise copy
        return copy

    def give_back(self, name: str) -> None:
        self._doomed.put(name)

    def close(self) -> None:
        """Stop making copies; drop every copy, made or given back; wait until they are gone."""
        self._closing.set()
        while self._maker.is_alive():
            self._drain_ready()
            self._maker.join(timeout=0.1)
        self._drain_ready()
        for _ in self._droppers:
            self._doomed.put(None)  # one stop sign each
        for dropper in self._droppers:
            dropper.join()

    def _drain_ready(self) -> None:
        while True:
            try:
                copy = self._ready.get_nowait()
            except queue.Empty:
                return
            if isinstance(copy, str):
                self._doomed.put(copy)

    def _make(self) -> None:
        while not self._closing.is_set():
            try:
                copy: str | BaseException = create_postgres_copy(self._template, self._tag)
            except BaseException as error:  # handed to the test that takes it
                copy = error
            self._ready.put(copy)

    def _drop(self) -> None:
        while (name := self._doomed.get()) is not None:
            drop_postgres(name)
