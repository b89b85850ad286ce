"""Lanes: one small HTTP client per concurrent attempt, instead of one big shared pool.

httpcore's connection pool does work proportional to its number of connections on every request
(it checks each idle connection, with a syscall, whenever it assigns one), so a single pool with
50 keep-alive connections to a busy provider spends more time managing itself than sending:
measured on a local receiver, 50 concurrent requests through one pool made about 380 requests/s,
through 10 single-connection clients about 2,000/s. So each in-flight attempt takes a lane (its
own client with a few connections) and gives it back when done. A lane that recently talked to
the attempt's origin is preferred, so keep-alive connections are reused when providers mix.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import lru_cache
from types import TracebackType

import httpx


class Lane:
    """One client, and the origins it holds connections to (most recent last)."""

    def __init__(self, client: httpx.AsyncClient, connections: int) -> None:
        self.client = client
        self.origins: deque[str] = deque(maxlen=connections)

    def used_for(self, origin: str) -> None:
        if origin in self.origins:
            self.origins.remove(origin)
        self.origins.append(origin)


class Lanes:
    """Up to ``count`` lanes, made on first use; ``acquire`` never waits, so take one only when
    fewer than ``count`` are in use."""

    def __init__(
        self, make_client: Callable[[int], httpx.AsyncClient], count: int, connections: int = 4
    ) -> None:
        self._make_client = make_client
        self._count = count
        self._connections = connections
        self._free: list[Lane] = []
        self._made = 0
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Lanes:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    def acquire(self, url: str) -> Lane:
        """A free lane, preferably one with a connection to ``url``'s origin."""
        origin = origin_of(url)
        index = next(
            (i for i in range(len(self._free) - 1, -1, -1) if origin in self._free[i].origins),
            None,
        )
        if index is not None:
            lane = self._free.pop(index)
        elif self._made < self._count:
            lane = self._new_lane()
        else:
            lane = self._free.pop()
        lane.used_for(origin)
        return lane

    def release(self, lane: Lane) -> None:
        self._free.append(lane)

    def _new_lane(self) -> Lane:
        client = self._make_client(self._connections)
        self._stack.push_async_callback(client.aclose)
        self._made += 1
        return Lane(client, self._connections)


@lru_cache(maxsize=4096)  # a handful of endpoint URLs, parsed for every attempt otherwise
def origin_of(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url  # the attempt itself will report the bad URL
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host}:{port}"
