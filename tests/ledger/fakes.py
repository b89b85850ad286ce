"""Stand-ins for a unit of work and for database errors, to drive retry logic exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError


class DriverError(Exception):
    """What a driver raises: a message and, from PostgreSQL, a SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def db_error(
    message: str = "boom", sqlstate: str | None = None, *, invalidated: bool = False
) -> DBAPIError:
    return DBAPIError(
        "SELECT 1", {}, DriverError(message, sqlstate), connection_invalidated=invalidated
    )


class FakeUnitOfWork:
    """Counts units of work; ``fail_commits`` makes the next commits raise that error."""

    def __init__(self) -> None:
        self.opened = 0
        self.committed = 0
        self.fail_commits: list[BaseException] = []

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        self.opened += 1
        yield object()
        if self.fail_commits:
            raise self.fail_commits.pop(0)
        self.committed += 1
