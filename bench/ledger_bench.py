"""Ledger throughput on PostgreSQL, next to pgbench as the physical reference.

    .venv/bin/python bench/ledger_bench.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates two scratch databases (dropped afterwards), runs ``pgbench -i`` and the tpcb-like
``pgbench -c 8 -j 2 -T 20`` and ``-c 1`` runs, then measures ledger transfers per second with
8 concurrent connections for:

(a)  spread load: transfers between 50 accounts;
(b)  a hot limited account: every transfer is a hold debiting one voucher account, one hold per
     commit, and (b+) the same submitted by 64 concurrent requesters through a GroupCommitter,
     which puts the holds that pile up into one commit;
(c)  a hot unlimited account: every transfer credits one provider payable account (hot).

Targets (issue 3): a >= 60% of pgbench -c 8; b >= pgbench -c 1 (better with batching);
c >= 2 x b.
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
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import Account, AccountSpec, Transfer
from voucher_service import migrations
from voucher_service.db import Database, create_engine
from voucher_service.settings import Settings

SPREAD_ACCOUNTS = 50
FUNDING = 10**15


def pgbench_path() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("pgbench not found")
    return found


def run_pgbench(admin: str, database: str, seconds: int) -> tuple[float, float]:
    """tpcb-like tps with 8 clients (2 threads) and with 1 client."""
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
    figures = []
    for clients in (("-c", "8", "-j", "2"), ("-c", "1")):
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
    def __init__(self, database: Database, connections: int, seconds: float) -> None:
        self.database = database
        self.connections = connections
        self.seconds = seconds
        self.counter = 0
        self.run = uuid.uuid4().hex[:8]

    async def setup(self) -> None:
        specs = [ledger.chart.treasury()]
        specs += [
            AccountSpec(f"bench:spread:{i}", debits_must_not_exceed_credits=True)
            for i in range(SPREAD_ACCOUNTS)
        ]
        specs += [AccountSpec("bench:hot-voucher", debits_must_not_exceed_credits=True)]
        specs += [AccountSpec("bench:hot-provider", debits_must_not_exceed_credits=True, hot=True)]
        async with self.database.unit_of_work() as session:
            opened = await ledger.open_accounts(session, specs)
            treasury = opened["treasury"]
            funded = [opened[f"bench:spread:{i}"] for i in range(SPREAD_ACCOUNTS)]
            funded.append(opened["bench:hot-voucher"])
            for index, target in enumerate(funded):
                outcome = await ledger.transfer(
                    session, f"bench:fund:{index}", [Transfer(treasury, target, FUNDING)]
                )
                outcome.unwrap()
        self.spread: list[Account] = funded[:SPREAD_ACCOUNTS]
        self.hot_voucher = opened["bench:hot-voucher"]
        self.hot_provider = opened["bench:hot-provider"]

    def client_id(self, scenario: str) -> str:
        self.counter += 1
        return f"bench:{self.run}:{scenario}:{self.counter}"

    async def timed(self, workers: int, step: Callable[[], Awaitable[None]]) -> float:
        """Run ``step`` in ``workers`` concurrent loops for the set time; transfers per second."""
        done = 0
        deadline = time.perf_counter() + self.seconds

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await step()
                done += 1

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop() for _ in range(workers)))
        elapsed = time.perf_counter() - started
        self.cpu_share = (time.process_time() - cpu) / elapsed
        return done / elapsed

    async def in_transaction(
        self, work: Callable[[AsyncSession], Awaitable[ledger.Outcome]]
    ) -> None:
        outcome = await ledger.run_transaction(self.database.unit_of_work, work)
        outcome.unwrap()

    async def spread_load(self) -> float:
        async def step() -> None:
            debit, credit = random.sample(self.spread, 2)
            client_id = self.client_id("a")
            await self.in_transaction(
                lambda s: ledger.transfer(s, client_id, [Transfer(debit, credit, 1)])
            )

        return await self.timed(self.connections, step)

    def _hold_work(self) -> Callable[[AsyncSession], Awaitable[ledger.Outcome]]:
        credit = random.choice(self.spread)
        client_id = self.client_id("b")
        held = Transfer(self.hot_voucher, credit, 1)
        return lambda s: ledger.hold(s, client_id, held, timeout=timedelta(hours=1))

    async def hot_limited(self) -> float:
        async def step() -> None:
            await self.in_transaction(self._hold_work())

        return await self.timed(self.connections, step)

    async def hot_limited_batched(self, requesters: int = 64) -> float:
        committer = ledger.GroupCommitter(self.database.unit_of_work, max_batch=64)

        async def step() -> None:
            outcome = await committer.submit(self._hold_work())
            outcome.unwrap()

        rate = await self.timed(requesters, step)
        self.average_batch = committer.items / max(committer.batches, 1)
        return rate

    async def hot_unlimited(self) -> float:
        async def step() -> None:
            debit = random.choice(self.spread)
            client_id = self.client_id("c")
            moved = Transfer(debit, self.hot_provider, 1)
            await self.in_transaction(lambda s: ledger.transfer(s, client_id, [moved]))

        return await self.timed(self.connections, step)

    async def check(self) -> None:
        async with self.database.unit_of_work(readonly=True) as session:
            report = await ledger.trial_balance(session)
        if not report.balanced:
            raise SystemExit(f"ledger out of balance after the run: {report.total}")


async def run_ledger(url: str, connections: int, seconds: float) -> dict[str, float]:
    settings = Settings(
        database_url=url,
        database_pool_size=connections,
        database_max_overflow=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    database = Database(create_engine(settings))
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=15.0, help="per ledger scenario")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    ledger_db, pgbench_db = f"ledger_bench_{tag}", f"ledger_bench_pgbench_{tag}"
    admin = args.admin_url
    asyncio.run(
        admin_execute(admin, f'CREATE DATABASE "{ledger_db}"', f'CREATE DATABASE "{pgbench_db}"')
    )
    try:
        tps8, tps1 = run_pgbench(admin, pgbench_db, args.pgbench_seconds)
        print(f"  pgbench measured: {tps8:.0f} / {tps1:.0f} tps", flush=True)
        url = make_url(admin).set(drivername="postgresql+asyncpg", database=ledger_db)
        rendered = url.render_as_string(hide_password=False)
        migrations.upgrade(rendered)
        results = asyncio.run(run_ledger(rendered, args.connections, args.seconds))
    finally:
        asyncio.run(
            admin_execute(
                admin,
                f'DROP DATABASE IF EXISTS "{ledger_db}" WITH (FORCE)',
                f'DROP DATABASE IF EXISTS "{pgbench_db}" WITH (FORCE)',
            )
        )
    report(tps8, tps1, results, args.connections)


def report(tps8: float, tps1: float, results: dict[str, float], connections: int) -> None:
    a, b, batched, c = results["a"], results["b"], results["b+"], results["c"]
    batch = results["batch"]
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
            f"(b+) hot limited, group commit (avg {batch:.0f})",
            batched,
            "holds/s",
            f"{batched / tps1:4.0%} of pgbench -c 1",
        ),
        (
            "(c)  hot unlimited (provider payable)",
            c,
            "transfers/s",
            f"{c / b:4.1f} x (b), {c / batched:4.1f} x (b+) (target >= 2 x)",
        ),
    ]
    for label, figure, unit, ratio in lines:
        print(f"{label:<46} {figure:8.0f} {unit:<12} {ratio}")


if __name__ == "__main__":
    main()
