"""When to send a request again, and how long to wait first (no I/O here).

Safe to retry: a network error, a 5xx, a 429, and a 409 ``idempotency_request_in_progress`` (the
first attempt with the same key is still running on the server, typically after our read timed
out). Every other 4xx is an answer: sending the same request again would get the same one.
Retrying a POST is safe because each logical call carries one ``Idempotency-Key`` for all its
attempts, so the service performs it at most once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

IN_FLIGHT_CODE = "idempotency_request_in_progress"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits ``base × 2^(n-1)`` capped at
    ``max_delay``, scaled by a random factor in [0.5, 1]. ``Retry-After`` is honoured up to
    ``max_retry_after`` (a longer wait gives up and raises)."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0
    retry_in_flight: bool = True
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return delay * (0.5 + self.jitter() / 2)

    def retryable_status(self, status: int, code: str | None) -> bool:
        if status == 429 or status >= 500:
            return True
        return status == 409 and self.retry_in_flight and code == IN_FLIGHT_CODE

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float | None:
        """How long to wait before attempt ``attempt + 1``; None when it is time to give up."""
        if attempt >= self.max_attempts:
            return None
        backoff = self.backoff(attempt)
        asked = retry_after_seconds((headers or {}).get("retry-after"))
        if asked is None:
            return backoff
        if asked > self.max_retry_after:
            return None
        return max(asked, backoff)


NO_RETRIES = RetryPolicy(max_attempts=1)
