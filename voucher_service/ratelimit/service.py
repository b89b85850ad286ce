"""A sliding-window rate limiter whose counters live in the database.

Several API replicas share one PostgreSQL, so counters kept in process memory would multiply
every limit by the number of replicas. Each key is one row updated by a single atomic upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on both backends) that rolls the window
forward and counts the hit; the estimate weights the previous window by how much of it still
overlaps the sliding window (Cloudflare's approximation). The hit is committed in its own short
transaction, so it holds no lock while the request runs and is not undone by a failed request.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from voucher_service.auth.errors import RateLimited
from voucher_service.db import Database
from voucher_service.ratelimit.models import RateLimitBucket


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits per window for ``key``; 0 switches the limit off."""

    key: str
    limit: int


def key_for(scope: str, kind: str, value: str) -> str:
    """A bounded key that does not store the raw value (e-mail addresses, say)."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{scope}:{kind}:{digest}"


async def _hit(session: AsyncSession, key: str, window: int) -> tuple[int, int]:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(RateLimitBucket).values(key=key, window=window, count=1, previous_count=0)
    bucket = RateLimitBucket.__table__.c  # type: ignore[attr-defined]
    upsert = statement.on_conflict_do_update(
        index_elements=[bucket.key],
        set_={
            "previous_count": case(
                (bucket.window == window, bucket.previous_count),
                (bucket.window == window - 1, bucket.count),
                else_=0,
            ),
            "count": case((bucket.window == window, bucket.count + 1), else_=1),
            "window": window,
        },
    ).returning(bucket.count, bucket.previous_count)
    row = (await session.execute(upsert)).one()
    return int(row[0]), int(row[1])


async def check(database: Database, limits: list[Limit], *, window_seconds: int) -> None:
    """Count one hit against each limit; RateLimited (429, Retry-After) if any is exceeded."""
    active = [limit for limit in limits if limit.limit > 0]
    if not active:
        return
    window, into = divmod(time.time(), window_seconds)
    counts = []
    async with database.unit_of_work() as session:
        for limit in active:
            counts.append((limit.limit, *await _hit(session, limit.key, int(window))))
    judge(counts, into, window_seconds)


def judge(counts: list[tuple[int, int, int]], into: float, window_seconds: int) -> None:
    """Raise RateLimited if any ``(limit, count, previous_count)`` is over its limit.

    The estimate weights the previous window by how much of it still overlaps the sliding
    window; ``into`` is how far (seconds) the current window has run.
    """
    overlap = 1 - into / window_seconds
    exceeded = crossed = False
    for limit, count, previous in counts:
        estimate = previous * overlap + count
        exceeded |= estimate > limit
        crossed |= limit < estimate <= limit + 1
    if exceeded:
        retry_after = max(1, math.ceil(window_seconds - into))
        refusal = RateLimited(
            f"Too many requests; try again in {retry_after} seconds.",
            detail_zh=f"请求过于频繁，请 {retry_after} 秒后重试。",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
        refusal.first_refusal = crossed
        raise refusal


async def purge(session: AsyncSession, *, window_seconds: int) -> int:
    """Delete buckets idle for two windows (they would count as empty anyway)."""
    current = int(time.time() // window_seconds)
    result = await session.execute(
        delete(RateLimitBucket).where(col(RateLimitBucket.window) < current - 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)
