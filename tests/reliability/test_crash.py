"""Crash and fault tests: real redemptions with Idempotency-Key against ``voucher-service serve``
and a worker on PostgreSQL, while the test kills them with SIGKILL at random moments and cuts
every database connection of the service with ``pg_terminate_backend``.

The client behaves as the SDK does: it retries each redemption with the same key until it gets an
answer. Afterwards every redemption the client saw acknowledged exists exactly once with the
amounts it was told, nothing else was written, the voucher balances add up, ``ledger verify`` and
``audit verify`` are clean, and every outbox event reached the provider's endpoint.

A restart of the PostgreSQL server itself is the same test with ``VOUCHER_CRASH_RESTART_PG=1``
(it runs ``VOUCHER_CRASH_RESTART_PG_COMMAND``, default ``pg_ctlcluster 15 main restart``); CI does
not set it, because the server is shared.
"""

from __future__ import annotations

import asyncio
import os
import random
import shlex
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from providers.webhooks.models import DEAD, DELIVERED, PENDING, WebhookEvent
from tests.factories import audit_events
from tests.providers.webhooks.receiver import Receiver, running
from tests.redemptions.factories import Seller, create_seller, redemption_body, voucher_for
from tests.reliability.processes import (
    Service,
    free_port,
    run_cli,
    service_environment,
    terminate_backends,
)
from tests.webhooks.helpers import ENDPOINT, operator_of
from voucher_service.db import Database
from voucher_service.redemptions.models import Redemption
from voucher_service.settings import Settings
from voucher_service.vouchers.models import Voucher

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

RETRYABLE = {409, 429, 503}  # never a 500: a lost database connection is a 503
CLIENTS = 4
VOUCHER_AMOUNT = 10_000_000  # fen; every bill below covers a little of it
RESTART_PG = os.environ.get("VOUCHER_CRASH_RESTART_PG") == "1"
PG_RESTART = "pg_ctlcluster 15 main restart"


@dataclass
class Tally:
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> answer
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> request body
    retries: int = 0
    answers: dict[int | str, int] = field(default_factory=dict)  # status or error -> count
    faults: int = 0


async def redeem_until_answered(
    client: httpx.AsyncClient, url: str, seller: Seller, body: dict[str, Any], tally: Tally
) -> None:
    """One redemption, retried with the same Idempotency-Key until it is acknowledged."""
    key = str(uuid.uuid4())
    tally.sent[key] = body
    headers = seller.keyed(key)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            response = await client.post(
                f"{url}/v1/provider/redemptions", json=body, headers=headers
            )
        except httpx.TransportError as error:
            tally.answers[type(error).__name__] = tally.answers.get(type(error).__name__, 0) + 1
            tally.retries += 1
            await asyncio.sleep(0.1)
            continue
        tally.answers[response.status_code] = tally.answers.get(response.status_code, 0) + 1
        if response.status_code == 201:
            tally.acknowledged[key] = response.json()
            return
        assert response.status_code in RETRYABLE, response.text
        assert int(response.headers["retry-after"]) > 0, response.headers
        tally.retries += 1
        await asyncio.sleep(0.1)
    raise AssertionError(f"redemption {key} never answered")


async def load(
    url: str, seller: Seller, vouchers: list[Voucher], tally: Tally, stop: asyncio.Event
) -> None:
    async def one_client(voucher: Voucher) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                bill = random.randint(100, 5_000)
                body = redemption_body(voucher, bill_amount=bill)
                await redeem_until_answered(client, url, seller, body, tally)

    await asyncio.gather(*(one_client(voucher) for voucher in vouchers))


async def progress(tally: Tally, answers: int = 3, timeout: float = 240) -> None:
    """Wait until the client has had ``answers`` more redemptions acknowledged."""
    target = len(tally.acknowledged) + answers
    deadline = time.monotonic() + timeout
    while len(tally.acknowledged) < target and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def chaos(service: Service, database_url: str, tally: Tally, kills: int, cuts: int) -> None:
    """SIGKILL the API (and every other time the worker) at random moments, restart them; then
    cut every database connection of the service, several times. Between two faults the client
    gets a few redemptions through, so every fault hits a service under load."""
    port = service.ports[0]
    for round_ in range(kills):
        await progress(tally)
        await asyncio.sleep(random.uniform(0, 0.5))
        service.kill_api(port)
        if round_ % 2:
            service.restart_worker(0)
        tally.faults += 1
        service.start_api(port)
        started = time.monotonic()
        await service.wait_ready()
        print(f"chaos: API back after {time.monotonic() - started:.1f} s")
    for _ in range(cuts):
        await progress(tally)
        await asyncio.sleep(random.uniform(0, 0.3))
        await terminate_backends(database_url)
        tally.faults += 1
    if RESTART_PG:
        command = os.environ.get("VOUCHER_CRASH_RESTART_PG_COMMAND", PG_RESTART)
        await progress(tally)
        subprocess.run(shlex.split(command), check=True)  # noqa: S603 - the operator's command
        tally.faults += 1
    await progress(tally)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with running(Receiver()) as live:
        yield live


@pytest.fixture
async def service(database_url: str, settings: Settings, tmp_path: Path) -> AsyncIterator[Service]:
    logs = tmp_path / "logs"
    logs.mkdir()
    running_service = Service(service_environment(database_url, settings.data_dir), logs)
    running_service.start_api(free_port())
    running_service.start_worker()
    try:
        await running_service.wait_ready()
        yield running_service
    finally:
        running_service.stop()


async def arrange(
    app: FastAPI, service: Service, session: AsyncSession, receiver: Receiver
) -> tuple[Seller, list[Voucher]]:
    async with httpx.AsyncClient(base_url=service.urls()[0], timeout=10) as client:
        seller = await create_seller(app, client, session)
        _, operator = await operator_of(app, session, seller.organisation)
        saved = await client.put(
            ENDPOINT,
            json={"url": receiver.url(), "events": ["redemption.captured"]},
            headers=operator,
        )
        assert saved.status_code in (200, 201), saved.text
    vouchers = [
        await voucher_for(session, seller, amount=VOUCHER_AMOUNT, rate_bp=5000)
        for _ in range(CLIENTS)
    ]
    return seller, vouchers


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.5)
    return False


async def check_exactly_once(database: Database, tally: Tally, vouchers: list[Voucher]) -> None:
    async with database.unit_of_work(readonly=True) as session:
        rows = (await session.scalars(select(Redemption))).all()
    by_order = {row.order_id: row for row in rows}
    assert len(by_order) == len(rows) == len(tally.acknowledged)  # nothing unacknowledged
    for key, answer in tally.acknowledged.items():
        row = by_order[tally.sent[key]["order_id"]]
        assert str(row.id) == answer["id"]
        assert row.status == "captured" == answer["status"]
        assert row.covered_amount == answer["covered_amount"] == row.captured_amount
        assert row.covered_amount == tally.sent[key]["bill_amount"] * 5000 // 10000
    for voucher in vouchers:
        spent = sum(row.covered_amount for row in rows if row.voucher_id == voucher.id)
        last = max(
            (a for a in tally.acknowledged.values() if a["voucher_code"] == voucher.code),
            key=lambda a: a["created_at"],
            default=None,
        )
        assert last is None or last["voucher_balance"] == VOUCHER_AMOUNT - spent


async def check_delivered(
    database: Database, receiver: Receiver, tally: Tally, service: Service
) -> int:
    async def all_delivered() -> bool:
        async with database.unit_of_work(readonly=True) as session:
            pending = await session.scalar(
                select(func.count()).where(col(WebhookEvent.status).in_([PENDING, DEAD]))
            )
        return pending == 0

    delivered = await wait_for(all_delivered, timeout=90)
    async with database.unit_of_work(readonly=True) as session:
        events = (await session.scalars(select(WebhookEvent))).all()
    states = [(e.status, e.attempt_count, e.last_error, e.next_attempt_at) for e in events]
    assert delivered, f"undelivered: {states}\n{service.log_tail()}"
    captured = [e for e in events if e.event_type == "redemption.captured"]
    assert len(captured) == len(tally.acknowledged)
    assert all(event.status == DELIVERED for event in captured)
    received = {request.webhook_id for request in receiver.received}
    assert {str(event.id) for event in captured} <= received
    return len(receiver.received) - len(received)  # deliveries repeated after a crash


async def test_acknowledged_redemptions_survive_kills_and_cut_connections(
    app: FastAPI,
    session: AsyncSession,
    database: Database,
    database_url: str,
    service: Service,
    receiver: Receiver,
) -> None:
    seller, vouchers = await arrange(app, service, session, receiver)
    tally = Tally()
    stop = asyncio.Event()
    loader = asyncio.create_task(load(service.urls()[0], seller, vouchers, tally, stop))
    await chaos(service, database_url, tally, kills=3, cuts=3)
    stop.set()
    await asyncio.wait_for(loader, timeout=600)

    await check_exactly_once(database, tally, vouchers)
    repeated = await check_delivered(database, receiver, tally, service)
    audited = await audit_events(database, "redemption.captured")
    assert len(audited) == len(tally.acknowledged)
    for command in (("ledger", "verify"), ("audit", "verify")):
        result = run_cli(service.env, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    print(  # the figures docs/RELIABILITY.md reports
        f"crash: {len(tally.acknowledged)} redemptions acknowledged, {tally.faults} faults, "
        f"{tally.retries} retries, answers {tally.answers}, "
        f"{repeated} deliveries repeated"
    )
    assert len(tally.acknowledged) >= 3 * 7  # a few between every two faults
