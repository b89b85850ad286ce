"""Retries: network errors, 5xx and 429 are tried again with the same idempotency key and
backoff; other 4xx never; a lost response is answered from the service's record."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from providers.sdk import (
    NO_RETRIES,
    AsyncVoucherClient,
    BadRequest,
    ClientSecret,
    DuplicateOrderId,
    NotFound,
    PrivateKeyJwt,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportFailure,
)
from tests.callbacks.conftest import Recorder
from tests.sdk.conftest import async_client
from tests.sdk.faults import Faults

TOKEN = "/v1/oauth/token"
ME = "/v1/provider/me"
CALLBACKS = "/v1/provider/callbacks"


async def test_network_errors_are_retried(sdk: AsyncVoucherClient, faults: Faults) -> None:
    faults.count, faults.mode, faults.path = 2, "before", ME
    assert (await sdk.me()).scopes
    assert faults.paths() == [TOKEN, ME, ME, ME]


async def test_the_token_request_is_retried_too(sdk: AsyncVoucherClient, faults: Faults) -> None:
    faults.count, faults.mode, faults.path = 1, "status", TOKEN
    await sdk.me()
    assert faults.paths() == [TOKEN, TOKEN, ME]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_5xx_and_429_are_retried(
    sdk: AsyncVoucherClient, faults: Faults, status: int
) -> None:
    faults.count, faults.mode, faults.path, faults.status = 3, "status", ME, status
    await sdk.me()
    assert faults.paths() == [TOKEN, ME, ME, ME, ME]


async def test_giving_up_raises_what_the_last_attempt_got(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=0.001)
    async with async_client(app, secret_credentials, faults, retry=policy) as sdk:
        faults.count, faults.mode, faults.path = 3, "status", ME
        with pytest.raises(ServerError) as failed:
            await sdk.me()
        assert failed.value.status == 503
        faults.count, faults.mode = 3, "before"
        with pytest.raises(TransportFailure):
            await sdk.me()
    assert faults.paths().count(ME) == 6


async def test_retry_after_is_honoured_and_too_long_a_wait_gives_up(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with async_client(app, secret_credentials, faults, sleep=sleep) as sdk:
        faults.count, faults.mode, faults.path, faults.status = 1, "status", ME, 429
        faults.headers = {"Retry-After": "7"}
        await sdk.me()
        assert waits == [7.0]
        faults.count, faults.headers = 1, {"Retry-After": "3600"}
        with pytest.raises(RateLimited) as limited:
            await sdk.me()
    assert limited.value.retry_after == "3600"
    assert waits == [7.0]
    assert faults.paths() == [TOKEN, ME, ME, ME]


async def test_backoff_grows_with_jitter(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=3.0)
    async with async_client(app, secret_credentials, faults, sleep=sleep, retry=policy) as sdk:
        faults.count, faults.mode, faults.path = 3, "before", ME
        await sdk.me()
    assert len(waits) == 3
    for wait, ceiling in zip(waits, [1.0, 2.0, 3.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling


async def test_other_4xx_are_answers_and_never_retried(
    sdk: AsyncVoucherClient, faults: Faults
) -> None:
    with pytest.raises(NotFound) as missing:
        await sdk.run(sdk.ops.call("GET", "/v1/provider/no-such-thing", dict))
    assert missing.value.status == 404
    assert faults.paths() == [TOKEN, "/v1/provider/no-such-thing"]


async def test_without_retries_one_attempt(
    app: FastAPI, secret_credentials: ClientSecret, faults: Faults
) -> None:
    faults.count, faults.mode, faults.path = 1, "before", ME
    async with async_client(app, secret_credentials, faults, retry=NO_RETRIES) as sdk:
        with pytest.raises(TransportFailure):
            await sdk.me()
    assert faults.paths() == [TOKEN, ME]


async def test_one_idempotency_key_per_call_kept_across_its_attempts(
    sdk: AsyncVoucherClient, faults: Faults
) -> None:
    path = "/v1/provider/webhook-endpoint"
    body = {"url": "https://hooks.invalid/voucher", "events": ["redemption.captured"]}
    faults.count, faults.mode, faults.path = 2, "before", path
    # The address does not resolve, so the service refuses it (422): the request is what counts.
    with pytest.raises(BadRequest):
        await sdk.run(sdk.ops.call("PUT", path, dict, body=body))
    with pytest.raises(BadRequest):
        await sdk.run(sdk.ops.call("PUT", path, dict, body=body, idempotency_key="mine-1"))
    keys = [r.headers["idempotency-key"] for r in faults.seen if r.url.path == path]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3] == "mine-1"
    assert all("idempotency-key" not in r.headers for r in faults.seen if r.method == "GET")


async def test_a_lost_response_is_answered_from_the_record(
    app: FastAPI, key_credentials: PrivateKeyJwt, faults: Faults, recorder: Recorder
) -> None:
    """The callback is handled once although the SDK sent it three times."""
    faults.count, faults.mode, faults.path = 2, "after", CALLBACKS
    async with async_client(app, key_credentials, faults, scope="settlements:write") as sdk:
        answer = await sdk.send_callback("test.recorded", {"amount": 42}, callback_id="cb-1")
    assert answer.outcome == {"recorded_amount": 42, "call": 1}
    assert answer.id == "cb-1" and answer.replayed  # the answer that reached us was a replay
    assert len(recorder.calls) == 1
    sent = [r for r in faults.seen if r.url.path == CALLBACKS]
    assert len(sent) == 3
    # Same callback id every time, a fresh signature over a fresh timestamp each attempt.
    assert len({r.headers["jws-signature"] for r in sent}) == 3


async def test_a_request_still_in_progress_is_waited_for_but_other_conflicts_are_not(
    sdk: AsyncVoucherClient, faults: Faults
) -> None:
    faults.count, faults.mode, faults.path, faults.status = 1, "status", ME, 409
    faults.code = "idempotency_request_in_progress"
    await sdk.me()
    assert faults.paths() == [TOKEN, ME, ME]
    faults.count, faults.code = 1, "duplicate_order_id"
    with pytest.raises(DuplicateOrderId):
        await sdk.me()
    assert faults.paths() == [TOKEN, ME, ME, ME]
