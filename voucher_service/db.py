"""Engine and session handling: one unit of work per request or job, committed in one place.

PostgreSQL connections are not pinged on checkout (``pool_pre_ping`` costs a round trip per
unit of work). A connection the server closed (a restart, ``pg_terminate_backend``) is noticed by
asyncpg as soon as the socket closes; the checkout hook below replaces it without any round trip.
A connection that breaks during a statement is invalidated by SQLAlchemy together with every
older pooled connection (``is_disconnect``), and the failed unit of work answers 5xx: the
caller's retry, with the same ``Idempotency-Key``, gets a fresh connection.

SQLite is configured for safe concurrent use: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE``
for every transaction that may write, so two writers queue instead of failing half-way. Read-only
units of work (``readonly=True``) begin deferred so readers never wait for writers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from voucher_service.settings import Settings

_READONLY = "voucher_readonly"


def ensure_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite database file, so a first start just works."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database."""
    url = settings.resolved_database_url
    if settings.is_sqlite:
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def _replace_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection whose socket the server closed: the pool opens a new one.

    ``is_closed()`` reads asyncpg's own state (set when the socket closed), not the network.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_READONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine plus the session factories built on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        read_engine = engine.execution_options(**{_READONLY: True})
        self._read_sessions = async_sessionmaker(
            read_engine, expire_on_commit=False, autoflush=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends, rolled back if it raises."""
        factory = self._read_sessions if readonly else self._sessions
        async with factory() as session:
            try:
                yield session
                # A read-only unit of work is never committed: closing the session rolls its
                # transaction back without expiring the objects the caller has loaded.
                if not readonly:
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise

    def session(self) -> AsyncSession:
        """A bare session (the caller commits); for tests and scripts, not for request code."""
        return self._sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()
