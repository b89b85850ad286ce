"""The production shape without Docker: API processes and workers on one PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import models as ledger_models
from providers.webhooks.models import DELIVERED, WebhookEvent
from tests.providers.webhooks.receiver import Answer, Received, Receiver, running
from tests.redemptions.factories import Seller, create_seller, redemption_body, voucher_for
from tests.reliability.processes import Service, free_port, run_cli, service_environment
from tests.webhooks.helpers import ENDPOINT, operator_of
from voucher_service.db import Database
from voucher_service.vouchers.models import Voucher
from voucher_service.worker.models import WorkerJob

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = os.environ | {
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_DATA_DIR": str(tmp_path / "shared"),
        "VOUCHER_ENVIRONMENT": "production",
        "VOUCHER_WORKER_POLL_SECONDS": "0.2",
    }
    ports = [free_port(), free_port()]
    commands = {f"api-{port}": ["serve", "--no-worker", "--port", str(port)] for port in ports} | {
        "worker": ["worker"]
    }
    with ExitStack() as stack:
        processes = []
        for name, arguments in commands.items():
            log = stack.enter_context((tmp_path / f"{name}.log").open("w"))
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                [sys.executable, "-m", "voucher_service", *arguments],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            stack.callback(_stop, process)
            processes.append(process)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        _wait_ready(urls, processes)
        yield urls


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_ready(urls: list[str], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120  # a busy CI machine starts Python slowly
    pending = set(urls)
    while pending and time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"a process exited early with {process.returncode}"
        for url in list(pending):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    pending.discard(url)
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    assert not pending, f"not ready: {pending}"


async def test_two_api_processes_and_a_worker_share_one_database(
    cluster: list[str], database: Database
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        responses = await asyncio.gather(
            *(client.get(f"{cluster[n % 2]}/readyz") for n in range(40)),
            *(client.get(f"{url}/.well-known/jwks.json") for url in cluster),
        )
    assert all(r.status_code == 200 for r in responses)
    assert len({r.headers["x-request-id"] for r in responses}) == len(responses)
    first_keys, second_keys = (r.json() for r in responses[-2:])
    assert first_keys == second_keys  # replicas share the key ring

    deadline = time.monotonic() + 15
    heartbeat: WorkerJob | None = None
    while time.monotonic() < deadline:
        async with database.unit_of_work(readonly=True) as session:
            heartbeat = await session.scalar(
                select(WorkerJob).where(WorkerJob.name == "worker.heartbeat")
            )
        if heartbeat and heartbeat.run_count >= 1:
            break
        await asyncio.sleep(0.2)
    assert heartbeat is not None and heartbeat.run_count >= 1


# Two API processes and two workers under concurrent redemption load.

HOT_VOUCHER_SHARES = 7  # the small voucher covers exactly this many bills
HOT_RACERS = 14
WIDE = 16


async def _redeem(
    client: httpx.AsyncClient, url: str, seller: Seller, voucher: Voucher, bill: int
) -> httpx.Response:
    body = redemption_body(voucher, bill_amount=bill)
    return await client.post(f"{url}/v1/provider/redemptions", json=body, headers=seller.keyed())


async def test_two_apis_and_two_workers_under_load(
    app: FastAPI, session: AsyncSession, database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = app.state.settings
    logs = tmp_path / "logs"
    logs.mkdir()
    slow = Receiver(lambda _path, _n: Answer(delay=0.3))  # widens any window for a double send
    service = Service(service_environment(database_url, settings.data_dir), logs)
    with running(slow) as receiver, ExitStack() as stack:
        stack.callback(service.stop)
        for _ in range(2):
            service.start_api(free_port())
            service.start_worker()
        await service.wait_ready()
        urls = service.urls()
        async with httpx.AsyncClient(base_url=urls[0], timeout=300) as client:
            seller = await create_seller(app, client, session)
            _, operator = await operator_of(app, session, seller.organisation)
            saved = await client.put(
                ENDPOINT,
                json={"url": receiver.url(), "events": ["redemption.captured"]},
                headers=operator,
            )
            assert saved.status_code == 201, saved.text
            # One small voucher raced by more requests than it covers (1,000 fen each of 7,000).
            hot = await voucher_for(session, seller, amount=1_000 * HOT_VOUCHER_SHARES)
            wide = await voucher_for(session, seller, amount=10_000_000)
            answers = await asyncio.gather(
                *(_redeem(client, urls[n % 2], seller, hot, 2_000) for n in range(HOT_RACERS)),
                *(_redeem(client, urls[n % 2], seller, wide, 1_000 + n) for n in range(WIDE)),
            )
        hot_answers, wide_answers = answers[:HOT_RACERS], answers[HOT_RACERS:]
        assert [r.status_code for r in wide_answers] == [201] * WIDE
        won = [r for r in hot_answers if r.status_code == 201]
        assert len(won) == HOT_VOUCHER_SHARES  # no double spend
        refused = {r.json()["code"] for r in hot_answers if r.status_code != 201}
        assert refused <= {"insufficient_balance", "voucher_exhausted"}
        await _wait_until_delivered_and_sealed(database, expected_events=HOT_VOUCHER_SHARES + WIDE)
        await _check_checkpoints_sealed_once(database)
        _check_no_event_delivered_twice_at_once(receiver.received)
        result = run_cli(service.env, "ledger", "verify")
        assert result.returncode == 0, result.stdout + result.stderr


async def _wait_until_delivered_and_sealed(database: Database, expected_events: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        async with database.unit_of_work(readonly=True) as session:
            delivered = await session.scalar(
                select(func.count()).where(
                    WebhookEvent.event_type == "redemption.captured",
                    WebhookEvent.status == DELIVERED,
                )
            )
            unsealed = await session.scalar(
                select(func.count()).where(ledger_models.transaction.c.checkpoint_seq.is_(None))
            )
        if delivered == expected_events and unsealed == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{delivered}/{expected_events} delivered, {unsealed} unsealed")


async def _check_checkpoints_sealed_once(database: Database) -> None:
    checkpoint, transaction = ledger_models.checkpoint, ledger_models.transaction
    async with database.unit_of_work(readonly=True) as session:
        seqs = list(await session.scalars(select(checkpoint.c.seq).order_by(checkpoint.c.seq)))
        sealed = await session.scalar(select(func.sum(checkpoint.c.transaction_count)))
        transactions = await session.scalar(select(func.count()).select_from(transaction))
    assert seqs == list(range(1, len(seqs) + 1))  # one chain, no gap, no fork
    assert sealed == transactions  # each transaction in exactly one checkpoint


def _check_no_event_delivered_twice_at_once(received: list[Received]) -> None:
    by_event: dict[str, list[Received]] = {}
    for request in received:
        by_event.setdefault(request.webhook_id, []).append(request)
    for event_id, requests in by_event.items():
        spans = sorted((r.started, r.finished) for r in requests)
        for (_, first_end), (second_start, _) in itertools.pairwise(spans):
            assert second_start >= first_end, f"event {event_id} delivered twice at once"
