"""Which failures mean "the database is unavailable right now", answered 503 with ``Retry-After``.

A connection cut under a request (``pg_terminate_backend``, a restart of the server, a network
drop), a server that refuses connections while it starts or shuts down, an exhausted connection
pool, and the failures a fresh transaction would not hit again (deadlocks, serialization failures,
a busy SQLite file: :func:`ledger.is_retryable`). The request's unit of work did not commit, so
nothing is half-written; the client retries (with the same ``Idempotency-Key``) and the pool opens
new connections, so the service recovers by itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc

from ledger import is_retryable

RETRY_AFTER_SECONDS = 2

#: What the app registers a handler for; :func:`is_unavailable` decides within them.
CANDIDATE_TYPES: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,  # no pooled connection within the pool's timeout
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ConnectionError,  # refused or reset while the pool opens a connection
)

# asyncpg (not SQLSTATE) errors of a connection that is closed or was left busy by a cut.
_CONNECTION_STATE_MESSAGES = ("connection is closed", "another operation is in progress")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, the driver error SQLAlchemy wrapped, their causes, a group's members."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [
            orig if isinstance(orig, BaseException) else None,
            current.__cause__,
            current.__context__,
        ]
        if isinstance(current, BaseExceptionGroup):
            pending += current.exceptions


def _one_is_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError):
        return is_retryable(error)
    if isinstance(error, sa_exc.TimeoutError | ConnectionError):
        return True
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        return str(getattr(error, "sqlstate", "")) in {"57P01", "57P02", "57P03", "53300"}
    if isinstance(error, asyncpg.InterfaceError):
        return any(fragment in str(error) for fragment in _CONNECTION_STATE_MESSAGES)
    return False


def is_unavailable(error: BaseException) -> bool:
    """True if ``error`` (or what it wraps) says the database cannot serve this request now."""
    return any(_one_is_unavailable(link) for link in _chain(error))
