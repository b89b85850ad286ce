"""The sans-I/O core: every call is a generator that yields what it needs done.

A flow yields ``Send`` (answered with the ``httpx.Response``, or the network error thrown in),
``Sleep`` (answered with None) or ``NeedToken`` (answered with a bearer token). It returns its
result or raises. ``VoucherClient`` and ``AsyncVoucherClient`` each drive flows with a dozen
lines of I/O (``drive``/``drive_async`` below); tokens, retries, idempotency keys and parsing
are written once, here and in ``operations``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from providers.sdk.errors import ProblemError, TransportFailure, problem_error
from providers.sdk.retry import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class RequestSpec:
    """An HTTP request before it is sent (relative ``path``; the driver adds the base URL)."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Send:
    request: RequestSpec


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class NeedToken:
    """Ask the driver for a usable bearer token; ``rejected`` is one the service refused."""

    rejected: str | None = None


Step = Send | Sleep | NeedToken
Reply = httpx.Response | str | None
Flow = Generator[Step, Reply, T]


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def send(request: RequestSpec) -> Generator[Step, Reply, httpx.Response]:
    """Send once: the response (the network error, if any, is raised by the driver into us)."""
    response = yield Send(request)
    assert isinstance(response, httpx.Response)  # noqa: S101 - the driver's contract
    return response


def problem_of(response: httpx.Response) -> ProblemError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"title": response.reason_phrase, "detail": response.text[:500] or None}
    return problem_error(response.status_code, body, response.headers)


def _code(response: httpx.Response) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def attempts(
    build: Callable[[], RequestSpec], policy: RetryPolicy
) -> Generator[Step, Reply, httpx.Response]:
    """Send ``build()`` until an answer that is not worth retrying, or the policy gives up.

    ``build`` is called for every attempt (a signature over a fresh timestamp, say); what must
    stay the same across attempts (the ``Idempotency-Key``) is fixed by the caller."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = yield from send(build())
        except httpx.TransportError as exc:
            wait = policy.delay(attempt)
            if wait is None:
                raise TransportFailure(f"{type(exc).__name__}: {exc}") from exc
        else:
            if not policy.retryable_status(response.status_code, _code(response)):
                return response
            wait = policy.delay(attempt, response.headers)
            if wait is None:
                return response
        yield Sleep(wait)


def authorised(
    build: Callable[[Mapping[str, str]], RequestSpec], policy: RetryPolicy
) -> Generator[Step, Reply, httpx.Response]:
    """``attempts`` with a bearer token; on 401 one fresh token and one more round."""
    token = yield NeedToken()
    assert isinstance(token, str)  # noqa: S101 - the driver's contract
    response = yield from attempts(lambda: build({"Authorization": f"Bearer {token}"}), policy)
    if response.status_code == 401:
        token = yield NeedToken(rejected=token)
        assert isinstance(token, str)  # noqa: S101
        response = yield from attempts(lambda: build({"Authorization": f"Bearer {token}"}), policy)
    return response


def expect(response: httpx.Response, parse: Callable[[Any], T]) -> T:
    """The parsed body of a 2xx response, or the problem it carries raised."""
    if response.is_success:
        return parse(response.json())
    raise problem_of(response)


def drive(
    flow: Flow[T],
    http: httpx.Client,
    token: Callable[[str | None], str],
    sleep: Callable[[float], None],
) -> T:
    """Run ``flow`` with blocking I/O."""
    reply: Reply = None
    error: httpx.TransportError | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        reply, error = None, None
        try:
            if isinstance(step, Send):
                reply = http.send(_build(http, step.request))
            elif isinstance(step, Sleep):
                sleep(step.seconds)
            else:
                reply = token(step.rejected)
        except httpx.TransportError as exc:
            error = exc


async def drive_async(
    flow: Flow[T],
    http: httpx.AsyncClient,
    token: Callable[[str | None], Awaitable[str]],
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Run ``flow`` with asyncio I/O (the same loop as ``drive``)."""
    reply: Reply = None
    error: httpx.TransportError | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        reply, error = None, None
        try:
            if isinstance(step, Send):
                reply = await http.send(_build(http, step.request))
            elif isinstance(step, Sleep):
                await sleep(step.seconds)
            else:
                reply = await token(step.rejected)
        except httpx.TransportError as exc:
            error = exc


def _build(http: httpx.Client | httpx.AsyncClient, spec: RequestSpec) -> httpx.Request:
    return http.build_request(
        spec.method,
        spec.path,
        params=spec.params,
        json=spec.json,
        data=spec.data,
        content=spec.content,
        headers=dict(spec.headers),
    )
