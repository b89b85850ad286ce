"""Transports that fail on purpose, for both clients, recording every request they see.

``before``: the request never reaches the service (connection refused).
``after``: the service handles the request, then the response is lost (read timeout), the case
where only an idempotency key keeps a retry from doing the work twice.
``status``: the service is not called; a synthetic response (503, 429 with Retry-After) is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

Mode = Literal["before", "after", "status"]


@dataclass
class Faults:
    """Fail the first ``count`` requests whose path matches ``path`` (all paths if None)."""

    count: int = 0
    mode: Mode = "before"
    path: str | None = None
    status: int = 503
    code: str = "unavailable"
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)
    tamper: Callable[[httpx.Request], None] | None = None

    def matches(self, request: httpx.Request) -> bool:
        return self.path is None or request.url.path == self.path

    def take(self, request: httpx.Request) -> bool:
        """Record ``request``; whether this one fails."""
        self.seen.append(request)
        if self.tamper is not None:
            self.tamper(request)
        if self.count > 0 and self.matches(request):
            self.count -= 1
            return True
        return False

    def synthetic(self, request: httpx.Request) -> httpx.Response:
        body = {"code": self.code, "status": self.status, "title": "injected"}
        return httpx.Response(self.status, json=body, headers=self.headers, request=request)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.seen]


class FlakyTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, faults: Faults) -> None:
        self.inner, self.faults = inner, faults

    def close(self) -> None:
        self.inner.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.faults.take(request):
            return self.inner.handle_request(request)
        if self.faults.mode == "before":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if self.faults.mode == "status":
            return self.faults.synthetic(request)
        response = self.inner.handle_request(request)
        response.read()
        response.close()
        raise httpx.ReadTimeout("injected: response lost", request=request)


class AsyncFlakyTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, faults: Faults) -> None:
        self.inner, self.faults = inner, faults

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.faults.take(request):
            return await self.inner.handle_async_request(request)
        if self.faults.mode == "before":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if self.faults.mode == "status":
            return self.faults.synthetic(request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        await response.aclose()
        raise httpx.ReadTimeout("injected: response lost", request=request)
