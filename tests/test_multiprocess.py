"""The production shape without Docker: two API processes and one worker on one PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from voucher_service.db import Database
from voucher_service.worker.models import WorkerJob

pytestmark = pytest.mark.postgres_only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    deadline = time.monotonic() + 30
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
