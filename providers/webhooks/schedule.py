"""When to try again: the retry schedule of DESIGN.md section 7, with jitter and ``Retry-After``.

Attempt 1 is immediate; after it fails, attempts follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h and 24 h after the previous one (ten attempts, about three days). Each delay is spread by
±10 % so that the retries of a burst of events do not all land on the provider in the same second.
A ``Retry-After`` from the provider is honoured: the next attempt is never earlier than it asks,
though never later than the longest step of the schedule (a provider cannot park an event for a
year). After the last attempt the event is dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)

_system_random = random.SystemRandom()


@dataclass(frozen=True)
class RetryPolicy:
    """The schedule, its jitter, and the source of randomness (injectable for tests)."""

    delays: tuple[timedelta, ...] = RETRY_DELAYS
    jitter: float = 0.1
    random: Callable[[], float] = field(default=_system_random.random)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def max_retry_after(self) -> timedelta:
        return max(self.delays)

    def delay_after(self, attempt: int) -> timedelta | None:
        """The jittered wait after failed attempt number ``attempt`` (1-based), None if last."""
        if attempt < 1 or attempt > len(self.delays):
            return None
        spread = 1 + self.jitter * (2 * self.random() - 1)
        return self.delays[attempt - 1] * spread

    def next_attempt_at(
        self, attempt: int, failed_at: datetime, retry_after: timedelta | None = None
    ) -> datetime | None:
        """When to try after failed attempt ``attempt``, or None to dead-letter the event."""
        delay = self.delay_after(attempt)
        if delay is None:
            return None
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return failed_at + delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as a wait from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(moment - now, timedelta(0))
