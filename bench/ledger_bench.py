"""Ledger throughput on PostgreSQL, next to pgbench as the physical reference.

    .venv/bin/python bench/ledger_bench.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
                                           [--seconds 15] [--pgbench-seconds 20] [--no-pre-ping]

Creates two scratch databases (dropped afterwards), runs ``pgbench -i`` and the tpcb-like
``pgbench -c 8 -j 2 -T 20`` and ``pgbench -c 1 -T 20``, then measures ledger transfers per
second with 8 concurrent connections (8 tasks in one process, each transfer its own unit of work
through ``ledger.run_transaction``, the application's engine settings):

(a)  spread load: transfers between 50 accounts;
(b)  a hot limited account: every transfer is a hold debiting one voucher account, one hold per
     commit; (b+) the same holds from 64 concurrent requesters through a ``GroupCommitter``,
     which commits the holds that pile up together;
(c)  a hot unlimited account: every transfer credits one provider payable account (``hot``).

Targets (issue 3): (a) >= 60% of pgbench -c 8; (b) >= pgbench -c 1, better with batching;
(c) >= 2 x (b). ``--no-pre-ping`` builds the engine without ``pool_pre_ping``, which costs
three round trips per checkout with asyncpg, to show what the pool setting costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

import ledger
from ledger import Account, AccountSpec, Transfer
from voucher_service import migrations
from voucher_service.db import Database, create_engine
from voucher_service.settings import Settings

SPREAD_ACCOUNTS = 50
FUNDING = 10**15
REQUESTERS = 64

Work = Callable[[AsyncSession], Awaitable[ledger.Outcome]]


def pgbench_path() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("pgbench not found (apt-get install postgresql-client)")
    return found


def run_pgbench(admin: str, database: str, seconds: int) -> tuple[float, float]:
    """tpcb-like tps with 8 clients (2 threads), then with 1 client."""
    url = make_url(admin)
    host = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    common = [*host, "-U", url.username or "postgres"]
    subprocess.run([pgbench_path(), *common, "-i", "-q", database], check=True, capture_output=True)
    figures = []
    for clients in (["-c", "8", "-j", "2"], ["-c", "1"]):
        done = subprocess.run(
            [pgbench_path(), *common, *clients, "-T", str(seconds), database],
            check=True,
            capture_output=True,
            text=True,
        )
        match = re.search(r"tps = ([0-9.]+)", done.stdout)
        if match is None:
            raise SystemExit(f"no tps in pgbench output:\n{done.stdout}")
        figures.append(float(match.group(1)))
    return figures[0], figures[1]


async def admin_execute(admin: str, *statements: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class Bench:
    """The ledger scenarios, each run for ``seconds`` by concurrent loops."""

    def __init__(self, database: Database, connections: int, seconds: float) -> None:
        self.database = database
        self.connections = connections
        self.seconds = seconds
        self.run = uuid.uuid4().hex[:8]
        self.counter = 0
        self.cpu_share = 0.0
        self.average_batch = 0.0

    async def setup(self) -> None:
        """Open and fund the accounts: 50 spread ones, a hot voucher, a hot provider."""
        specs = [ledger.chart.treasury()]
        specs += [
            AccountSpec(f"bench:spread:{i}", debits_must_not_exceed_credits=True)
            for i in range(SPREAD_ACCOUNTS)
        ]
        specs.append(AccountSpec("bench:hot-voucher", debits_must_not_exceed_credits=True))
        specs.append(
            AccountSpec("bench:hot-provider", debits_must_not_exceed_credits=True, hot=True)
        )
        async with self.database.unit_of_work() as session:
            opened = await ledger.open_accounts(session, specs)
            funded = [opened[f"bench:spread:{i}"] for i in range(SPREAD_ACCOUNTS)]
            funded.append(opened["bench:hot-voucher"])
            for target in funded:
                moved = [Transfer(opened["treasury"], target, FUNDING)]
                (await ledger.transfer(session, self.client_id("fund"), moved)).unwrap()
        self.spread: list[Account] = funded[:SPREAD_ACCOUNTS]
        self.hot_voucher = opened["bench:hot-voucher"]
        self.hot_provider = opened["bench:hot-provider"]

    def client_id(self, scenario: str) -> str:
        self.counter += 1
        return f"bench:{self.run}:{scenario}:{self.counter}"

    async def timed(self, loops: int, step: Callable[[], Awaitable[None]]) -> float:
        """Run ``step`` in ``loops`` concurrent loops for the set time; steps per second."""
        done = 0
        deadline = time.perf_counter() + self.seconds

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await step()
                done += 1

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop() for _ in range(loops)))
        elapsed = time.perf_counter() - started
        self.cpu_share = (time.process_time() - cpu) / elapsed
        return done / elapsed

    async def commit(self, work: Work) -> None:
        outcome = await ledger.run_transaction(self.database.unit_of_work, work)
        outcome.unwrap()

    def transfer_work(self, debit: Account, credit: Account, scenario: str) -> Work:
        client_id, moved = self.client_id(scenario), [Transfer(debit, credit, 1)]
        return lambda session: ledger.transfer(session, client_id, moved)

    def hold_work(self) -> Work:
        client_id = self.client_id("b")
        held = Transfer(self.hot_voucher, random.choice(self.spread), 1)
        return lambda session: ledger.hold(session, client_id, held, timeout=timedelta(hours=1))

    async def spread_load(self) -> float:
        async def step() -> None:
            debit, credit = random.sample(self.spread, 2)
            await self.commit(self.transfer_work(debit, credit, "a"))

        return await self.timed(self.connections, step)

    async def hot_limited(self) -> float:
        async def step() -> None:
            await self.commit(self.hold_work())

        return await self.timed(self.connections, step)

    async def hot_limited_batched(self) -> float:
        committer = ledger.GroupCommitter(
            self.database.unit_of_work, max_batch=REQUESTERS, concurrency=1
        )

        async def step() -> None:
            (await committer.submit(self.hold_work())).unwrap()

        rate = await self.timed(REQUESTERS, step)
        self.average_batch = committer.items / max(committer.batches, 1)
        return rate

    async def hot_unlimited(self) -> float:
        async def step() -> None:
            debit = random.choice(self.spread)
            await self.commit(self.transfer_work(debit, self.hot_provider, "c"))

        return await self.timed(self.connections, step)

    async def check(self) -> None:
        """The run must leave the ledger balanced (or its figures mean nothing)."""
        async with self.database.unit_of_work(readonly=True) as session:
            report = await ledger.trial_balance(session)
        if not report.balanced:
            raise SystemExit(f"ledger out of balance after the run: {report.total}")


def make_database(url: str, connections: int, *, pre_ping: bool) -> Database:
    if not pre_ping:
        return Database(
            create_async_engine(url, pool_size=connections, max_overflow=0, pool_pre_ping=False)
        )
    settings = Settings(
        database_url=url,
        database_pool_size=connections,
        database_max_overflow=0,
        _env_file=None,
    )
    return Database(create_engine(settings))


async def run_ledger(
    url: str, connections: int, seconds: float, pre_ping: bool
) -> dict[str, float]:
    database = make_database(url, connections, pre_ping=pre_ping)
    bench = Bench(database, connections, seconds)
    try:
        await bench.setup()
        results: dict[str, float] = {}
        for name, scenario in (
            ("a", bench.spread_load),
            ("b", bench.hot_limited),
            ("b+", bench.hot_limited_batched),
            ("c", bench.hot_unlimited),
        ):
            results[name] = await scenario()
            share = f"{bench.cpu_share:.0%}"
            print(
                f"  ({name}) {results[name]:.0f}/s, this process at {share} of a core", flush=True
            )
        results["batch"] = bench.average_batch
        await bench.check()
        return results
    finally:
        await database.dispose()


def report(tps8: float, tps1: float, results: dict[str, float], connections: int) -> None:
    a, b, batched, c = results["a"], results["b"], results["b+"], results["c"]
    lines = [
        ("pgbench tpcb-like -c 8 -j 2", tps8, "tps", ""),
        ("pgbench tpcb-like -c 1", tps1, "tps", ""),
        (
            f"(a)  spread over {SPREAD_ACCOUNTS} accounts, {connections} conns",
            a,
            "transfers/s",
            f"{a / tps8:4.0%} of pgbench -c 8 (target >= 60%)",
        ),
        (
            "(b)  hot limited, one hold per commit",
            b,
            "holds/s",
            f"{b / tps1:4.0%} of pgbench -c 1 (target >= 100%)",
        ),
        (
            f"(b+) hot limited, group commit (avg {results['batch']:.0f}/commit)",
            batched,
            "holds/s",
            f"{batched / tps1:4.0%} of pgbench -c 1 (target >= 100%)",
        ),
        (
            "(c)  hot unlimited (provider payable)",
            c,
            "transfers/s",
            f"{c / b:4.1f} x (b), {c / batched:4.1f} x (b+) (target >= 2 x)",
        ),
    ]
    for label, figure, unit, ratio in lines:
        print(f"{label:<48} {figure:8.0f} {unit:<12} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=15.0, help="per ledger scenario")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-pre-ping", action="store_true", help="engine without pool_pre_ping")
    args = parser.parse_args()

    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    ledger_db, pgbench_db = f"ledger_bench_{tag}", f"ledger_bench_pgbench_{tag}"
    admin = args.admin_url
    created = (f'CREATE DATABASE "{ledger_db}"', f'CREATE DATABASE "{pgbench_db}"')
    asyncio.run(admin_execute(admin, *created))
    try:
        tps8, tps1 = run_pgbench(admin, pgbench_db, args.pgbench_seconds)
        print(f"  pgbench {tps8:.0f} tps with 8 clients, {tps1:.0f} tps with 1", flush=True)
        url = make_url(admin).set(drivername="postgresql+asyncpg", database=ledger_db)
        rendered = url.render_as_string(hide_password=False)
        migrations.upgrade(rendered)
        results = asyncio.run(
            run_ledger(rendered, args.connections, args.seconds, not args.no_pre_ping)
        )
    finally:
        dropped = (f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in (ledger_db, pgbench_db))
        asyncio.run(admin_execute(admin, *dropped))
    report(tps8, tps1, results, args.connections)


if __name__ == "__main__":
    main()
