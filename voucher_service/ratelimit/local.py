"""The provider API's rate limit, counted in process memory (no database round trip).

The provider API is the hot path: counting each call in a shared database row cost a transaction
of its own (three round trips) and a row lock serialising a client's calls. Here each API process
counts its own calls with the same sliding-window estimate as :mod:`.service`. With N replicas
behind a load balancer a client can therefore reach up to N times its limit in total: set
``rate_limit_provider_per_client`` (and ``..._per_address``) per replica. Limits that must hold
across processes (logins, token requests, objections) keep using the database counter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from voucher_service.ratelimit.service import Limit, judge

#: Past this many keys, buckets idle for two windows are dropped (they would count as empty).
SWEEP_ABOVE = 10_000


@dataclass
class _Bucket:
    window: int
    count: int = 0
    previous_count: int = 0


class LocalRateLimiter:
    """Sliding-window counters per key, for one process (one event loop: no locking needed)."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self._buckets: dict[str, _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, limits: list[Limit], *, now: float | None = None) -> None:
        """Count one hit against each limit; RateLimited (429, Retry-After) if any is exceeded."""
        active = [limit for limit in limits if limit.limit > 0]
        if not active:
            return
        window, into = divmod(time.time() if now is None else now, self.window_seconds)
        counts = [(limit.limit, *self._hit(limit.key, int(window))) for limit in active]
        judge(counts, into, self.window_seconds)

    def _hit(self, key: str, window: int) -> tuple[int, int]:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= SWEEP_ABOVE:
                self._sweep(window)
            bucket = self._buckets[key] = _Bucket(window)
        if bucket.window != window:
            bucket.previous_count = bucket.count if bucket.window == window - 1 else 0
            bucket.count, bucket.window = 0, window
        bucket.count += 1
        return bucket.count, bucket.previous_count

    def _sweep(self, window: int) -> None:
        idle = [key for key, bucket in self._buckets.items() if bucket.window < window - 1]
        for key in idle:
            del self._buckets[key]


def limiter_for(state: Any, window_seconds: int) -> LocalRateLimiter:
    """The process's limiter kept on ``state`` (the application's), made on first use."""
    limiter: LocalRateLimiter | None = getattr(state, "provider_rate_limiter", None)
    if limiter is None or limiter.window_seconds != window_seconds:
        limiter = state.provider_rate_limiter = LocalRateLimiter(window_seconds)
    return limiter
