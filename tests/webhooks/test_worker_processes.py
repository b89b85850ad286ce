"""Real `voucher-service worker` processes on one PostgreSQL: crash safety and shared work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select

from providers.webhooks.endpoints import set_endpoint
from providers.webhooks.events import example_data
from providers.webhooks.models import DELIVERED, LOST, WebhookAttempt, WebhookEvent
from providers.webhooks.outbox import emit
from providers.webhooks.ssrf import UrlGuard
from tests.providers.webhooks.conftest import new_provider
from tests.providers.webhooks.receiver import Answer, Receiver, running
from voucher_service.db import Database
from voucher_service.settings import Settings
from voucher_service.webhooks.runtime import secret_box

pytestmark = pytest.mark.postgres_only


class Workers:
    """Starts worker processes sharing the test's database and key directory."""

    def __init__(self, database_url: str, settings: Settings, tmp_path: Path, concurrency: int):
        self.env = os.environ | {
            "VOUCHER_DATABASE_URL": database_url,
            "VOUCHER_DATA_DIR": str(settings.data_dir),
            "VOUCHER_ENVIRONMENT": "development",
            "VOUCHER_WEBHOOK_ALLOW_LOOPBACK": "true",
            "VOUCHER_WEBHOOK_ATTEMPT_TIMEOUT_SECONDS": "1",
            "VOUCHER_WEBHOOK_CONCURRENCY": str(concurrency),
        }
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker-{len(self.processes)}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "voucher_service", "worker"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def started(self, index: int) -> bool:
        return "worker started" in self.logs[index].read_text()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def workers(
    database_url: str, settings: Settings, tmp_path: Path
) -> Iterator[Callable[[int], Workers]]:
    with ExitStack() as stack:

        def make(concurrency: int) -> Workers:
            group = Workers(database_url, settings, tmp_path, concurrency)
            stack.callback(group.stop_all)
            return group

        yield make


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def prepare(database: Database, settings: Settings, url: str, count: int) -> list[str]:
    provider_id = await new_provider(database)
    guard = UrlGuard(require_https=False, allow_loopback=True)
    async with database.unit_of_work() as session:
        await set_endpoint(
            session, secret_box(settings), guard, provider_id, url, ["redemption.captured"]
        )
    async with database.unit_of_work() as session:
        data = example_data("redemption.captured")
        ids = [emit(session, provider_id, "redemption.captured", data) for _ in range(count)]
    return [str(i) for i in ids]


async def count_events(database: Database, *conditions: object) -> int:
    async with database.unit_of_work(readonly=True) as session:
        query = select(func.count()).select_from(WebhookEvent).where(*conditions)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def test_sigkill_mid_delivery_then_restart_loses_nothing(
    database: Database, settings: Settings, workers: Callable[[int], Workers]
) -> None:
    with running(Receiver(lambda _path, _n: Answer(204, delay=0.3))) as receiver:
        emitted = await prepare(database, settings, receiver.url(), 200)
        group = workers(20)
        first = group.start()

        async def busy() -> bool:
            assert first.poll() is None, group.logs[0].read_text()
            return len(receiver.received) >= 20 and receiver.in_flight >= 5

        await wait_until(busy, 30, "the first worker to be mid-delivery")
        first.kill()  # SIGKILL: no cleanup, its claims stay behind
        first.wait()
        claimed_at_kill = await count_events(database, WebhookEvent.claimed_at.is_not(None))  # type: ignore[union-attr]
        assert claimed_at_kill >= 5

        group.start()

        async def all_delivered() -> bool:
            return await count_events(database, WebhookEvent.status == DELIVERED) == len(emitted)

        await wait_until(all_delivered, 60, "every event to be delivered")

    seen = Counter(r.webhook_id for r in receiver.received)
    assert set(seen) == set(emitted)  # every committed event arrived at least once
    async with database.unit_of_work(readonly=True) as session:
        lost = (
            await session.scalars(select(WebhookAttempt).where(WebhookAttempt.outcome == LOST))
        ).all()
    assert 1 <= len(lost) <= claimed_at_kill
    # Only events in flight at the kill may have arrived twice.
    assert {i for i, n in seen.items() if n > 1} <= {str(a.event_id) for a in lost}


async def test_two_workers_share_the_work_and_never_send_an_event_twice(
    database: Database, settings: Settings, workers: Callable[[int], Workers]
) -> None:
    with running(Receiver(lambda _path, _n: Answer(204, delay=0.05))) as receiver:
        group = workers(10)
        processes = [group.start(), group.start()]

        async def both_started() -> bool:
            assert all(p.poll() is None for p in processes)
            return group.started(0) and group.started(1)

        await wait_until(both_started, 30, "both workers to start")
        emitted = await prepare(database, settings, receiver.url(), 400)

        async def all_delivered() -> bool:
            return await count_events(database, WebhookEvent.status == DELIVERED) == len(emitted)

        await wait_until(all_delivered, 60, "every event to be delivered")

    seen = Counter(r.webhook_id for r in receiver.received)
    assert sorted(seen) == sorted(emitted)
    assert set(seen.values()) == {1}  # the receiver always said 204: any repeat is a double send
    async with database.unit_of_work(readonly=True) as session:
        senders = Counter((await session.scalars(select(WebhookAttempt.worker_id))).all())
    assert len(senders) == 2 and sum(senders.values()) == 400  # both did part of the work
