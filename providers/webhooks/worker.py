"""The delivery engine: keeps up to ``concurrency`` attempts in flight, claiming as slots free up.

Each attempt in flight uses its own lane (a small HTTP client, see ``lanes``).

A slow or hanging endpoint occupies one slot until its timeout; it does not hold up the others
(no batch waits for its slowest member). Finished attempts are recorded together, one short
transaction per wake-up, and claims take as many events as there are free slots, so the database
sees a few statements per batch rather than per event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sized
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.webhooks.claims import ClaimBatch, claim_due, has_due, record_results
from providers.webhooks.delivery import AttemptResult, Claimed, Clock, attempt_delivery
from providers.webhooks.lanes import Lane, Lanes
from providers.webhooks.models import FAILED, GONE, OK
from providers.webhooks.schedule import RetryPolicy
from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard, guarded_transport


class UnitOfWork(Protocol):
    """``Database.unit_of_work``: a session committed when the block ends."""

    def __call__(self, *, readonly: bool = False) -> AbstractAsyncContextManager[AsyncSession]: ...


@dataclass(frozen=True)
class DeliveryConfig:
    """How the engine behaves; ``clock`` and ``policy.random`` are injectable for tests."""

    attempt_timeout: float = 10.0
    # The lease outlives the longest attempt by this much (event-loop lag, recording).
    lease_margin: float = 5.0
    concurrency: int = 50
    idle_poll: float = 0.5
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = utcnow

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.attempt_timeout + self.lease_margin)


@dataclass
class RunStats:
    """What one run did."""

    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    gone: int = 0
    skipped: int = 0
    dead_on_claim: int = 0
    lost: int = 0

    def add_claims(self, batch: ClaimBatch) -> None:
        self.skipped += batch.skipped
        self.dead_on_claim += batch.dead
        self.lost += batch.lost

    def add_results(self, results: list[AttemptResult]) -> None:
        self.attempts += len(results)
        self.delivered += sum(r.outcome == OK for r in results)
        self.failed += sum(r.outcome == FAILED for r in results)
        self.gone += sum(r.outcome == GONE for r in results)


class DeliveryEngine:
    """Delivers due events until idle or out of time."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        box: SecretBox,
        guard: UrlGuard,
        *,
        worker_id: str,
        config: DeliveryConfig | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._box = box
        self._guard = guard
        self._worker_id = worker_id
        self.config = config or DeliveryConfig()

    def client(self, connections: int) -> httpx.AsyncClient:
        """An HTTP client: guarded connections, no redirects, no proxies from the environment."""
        transport = guarded_transport(self._guard, max_connections=connections)
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.config.attempt_timeout),
        )

    async def run(self, *, budget: float = 10.0) -> RunStats:
        """Deliver for up to ``budget`` seconds (then finish what is in flight); stop when idle."""
        stats = RunStats()
        in_flight: dict[asyncio.Task[AttemptResult], Lane] = {}
        async with Lanes(self.client, self.config.concurrency) as lanes:
            try:
                await self._loop(lanes, in_flight, stats, time.monotonic() + budget)
            finally:
                # Only reached with attempts in flight if the database failed: their leases run
                # out and another run sends them again.
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
        return stats

    async def _loop(
        self,
        lanes: Lanes,
        in_flight: dict[asyncio.Task[AttemptResult], Lane],
        stats: RunStats,
        deadline: float,
    ) -> None:
        next_claim = 0.0
        while True:
            free = self.config.concurrency - len(in_flight)
            now = time.monotonic()
            if now < deadline and now >= next_claim and self._should_claim(free, in_flight):
                claimed = await self._claim(free, stats, idle=not in_flight)
                if len(claimed) < free:  # drained for now: look again a little later
                    next_claim = time.monotonic() + self.config.idle_poll
                for event in claimed:
                    lane = lanes.acquire(event.url)
                    in_flight[asyncio.create_task(self._send(lane.client, event))] = lane
            if not in_flight:
                if time.monotonic() >= deadline or next_claim > time.monotonic():
                    return
                continue
            free = self.config.concurrency - len(in_flight)
            may_claim = time.monotonic() < deadline and self._should_claim(free, in_flight)
            # Wake for the next claim only if one could happen; otherwise for a completion.
            wait = max(next_claim - time.monotonic(), 0.01) if may_claim else None
            done, _ = await asyncio.wait(
                in_flight, timeout=wait, return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                for task in done:
                    lanes.release(in_flight.pop(task))
                results = [task.result() for task in done]
                await self._record(results)
                stats.add_results(results)

    def _should_claim(self, free: int, in_flight: Sized) -> bool:
        # Claim when the engine is empty or a quarter of its slots are free, not on every
        # single completion: fewer, larger claims.
        return free > 0 and (not in_flight or free >= max(self.config.concurrency // 4, 1))

    async def _claim(self, free: int, stats: RunStats, *, idle: bool) -> list[Claimed]:
        now = self.config.clock()
        if idle:
            async with self._unit_of_work(readonly=True) as session:
                if not await has_due(session, now):
                    return []
        async with self._unit_of_work() as session:
            batch = await claim_due(
                session,
                self._box,
                limit=free,
                now=now,
                lease_until=now + self.config.lease,
                worker_id=self._worker_id,
            )
        stats.add_claims(batch)
        return batch.claimed

    async def _send(self, client: httpx.AsyncClient, claimed: Claimed) -> AttemptResult:
        return await attempt_delivery(
            client,
            self._guard,
            claimed,
            timeout=self.config.attempt_timeout,
            clock=self.config.clock,
        )

    async def _record(self, results: list[AttemptResult]) -> None:
        async with self._unit_of_work() as session:
            await record_results(session, results, self.config.policy, worker_id=self._worker_id)
