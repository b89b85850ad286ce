"""Webhook delivery throughput: N events to a fast local receiver, with one and with two workers.

    .venv/bin/python bench/webhook_throughput.py [--events 10000] [--workers 1 2]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/voucher_bench_webhooks]

For each worker count: a fresh PostgreSQL database is created and migrated, N events are emitted
(committed before any worker starts), a receiver (uvicorn, its own process, answers 204) and the
workers (`voucher-service worker`, real processes) are started, and the run ends when every event
is delivered. Reported: deliveries/s between the first and the last attempt (steady state) and
over the wall clock including worker start-up; duplicates seen by the receiver; and what emitting
costs a request (one-event transactions). Target: >= 500 deliveries/s with one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from providers.webhooks.endpoints import set_endpoint
from providers.webhooks.events import EVENT_TYPES, example_data
from providers.webhooks.models import DELIVERED, WebhookAttempt, WebhookEvent
from providers.webhooks.outbox import emit
from providers.webhooks.ssrf import UrlGuard
from voucher_service import migrations
from voucher_service.db import Database, create_engine
from voucher_service.organisations.credit_code import check_character
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.webhooks.runtime import secret_box

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/voucher_bench_webhooks"


# --- the receiver (run in its own process with --serve-receiver PORT) -------------------------

_seen: dict[str, int] = {}


async def receiver_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """A raw ASGI app: counts webhook ids, answers 204 (or the stats for GET /stats)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["method"] == "GET":
        body = f"{sum(_seen.values())} {len(_seen)}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    headers = dict(scope["headers"])
    webhook_id = headers.get(b"webhook-id", b"").decode()
    _seen[webhook_id] = _seen.get(webhook_id, 0) + 1
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def serve_receiver(port: int) -> None:
    import uvicorn

    uvicorn.run(receiver_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the run --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def recreate_database(url: str, *, create: bool = True) -> None:
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


async def create_provider(database: Database) -> uuid.UUID:
    """The provider organisation the events are for (webhook rows reference organisation.id)."""
    code = "91110000" + uuid.uuid4().hex[:9].upper()  # hex digits are all in the charset
    provider = Organisation(
        kind=OrganisationKind.provider,
        name="Benchmark provider",
        credit_code=code + check_character(code),
        region_code="110000",
    )
    async with database.unit_of_work() as session:
        session.add(provider)
    return provider.id


async def prepare(settings: Settings, receiver_url: str, events: int) -> list[float]:
    """One provider endpoint and ``events`` committed events; returns single-emit latencies."""
    database = Database(create_engine(settings))
    provider_id = await create_provider(database)
    guard = UrlGuard(require_https=False, allow_loopback=True)
    data = example_data("redemption.captured")
    async with database.unit_of_work() as session:
        await set_endpoint(
            session, secret_box(settings), guard, provider_id, receiver_url, list(EVENT_TYPES)
        )
    latencies = []
    for _ in range(min(1000, events)):  # what a request pays: its own transaction, one emit
        started = time.perf_counter()
        async with database.unit_of_work() as session:
            emit(session, provider_id, "redemption.captured", data)
        latencies.append((time.perf_counter() - started) * 1000)
    remaining = events - len(latencies)
    while remaining > 0:
        async with database.unit_of_work() as session:
            for _ in range(min(1000, remaining)):
                emit(session, provider_id, "redemption.captured", data)
        remaining -= 1000
    await database.dispose()
    return latencies


async def delivered(database: Database) -> int:
    async with database.unit_of_work(readonly=True) as session:
        query = select(func.count()).where(WebhookEvent.status == DELIVERED)
        return int(await session.scalar(query) or 0)


async def attempt_window(database: Database) -> tuple[float, int]:
    async with database.unit_of_work(readonly=True) as session:
        first, last, count = (
            await session.execute(
                select(
                    func.min(WebhookAttempt.created_at),
                    func.max(WebhookAttempt.created_at),
                    func.count(),
                )
            )
        ).one()
    return (last - first).total_seconds(), int(count)


def start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as handle:
        return subprocess.Popen(
            [sys.executable, *arguments], env=env, stdout=subprocess.DEVNULL, stderr=handle
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_receiver(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the receiver did not start")


def run(url: str, events: int, workers: int, concurrency: int, work: Path) -> dict[str, float]:
    asyncio.run(recreate_database(url))
    migrations.upgrade(url)
    env = os.environ | {
        "VOUCHER_DATABASE_URL": url,
        "VOUCHER_DATA_DIR": str(work / "data"),
        "VOUCHER_ENVIRONMENT": "development",
        "VOUCHER_WEBHOOK_ALLOW_LOOPBACK": "true",
        "VOUCHER_WEBHOOK_CONCURRENCY": str(concurrency),
        "VOUCHER_LOG_LEVEL": "WARNING",
    }
    settings = Settings(database_url=url, data_dir=work / "data", _env_file=None)  # type: ignore[call-arg]
    port = free_port()
    receiver = start([__file__, "--serve-receiver", str(port)], env, work / "receiver.log")
    try:
        wait_for_receiver(f"http://127.0.0.1:{port}/stats")
        emit_ms = asyncio.run(prepare(settings, f"http://127.0.0.1:{port}/hook", events))
        started = time.monotonic()
        procs = [
            start(["-m", "voucher_service", "worker"], env, work / f"worker-{n}.log")
            for n in range(workers)
        ]
        try:
            asyncio.run(wait_all_delivered(settings, events))
            wall = time.monotonic() - started
        finally:
            for process in procs:
                stop(process)
        window, attempts = asyncio.run(measure(settings))
        total, unique = map(int, httpx.get(f"http://127.0.0.1:{port}/stats").text.split())
    finally:
        stop(receiver)
        asyncio.run(recreate_database(url, create=False))
    return {
        "steady": attempts / window if window else float("inf"),
        "wall": events / wall,
        "attempts": attempts,
        "received": total,
        "duplicates": total - unique,
        "emit_p50_ms": statistics.median(emit_ms),
        "emit_p99_ms": statistics.quantiles(emit_ms, n=100)[98],
    }


async def wait_all_delivered(settings: Settings, events: int) -> None:
    database = Database(create_engine(settings))
    try:
        deadline = time.monotonic() + 600
        while await delivered(database) < events:
            if time.monotonic() > deadline:
                raise SystemExit("not all events were delivered within 10 minutes")
            await asyncio.sleep(0.05)
    finally:
        await database.dispose()


async def measure(settings: Settings) -> tuple[float, int]:
    database = Database(create_engine(settings))
    try:
        return await attempt_window(database)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("VOUCHER_BENCH_POSTGRES_URL", DEFAULT_URL)
    )
    parser.add_argument("--serve-receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return
    print(f"{args.events} events, concurrency {args.concurrency} per worker, PostgreSQL")
    print("workers  steady/s  wall/s  attempts  received  duplicates  emit p50/p99 ms")
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as work:
            r = run(args.postgres_url, args.events, workers, args.concurrency, Path(work))
        print(
            f"{workers:>7}  {r['steady']:>8.0f}  {r['wall']:>6.0f}  {r['attempts']:>8.0f}  "
            f"{r['received']:>8.0f}  {r['duplicates']:>10.0f}  "
            f"{r['emit_p50_ms']:.2f}/{r['emit_p99_ms']:.2f}"
        )


if __name__ == "__main__":
    main()
