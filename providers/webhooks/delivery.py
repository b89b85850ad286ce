"""One delivery attempt: sign, POST, classify the answer.

2xx is success. 410 Gone disables the endpoint. Redirects are never followed (the client does not
follow them, and a redirect to an internal address would bypass the SSRF guard): they fail and are
retried like 429, 5xx, timeouts and connection errors. ``Retry-After`` is kept for the schedule.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from providers.webhooks.errors import WebhookError
from providers.webhooks.models import FAILED, GONE, OK
from providers.webhooks.schedule import parse_retry_after
from providers.webhooks.signing import webhook_headers
from providers.webhooks.ssrf import UrlGuard

Clock = Callable[[], datetime]

logger = logging.getLogger("providers.webhooks")

USER_AGENT = "voucher-service-webhooks/1"
EXCERPT_BYTES = 200
ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Claimed:
    """An event a worker holds, with what it needs to send it."""

    event_id: uuid.UUID
    provider_id: uuid.UUID
    event_type: str
    payload: str
    attempt_count: int  # this attempt's number over the event's life (fences the result)
    round_attempt: int  # its position in the retry schedule
    url: str
    keys: tuple[bytes, ...]

    def __repr__(self) -> str:  # the keys never reach a log
        return f"Claimed(event_id={self.event_id}, attempt={self.attempt_count}, url={self.url!r})"


@dataclass(frozen=True)
class AttemptResult:
    claimed: Claimed
    started_at: datetime
    finished_at: datetime
    outcome: str
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class _Answer:
    status_code: int
    excerpt: str
    retry_after: str | None
    location: str | None


async def attempt_delivery(
    client: httpx.AsyncClient, guard: UrlGuard, claimed: Claimed, *, timeout: float, clock: Clock
) -> AttemptResult:
    """POST ``claimed`` once, within ``timeout`` seconds overall, and classify the outcome."""
    started_at = clock()
    started = time.perf_counter()
    body = claimed.payload.encode()
    # The signed timestamp is the wall clock even when tests inject a retry clock: receivers
    # check it against theirs.
    headers = webhook_headers(str(claimed.event_id), int(time.time()), body, claimed.keys)
    headers["user-agent"] = USER_AGENT
    answer: _Answer | None = None
    error: str | None = None
    try:
        guard.check_syntax(claimed.url)  # the https rule may have changed since it was saved
        async with asyncio.timeout(timeout):
            answer = await _post(client, claimed.url, body, headers)
    except TimeoutError:
        error = f"timeout: no complete answer within {timeout:g} s"
    except WebhookError as exc:
        error = f"{exc.code}: {exc}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception as exc:
        # Anything else still ends as a failed attempt on a schedule: an event that always
        # breaks the sender must not escape the retry limit, nor stop the other deliveries.
        logger.exception("unexpected error delivering a webhook", extra={"url": claimed.url})
        error = f"unexpected {type(exc).__name__}: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000)
    finished_at = clock()
    if answer is None:
        return AttemptResult(
            claimed, started_at, finished_at, FAILED, None, latency_ms, (error or "")[:ERROR_LENGTH]
        )
    return _classify(claimed, started_at, finished_at, latency_ms, answer)


async def _post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> _Answer:
    async with client.stream("POST", url, content=body, headers=headers) as response:
        excerpt = bytearray()
        # Read a little of the body (for the log) and stop: a receiver cannot make us buffer a
        # large answer. A short body is read to its end, so the connection can be reused.
        async for chunk in response.aiter_bytes():
            excerpt += chunk
            if len(excerpt) > EXCERPT_BYTES:
                break
        return _Answer(
            response.status_code,
            excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
            response.headers.get("retry-after"),
            response.headers.get("location"),
        )


def _classify(
    claimed: Claimed, started_at: datetime, finished_at: datetime, latency_ms: int, answer: _Answer
) -> AttemptResult:
    status = answer.status_code
    if 200 <= status < 300:
        return AttemptResult(claimed, started_at, finished_at, OK, status, latency_ms)
    if status == 410:
        error = "HTTP 410 Gone: the endpoint asked us to stop"
        return AttemptResult(claimed, started_at, finished_at, GONE, status, latency_ms, error)
    if 300 <= status < 400:
        error = f"HTTP {status}: redirect to {answer.location or '(no Location)'} not followed"
    else:
        error = f"HTTP {status}" + (f": {answer.excerpt.strip()}" if answer.excerpt.strip() else "")
    return AttemptResult(
        claimed,
        started_at,
        finished_at,
        FAILED,
        status,
        latency_ms,
        error[:ERROR_LENGTH],
        parse_retry_after(answer.retry_after, finished_at),
    )
