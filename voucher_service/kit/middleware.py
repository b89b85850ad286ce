"""Pure ASGI middleware: request ids, access log, request body limits, request deadline."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voucher_service.kit.context import (
    current_client_address,
    current_request_id,
    new_request_id,
)
from voucher_service.kit.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

access_log = logging.getLogger("voucher_service.access")


class BodyTooLarge(HTTPException):
    """The client sent more than the configured request body limit.

    An ``HTTPException`` so that FastAPI's body parsing passes it through to the problem handler
    instead of turning it into a generic 400.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body must not exceed {max_bytes} bytes.")


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID`` in and out) and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(Headers(scope=scope).get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        client = scope.get("client")
        address_token = current_client_address.set(client[0] if client else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            current_request_id.reset(token)
            current_client_address.reset(address_token)


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, whether announced or streamed.

    ``larger_bodies`` lets the few upload routes (matched by a regular expression on the path)
    take more; every other route keeps the small limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger_bodies: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in larger_bodies]

    def limit_for(self, path: str) -> int:
        """The body limit of requests to ``path``."""
        return next(
            (limit for pattern, limit in self.larger if pattern.fullmatch(path)),
            self.default_max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, send, max_bytes)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._refuse(scope, send, max_bytes)

    async def _refuse(self, scope: Scope, send: Send, max_bytes: int) -> None:
        await send_problem(
            scope,
            send,
            status=413,
            code="payload_too_large",
            title="Request body too large",
            detail=f"The request body must not exceed {max_bytes} bytes.",
        )


class ContentEncodingMiddleware:
    """Refuses compressed request bodies (415): a few kilobytes of gzip can inflate to gigabytes,
    and nothing in the API needs them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        encoding = Headers(scope=scope).get("content-encoding", "identity") if _http(scope) else ""
        if encoding.strip().lower() not in ("", "identity"):
            await send_problem(
                scope,
                send,
                status=415,
                code="unsupported_content_encoding",
                title="Compressed request bodies are not accepted",
                detail="Send the body without Content-Encoding (identity).",
            )
            return
        await self.app(scope, receive, send)


class RequestDeadlineMiddleware:
    """Bounds a request's whole life, reading its body included: a client that sends slowly gets
    408, a request that takes too long to handle 503; either way its unit of work rolls back."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _http(scope):
            await self.app(scope, receive, send)
            return
        body_done = reading = response_started = False

        async def tracking_receive() -> Message:
            nonlocal body_done, reading
            reading = True
            message = await receive()
            reading = False
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, tracking_receive, tracking_send)
        except TimeoutError:
            if not deadline.expired():
                raise
            if not response_started:
                await self._refuse(scope, send, slow_client=reading and not body_done)

    async def _refuse(self, scope: Scope, send: Send, *, slow_client: bool) -> None:
        if slow_client:
            await send_problem(
                scope,
                send,
                status=408,
                code="request_timeout",
                title="Request body not received in time",
                detail=f"The whole request must arrive within {self.seconds:g} seconds.",
            )
            return
        await send_problem(
            scope,
            send,
            status=503,
            code="request_deadline_exceeded",
            title="The request took too long",
            detail="Nothing was changed; retry later (with the same Idempotency-Key).",
            headers=[(b"retry-after", b"5")],
        )


def _http(scope: Scope) -> bool:
    return bool(scope["type"] == "http")


async def send_problem(
    scope: Scope,
    send: Send,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a problem+json from middleware (before or instead of the application)."""
    body = json.dumps(
        {
            "type": PROBLEM_BASE + code,
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
            "instance": scope["path"],
            "request_id": (scope.get("state") or {}).get("request_id"),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
