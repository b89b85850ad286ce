"""The service as real processes (``voucher-service serve`` and ``worker``) that a test can kill
and start again, on the database and data directory the test arranged."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """What every process of one test service shares: database, keys, fast worker polls."""
    return os.environ | {
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_DATA_DIR": str(data_dir),
        "VOUCHER_ENVIRONMENT": "development",
        "VOUCHER_WORKER_POLL_SECONDS": "0.2",
        "VOUCHER_WEBHOOK_ALLOW_LOOPBACK": "true",
        "VOUCHER_WEBHOOK_ATTEMPT_TIMEOUT_SECONDS": "2",
        "VOUCHER_PASSWORD_HASH_TIME_COST": "1",
        "VOUCHER_PASSWORD_HASH_MEMORY_KIB": "1024",
        "VOUCHER_PASSWORD_HASH_PARALLELISM": "1",
        **extra,
    }


@dataclass
class Service:
    """API processes (one port each, kept across restarts) and worker processes."""

    env: dict[str, str]
    log_dir: Path
    ports: list[int] = field(default_factory=list)
    apis: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    starts: int = 0

    def _spawn(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        self.starts += 1
        log = (self.log_dir / f"{name}-{self.starts}.log").open("wb")
        with log:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                [sys.executable, "-m", "voucher_service", *arguments],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def start_api(self, port: int) -> None:
        if port not in self.ports:
            self.ports.append(port)
        self.apis[port] = self._spawn(f"api-{port}", "serve", "--no-worker", "--port", str(port))

    def start_worker(self) -> None:
        self.workers.append(self._spawn("worker", "worker"))

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def kill_api(self, port: int) -> None:
        _kill(self.apis[port])

    def kill_worker(self, index: int) -> None:
        _kill(self.workers[index])

    def restart_worker(self, index: int) -> None:
        self.kill_worker(index)
        self.workers[index] = self._spawn("worker", "worker")

    async def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.urls())
        async with httpx.AsyncClient(timeout=1) as client:
            while pending and time.monotonic() < deadline:
                for process in [*self.apis.values(), *self.workers]:
                    assert process.poll() is None, f"exited early: {self.log_tail()}"
                for url in list(pending):
                    try:
                        if (await client.get(f"{url}/readyz")).status_code == 200:
                            pending.discard(url)
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.1)
        assert not pending, f"not ready: {pending}"

    def stop(self) -> None:
        for process in [*self.apis.values(), *self.workers]:
            process.terminate()
        for process in [*self.apis.values(), *self.workers]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill(process)

    def log_tail(self) -> str:
        logs = sorted(self.log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in logs[-3:])


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def run_cli(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """``voucher-service <arguments>`` against the test service's database."""
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "voucher_service", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def terminate_backends(database_url: str, query_like: str | None = None) -> int:
    """pg_terminate_backend on every other connection to the database (running a query LIKE
    ``query_like``, if given); the number cut."""
    url = make_url(database_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND ($1::text IS NULL OR query LIKE $1)",
            query_like,
        )
    finally:
        await connection.close()
    return len(rows)
