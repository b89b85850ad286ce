"""One attempt's classification, with httpx's MockTransport standing in for the provider."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from providers.webhooks.delivery import EXCERPT_BYTES, Claimed, attempt_delivery
from providers.webhooks.models import FAILED, GONE, OK
from providers.webhooks.ssrf import UrlGuard
from tests.providers.webhooks.conftest import FakeClock

CLAIMED = Claimed(
    event_id=uuid.uuid4(),
    provider_id=uuid.uuid4(),
    event_type="voucher.bound",
    payload='{"type":"voucher.bound"}',
    attempt_count=1,
    round_attempt=1,
    url="https://hooks.example/in",
    keys=(b"k" * 32,),
)


async def attempt(handler: Callable[[httpx.Request], httpx.Response], *, https_only: bool = False):  # type: ignore[no-untyped-def]
    guard = UrlGuard(require_https=https_only, allow_loopback=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await attempt_delivery(client, guard, CLAIMED, timeout=1, clock=FakeClock())


@pytest.mark.parametrize(
    ("response", "outcome", "error"),
    [
        (httpx.Response(200), OK, None),
        (httpx.Response(202, text="queued"), OK, None),
        (httpx.Response(410), GONE, "HTTP 410 Gone: the endpoint asked us to stop"),
        (
            httpx.Response(302, headers={"location": "https://x/"}),
            FAILED,
            "HTTP 302: redirect to https://x/ not followed",
        ),
        (httpx.Response(301), FAILED, "HTTP 301: redirect to (no Location) not followed"),
        (httpx.Response(400, text="bad signature"), FAILED, "HTTP 400: bad signature"),
        (httpx.Response(503), FAILED, "HTTP 503"),
    ],
)
async def test_status_codes(response: httpx.Response, outcome: str, error: str | None) -> None:
    result = await attempt(lambda _request: response)
    assert (result.outcome, result.status_code, result.error) == (
        outcome,
        response.status_code,
        error,
    )


async def test_the_request_is_a_signed_json_post() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    await attempt(handler)
    [request] = seen
    assert request.method == "POST" and request.content == CLAIMED.payload.encode()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == str(CLAIMED.event_id)
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["user-agent"].startswith("voucher-service-webhooks/")


async def test_a_long_answer_is_cut_for_the_log() -> None:
    result = await attempt(lambda _request: httpx.Response(500, text="x" * 10_000))
    assert result.error == "HTTP 500: " + "x" * EXCERPT_BYTES


async def test_retry_after_is_read_from_any_failure() -> None:
    result = await attempt(lambda _request: httpx.Response(503, headers={"retry-after": "30"}))
    assert result.retry_after == timedelta(seconds=30)


async def test_connection_errors_and_surprises_are_failed_attempts() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def explode(_request: httpx.Request) -> httpx.Response:
        raise RuntimeError("bug in a dependency")

    refused = await attempt(refuse)
    assert (refused.outcome, refused.error) == (FAILED, "ConnectError: connection refused")
    surprised = await attempt(explode)
    assert (surprised.outcome, surprised.error) == (
        FAILED,
        "unexpected RuntimeError: bug in a dependency",
    )


async def test_http_is_refused_at_delivery_in_production() -> None:
    plain = Claimed(**{**CLAIMED.__dict__, "url": "http://hooks.example/in"})
    guard = UrlGuard(require_https=True, allow_loopback=False)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _r: httpx.Response(200))
    ) as client:
        result = await attempt_delivery(client, guard, plain, timeout=1, clock=FakeClock())
    assert result.outcome == FAILED
    assert (result.error or "").startswith("webhook_url_refused: The URL must start with https")
