"""Running a unit of work with bounded retries on deadlocks, serialization failures and lost
connections.

The ledger never commits, so it cannot retry by itself: a deadlock aborts the caller's whole
transaction. :func:`run_transaction` owns the transaction instead: it opens a unit of work,
runs ``work(session)`` in it, commits, and on a retryable failure (including one raised by the
commit itself) starts again in a fresh transaction. ``work`` must therefore be safe to run again,
which ledger calls are by construction: the same client id either replays the stored outcome or,
if the earlier attempt never committed, runs afresh.

Because the unit of work commits whatever ``work`` returns, a refused :class:`~ledger.Outcome`
is remembered before the caller sees it; raise ``outcome.unwrap()`` afterwards, not inside.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Work = Callable[[AsyncSession], Awaitable[T]]

logger = logging.getLogger("ledger.retry")

DEFAULT_ATTEMPTS = 6
#: serialization_failure, deadlock_detected, and the server ending the session
#: (admin_shutdown, crash_shutdown, cannot_connect_now).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_RETRYABLE_MESSAGES = ("database is locked", "database is busy", "connection is closed")


def is_retryable(error: BaseException) -> bool:
    """True for failures a fresh transaction may not hit again."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate in RETRYABLE_SQLSTATES or sqlstate[:2] == "08"):
        return True
    message = str(error.orig).lower()
    return any(fragment in message for fragment in _RETRYABLE_MESSAGES)


def backoff(attempt: int, base: float = 0.005, cap: float = 0.5) -> float:
    """Full-jitter exponential backoff before retry number ``attempt`` (1-based)."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not secrets


async def run_transaction(
    unit_of_work: UnitOfWork, work: Work[T], *, attempts: int = DEFAULT_ATTEMPTS
) -> T:
    """Run ``work`` in a unit of work and commit, retrying retryable failures up to ``attempts``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        try:
            async with unit_of_work() as session:
                return await work(session)
        except DBAPIError as error:
            if attempt >= attempts or not is_retryable(error):
                raise
            logger.info("retrying a unit of work", extra={"attempt": attempt, "error": str(error)})
        await asyncio.sleep(backoff(attempt))
        attempt += 1
