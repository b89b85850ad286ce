"""Captured redemptions per second over real HTTP, next to pgbench as the physical reference.

    .venv/bin/python -m bench.redemption_load [--clients 32] [--seconds 30] [--replicas 2]
        [--vouchers 1000] [--providers 4] [--pgbench-seconds 20] [--profile bench/profile.txt]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

1. Creates the database ``voucher_bench`` (dropped first if it exists) and migrates it.
2. Through the services (the test factories): ``--providers`` approved providers, one funded
   programme each, ``--vouchers`` vouchers spread over them, and one API client per load client.
3. Starts ``--replicas`` API processes (``voucher-service serve --no-worker``, each on a free
   port, ``VOUCHER_ENVIRONMENT=production``): API replicas as a deployment runs them, the
   background worker being a separate process (each replica's CPU is measured on its own).
   The provider rate limit per address is lifted (every load client comes from 127.0.0.1; behind
   a load balancer they would not); the per-client limit stays on.
4. ``--clients`` concurrent tasks (one process, asyncio, the provider SDK without retries, one
   API client each) POST ``/v1/provider/redemptions`` with ``capture: true`` on random vouchers
   of their provider for ``--seconds``, after three warm-up calls each. Prints throughput,
   p50/p95/p99 latency, errors by code, the server's peak memory (RSS of all its processes,
   /proc) and its CPU time per redemption (a cost that does not depend on the machine's load).
   ``--profile`` records the server with py-spy meanwhile and prints its hottest functions.
5. Stops the server, runs pgbench tpcb-like (``-i`` on a scratch database, ``-c 8 -j 2 -T``),
   prints the ratio, then ``voucher-service ledger verify`` on the benchmark database.

Targets (issue 6, 2 cores): ratio >= 50%, p99 <= 50 ms at 32 clients, zero errors, verify clean.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench.ledger_bench import admin_execute, pgbench_path
from providers.clients import service as clients
from providers.clients.models import AuthMethod
from providers.sdk import NO_RETRIES, AsyncVoucherClient, ClientSecret, ProblemError, Usage
from tests.factories import create_organisation
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service import migrations
from voucher_service.db import Database, create_engine
from voucher_service.organisations.models import OrganisationKind
from voucher_service.settings import Settings

VOUCHER_AMOUNT = 100_000_000  # fen: never exhausted during a run
BILL_AMOUNT = 10_000
USAGE = Usage("gpu_hour", "4", "hour", 2500)
VENV_BIN = Path(sys.executable).parent


@dataclass
class Seller:
    credentials: ClientSecret
    codes: list[str]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    server_cpu: float = 0.0  # seconds, during the measured window
    client_cpu: float = 0.0  # seconds of the load generator (this process), same window
    machine_cpu: float = 0.0  # seconds of every process on this machine, same window
    database_cpu: float = 0.0  # seconds of PostgreSQL's processes, same window


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_env(url: str, data_dir: Path, pepper: str, port: int, pool: int) -> dict[str, str]:
    return os.environ | {
        "VOUCHER_DATABASE_POOL_SIZE": str(pool),
        "VOUCHER_ENVIRONMENT": "production",
        "VOUCHER_DATABASE_URL": url,
        "VOUCHER_DATA_DIR": str(data_dir),
        "VOUCHER_BASE_URL": f"http://127.0.0.1:{port}",
        "VOUCHER_CLIENT_SECRET_PEPPER": pepper,
        "VOUCHER_RATE_LIMIT_PROVIDER_PER_ADDRESS": "0",
        "VOUCHER_LOG_LEVEL": "WARNING",
    }


async def recreate(admin: str, name: str) -> None:
    await admin_execute(
        admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )


async def arrange(
    settings: Settings, pepper: bytes, providers: int, vouchers: int, clients_n: int
) -> list[Seller]:
    """Providers, programmes, vouchers and one API client per load client, through the services."""
    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            holders = [
                await create_organisation(session, kind=OrganisationKind.enterprise)
                for _ in range(20)
            ]
            per_provider = max(1, vouchers // providers)
            stock: list[tuple[uuid.UUID, list[str]]] = []
            for _ in range(providers):
                provider = await create_provider(session)
                program = await create_program(
                    session, providers=[provider], budget=per_provider * VOUCHER_AMOUNT
                )
                codes = [
                    (
                        await create_voucher(
                            session,
                            amount=VOUCHER_AMOUNT,
                            program=program,
                            holder=holders[i % len(holders)],
                            provider=provider,
                        )
                    ).code
                    for i in range(per_provider)
                ]
                stock.append((provider.id, codes))
            sellers = []
            for n in range(clients_n):
                provider_id, codes = stock[n % providers]
                issued = await clients.create_client(
                    session,
                    organisation_id=provider_id,
                    name=f"bench {n}",
                    auth_method=AuthMethod.client_secret,
                    pepper=pepper,
                    scopes=None,
                    public_jwk=None,
                )
                secret = issued.client_secret or ""
                sellers.append(Seller(ClientSecret(issued.client.client_id, secret), codes))
            await session.commit()
    finally:
        await database.dispose()
    return sellers


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """One API replica (``voucher-service serve``, one process) on ``port``, once it is ready."""
    command = [str(VENV_BIN / "voucher-service"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-worker", "--no-migrate"]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not become ready:\n{log.read_text()[-3000:]}")


def process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents[ppid].append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL process on this machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                found[int(entry.name)] = cpu_seconds([int(entry.name)])
        except OSError:
            continue
    return found


def postgres_cpu_since(before: dict[int, float]) -> float:
    """What PostgreSQL's processes used since ``before`` (a process that exited meanwhile, such
    as an overflow connection the pool closed, is missed: size the pool to the clients)."""
    return sum(used - before.get(pid, 0.0) for pid, used in postgres_cpu().items())


def machine_busy_seconds() -> float:
    """CPU time every process on this machine has used (/proc/stat: all but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` (their own, not their children's)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def sample_memory(pids: list[int], peak: list[int], stop: asyncio.Event) -> None:
    """Peak RSS of ``pids``, sampled in a thread (the load's event loop must not wait on it)."""
    while not stop.is_set():
        peak[0] = max(peak[0], await asyncio.to_thread(rss_bytes, pids))
        await asyncio.sleep(0.5)


async def redeem_once(sdk: AsyncVoucherClient, codes: list[str], stats: Stats) -> bool:
    try:
        await sdk.redeem(random.choice(codes), f"bench-{uuid.uuid4().hex}", BILL_AMOUNT, USAGE)
    except ProblemError as exc:
        stats.errors[exc.problem_code] += 1
    except Exception as exc:  # a benchmark counts every failure
        stats.errors[type(exc).__name__] += 1
    else:
        return True
    return False


async def load(
    urls: list[str],
    sellers: list[Seller],
    seconds: float,
    stats: Stats,
    on_start: Callable[[], None],
) -> float:
    """Every seller's task redeems in a loop (client n on replica n mod replicas), after a
    warm-up of three calls each (tokens, connections, FastAPI's lazily built routes); returns
    the measured wall time."""
    sdks = [
        AsyncVoucherClient(urls[n % len(urls)], s.credentials, retry=NO_RETRIES, timeout=60)
        for n, s in enumerate(sellers)
    ]
    pairs = list(zip(sdks, sellers, strict=True))

    async def warm(sdk: AsyncVoucherClient, codes: list[str]) -> None:
        for _ in range(3):
            await redeem_once(sdk, codes, Stats())

    async def loop(sdk: AsyncVoucherClient, codes: list[str], deadline: float) -> None:
        while (started := time.perf_counter()) < deadline:
            if await redeem_once(sdk, codes, stats):
                stats.latencies.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(warm(sdk, seller.codes) for sdk, seller in pairs))
        on_start()
        begun = time.perf_counter()
        deadline = begun + seconds
        await asyncio.gather(*(loop(sdk, seller.codes, deadline) for sdk, seller in pairs))
        return time.perf_counter() - begun
    finally:
        await asyncio.gather(*(sdk.aclose() for sdk in sdks))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def start_profile(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    command = [
        str(VENV_BIN / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--nonblocking",
        "-o",
        str(path),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(paths: list[Path], top: int = 15) -> None:
    """Self and inclusive sample shares by function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    lines = [line for path in paths for line in path.read_text().splitlines()]
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        print("profile: no samples")
        return
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"profile, top {top} by {title} time ({total} samples):")
        for frame, count in counter.most_common(top):
            print(f"  {100 * count / total:5.1f}%  {frame[:150]}")


def run_pgbench(admin: str, database: str, seconds: int) -> float:
    url = make_url(admin)
    common = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    subprocess.run([pgbench_path(), *common, "-i", "-q", database], check=True, capture_output=True)
    before = machine_busy_seconds()
    done = subprocess.run(
        [pgbench_path(), *common, "-c", "8", "-j", "2", "-T", str(seconds), database],
        check=True,
        capture_output=True,
        text=True,
    )
    used = machine_busy_seconds() - before
    count = int(done.stdout.split("actually processed: ")[1].split()[0])
    print(f"pgbench: the machine: {1000 * used / count:.2f} ms CPU per transaction")
    return float(done.stdout.split("tps = ")[1].split()[0])


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def report(stats: Stats, elapsed: float, peak: int, clients_n: int) -> float:
    done = len(stats.latencies)
    rate = done / elapsed
    print(f"redemptions: {done} captured in {elapsed:.1f} s with {clients_n} clients: {rate:.0f}/s")
    print(
        "latency ms: p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}".format(
            *(1000 * percentile(stats.latencies, q) for q in (0.50, 0.95, 0.99, 1.0))
        )
    )
    errors = sum(stats.errors.values())
    print(f"errors: {errors}" + (f" {dict(stats.errors)}" if errors else ""))
    print(f"server peak memory: {peak / 2**20:.0f} MiB (RSS of all its processes)")
    if done:
        print(
            f"server CPU: {1000 * stats.server_cpu / done:.1f} ms per redemption "
            f"({stats.server_cpu / elapsed:.2f} cores busy; load-independent cost)"
        )
        print(
            f"load generator CPU: {1000 * stats.client_cpu / done:.1f} ms per redemption "
            f"({stats.client_cpu / elapsed:.2f} cores busy)"
        )
        print(
            f"PostgreSQL CPU: {1000 * stats.database_cpu / done:.1f} ms per redemption "
            f"({stats.database_cpu / elapsed:.2f} cores busy)"
        )
        cores = os.cpu_count() or 1
        print(
            f"the machine: {1000 * stats.machine_cpu / done:.1f} ms CPU per redemption, so at "
            f"most {done * cores / stats.machine_cpu:.0f} redemptions/s on its {cores} cores"
        )
    return rate


async def prepare(args: argparse.Namespace, url: str, data_dir: Path, pepper: str) -> list[Seller]:
    await recreate(args.admin_url, args.database)
    await asyncio.to_thread(migrations.upgrade, url)  # alembic runs its own event loop
    settings = Settings(database_url=url, data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    sellers = await arrange(settings, pepper.encode(), args.providers, args.vouchers, args.clients)
    print(
        f"arranged {args.providers} providers, {args.vouchers} vouchers, "
        f"{args.clients} API clients in {time.perf_counter() - started:.0f} s"
    )
    return sellers


async def measure(
    args: argparse.Namespace, servers: dict[int, subprocess.Popen[bytes]], sellers: list[Seller]
) -> tuple[Stats, float, int]:
    stats, peak, halt = Stats(), [0], asyncio.Event()
    pids = [server.pid for server in servers.values()]
    tree = [pid for root in pids for pid in process_tree(root)]  # once: replicas fork nothing
    sampler = asyncio.create_task(sample_memory(tree, peak, halt))
    profilers: list[subprocess.Popen[bytes]] = []
    cpu_before = [0.0, 0.0, 0.0]
    database_before: dict[int, float] = {}

    def on_start() -> None:
        database_before.update(postgres_cpu())
        cpu_before[:] = [cpu_seconds(tree), time.process_time(), machine_busy_seconds()]
        if args.profile:
            profilers.extend(
                start_profile(pid, args.seconds, args.profile.with_suffix(f".{n}.txt"))
                for n, pid in enumerate(pids)
            )

    urls = [f"http://127.0.0.1:{port}" for port in servers]
    elapsed = await load(urls, sellers, args.seconds, stats, on_start)
    stats.server_cpu = cpu_seconds(tree) - cpu_before[0]
    stats.client_cpu = time.process_time() - cpu_before[1]
    stats.machine_cpu = machine_busy_seconds() - cpu_before[2]
    stats.database_cpu = postgres_cpu_since(database_before)
    halt.set()
    await sampler
    for profiler in profilers:
        await asyncio.to_thread(profiler.wait, 120)
    return stats, elapsed, peak[0]


def start_replicas(
    args: argparse.Namespace, url: str, data_dir: Path, pepper: str
) -> tuple[dict[int, subprocess.Popen[bytes]], dict[str, str]]:
    ports = [free_port() for _ in range(args.replicas)]
    pool = args.pool_size or -(-args.clients // args.replicas)
    env = bench_env(url, data_dir, pepper, ports[0], pool)
    servers: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for port in ports:
            servers[port] = start_server(env, port, data_dir / f"server-{port}.log")
    except BaseException:
        for server in servers.values():
            stop(server)
        raise
    return servers, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="voucher_bench")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--replicas", type=int, default=2, help="API processes")
    parser.add_argument(
        "--pool-size",
        type=int,
        help="VOUCHER_DATABASE_POOL_SIZE of each replica (default: its share of the clients, so "
        "no overflow connection is opened and closed per request)",
    )
    parser.add_argument("--vouchers", type=int, default=1000)
    parser.add_argument("--providers", type=int, default=4)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--profile", type=Path, help="record the server with py-spy (raw stacks)")
    args = parser.parse_args()

    admin = make_url(args.admin_url)
    url = admin.set(drivername="postgresql+asyncpg", database=args.database).render_as_string(
        hide_password=False
    )
    pepper = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="voucher-bench-") as tmp:
        data_dir = Path(tmp)
        sellers = asyncio.run(prepare(args, url, data_dir, pepper))
        servers, env = start_replicas(args, url, data_dir, pepper)
        try:
            stats, elapsed, peak = asyncio.run(measure(args, servers, sellers))
        finally:
            for server in servers.values():
                stop(server)
        rate = report(stats, elapsed, peak, args.clients)
        if args.profile:
            summarise_profile(sorted(args.profile.parent.glob(args.profile.stem + ".*.txt")))
        scratch = f"{args.database}_pgbench"
        asyncio.run(recreate(args.admin_url, scratch))
        try:
            tps = run_pgbench(args.admin_url, scratch, args.pgbench_seconds)
        finally:
            asyncio.run(
                admin_execute(args.admin_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            )
        print(
            f"pgbench tpcb-like -c 8 -j 2: {tps:.0f} tps; "
            f"redemptions / pgbench = {100 * rate / tps:.0f}%"
        )
        verify = subprocess.run(
            [str(VENV_BIN / "voucher-service"), "ledger", "verify"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        print("ledger verify:", (verify.stdout + verify.stderr).strip().replace("\n", "; "))


if __name__ == "__main__":
    main()
