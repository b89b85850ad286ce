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
    """Counts units of work; the ``fail_*`` lists make the next opens or commits raise."""

    def __init__(self) -> None:
        self.opened = 0
        self.committed = 0
        self.fail_commits: list[BaseException] = []
        self.fail_opens: list[BaseException] = []

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        if self.fail_opens:
            raise self.fail_opens.pop(0)
        self.opened += 1
        yield object()
        if self.fail_commits:
            raise self.fail_commits.pop(0)
        self.committed += 1
