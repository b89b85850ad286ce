"""Scale run (not a test): settlement, reconciliation, export and ledger reads at 1,000,000 rows.

    .venv/bin/python bench/scale.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--redemptions 1000000] [--vouchers 10000] [--providers 50]
                                    [--statement-lines 1000000] [--keep]

Builds a scratch PostgreSQL database (dropped afterwards unless ``--keep``): 1,000,000 captured
redemptions across 10,000 vouchers and 50 providers, half of them at one large provider, loaded
with COPY as ledger-consistent rows (see ``bench/scale_data.py``). Then times, each in its own
unit of work as the service runs it: settlement generation for the large provider,
reconciliation of a 1,000,000-line statement, an XLSX export of 1,000,000 redemption rows, a
statement page at the end of a long history (the large provider's payable account and a
voucher's), and the trial balance. Prints times and the process's peak memory (max RSS).
Targets (issue 8): each under 60 s and 500 MB; page and balance reads under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from bench.scale_data import Loaded, load, loaded_from, statement_lines
from ledger.sqltypes import utcnow
from voucher_service import migrations
from voucher_service.db import Database, create_engine
from voucher_service.exports.columns import SHANGHAI
from voucher_service.exports.writers import csv_stream, xlsx_stream
from voucher_service.programs.models import Program
from voucher_service.reconciliation import service as reconciliation
from voucher_service.reports import redemption_list
from voucher_service.reports.queries import Period
from voucher_service.settings import Settings
from voucher_service.settlements import router as settlements_api
from voucher_service.settlements import service as settlements
from voucher_service.settlements.schemas import ITEM_COLUMNS

DATABASE = [""]  # the database measured, for ``timed``


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_cpu() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def database_cpu(database: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to ``database`` (read from
    /proc: the server runs on this machine; parallel workers are not counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for process in Path("/proc").glob("[0-9]*"):
        try:
            title = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(process.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


async def timed(name: str, step: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``step``; print wall time, this process's CPU, the database backends' CPU, peak RSS."""
    before, cpu = database_cpu(DATABASE[0]), own_cpu()
    started = time.perf_counter()
    result = await step()
    elapsed = time.perf_counter() - started
    cpu = own_cpu() - cpu
    server = sum(used - before.get(pid, 0.0) for pid, used in database_cpu(DATABASE[0]).items())
    unit = f"{elapsed * 1000:8.1f} ms" if elapsed < 1 else f"{elapsed:8.2f} s "
    shown = f"{len(result.vouchers)} vouchers" if isinstance(result, Loaded) else result
    print(
        f"{name:<58} {unit}  cpu {cpu:7.2f} s  db cpu {server:7.2f} s  "
        f"peak RSS {peak_mb():5.0f} MB  {shown}",
        flush=True,
    )
    return result


@contextlib.asynccontextmanager
async def writing(database: Database, commit: bool) -> AsyncIterator[AsyncSession]:
    """A unit of work, committed as the service does, or rolled back (to measure again)."""
    async with database.session() as session:
        yield session
        await (session.commit() if commit else session.rollback())


async def measure(database: Database, loaded: Loaded, statement_total: int, commit: bool) -> None:
    today = utcnow().astimezone(SHANGHAI).date()
    period = (today - timedelta(days=1), today)
    big = loaded.providers[0]

    generated: list[uuid.UUID] = []

    async def generate() -> str:
        async with writing(database, commit) as session:
            program = await session.get(Program, loaded.program_id)
            assert program is not None
            [made] = await settlements.generate(session, program, period, payee_id=big)
            generated.append(made.id)
            return f"{made.item_count} items, net {made.net_amount} fen"

    await timed("settlement generation, large provider", generate)

    async def settlement_export() -> str:
        size = 0
        rows = settlements_api.item_rows(database, generated[0])
        async for chunk in csv_stream(ITEM_COLUMNS, rows, "zh"):
            size += len(chunk)
        return f"{size / 1e6:.1f} MB of CSV"

    if commit:  # the items exist only if the generation was committed
        await timed("settlement export (CSV, with each item's order id)", settlement_export)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement.csv"
        with path.open("w") as out:
            out.writelines(statement_lines(loaded, statement_total))

        async def reconcile() -> str:
            async with writing(database, commit) as session:
                report = await reconciliation.reconcile(session, path, big, period, None)
                return (
                    f"{report.line_count} lines: {report.matched_count} matched, "
                    f"{report.missing_ours_count} missing ours, {report.missing_theirs_count} "
                    f"missing theirs, {report.mismatch_count} mismatched"
                )

        await timed(f"reconciliation of a {statement_total:,}-line statement", reconcile)

    async def export() -> str:
        size = 0
        rows = redemption_list.rows(database, loaded.program_id, Period(None, None))
        async for chunk in xlsx_stream(redemption_list.COLUMNS, rows, "zh", "bench"):
            size += len(chunk)
        return f"{size / 1e6:.1f} MB of XLSX"

    if not os.environ.get("SKIP_XLSX"):
        await timed("XLSX export of every redemption (the service's redemption list)", export)
    await reads(database, loaded, big)


async def timed_twice(name: str, step: Callable[[], Awaitable[Any]]) -> None:
    """A read timed as it comes (after the steps before it: caches cold, a collection due) and
    once more."""
    await timed(name, step)
    await timed(f"{name}, again", step)


async def reads(database: Database, loaded: Loaded, big: uuid.UUID) -> None:
    payable = loaded.accounts[f"provider:{big}:payable"]
    voucher = loaded.accounts[f"voucher:{loaded.vouchers[-1]}"]
    for label, account in (("large provider's payable", payable), ("a voucher", voucher)):
        async with database.unit_of_work(readonly=True) as session:
            tail = await ledger.statement(session, account, limit=51)
            cursor = tail.lines[-1].cursor

            async def end_page(
                session: Any = session, account: uuid.UUID = account, cursor: str = cursor
            ) -> str:
                page = await ledger.statement(
                    session, account, limit=50, after=cursor, newest_first=False
                )
                return f"{len(page.lines)} lines"

            await timed_twice(f"statement page at the end of the history ({label})", end_page)
    async with database.unit_of_work(readonly=True) as session:

        async def account_balance() -> str:
            figures = await ledger.balance(session, payable)
            return f"credits posted {figures.credits_posted} fen"

        await timed_twice("balance of the large provider's payable account", account_balance)

        async def balance() -> str:
            report = await ledger.trial_balance(session)
            return f"balanced={report.balanced}, {len(report.groups)} groups"

        await timed_twice("trial balance", balance)


async def admin_execute(admin: str, statement: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def run(url: str, args: argparse.Namespace) -> None:
    DATABASE[0] = make_url(url).database or ""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        if args.database:
            loaded = await loaded_from(connection)
        else:
            loaded = await timed(
                "load (COPY and INSERT ... SELECT generate_series)",
                lambda: load(connection, args.redemptions, args.vouchers, args.providers),
            )
    finally:
        await connection.close()
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    database = Database(create_engine(settings))
    try:
        await measure(database, loaded, args.statement_lines, commit=not args.database)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redemptions", type=int, default=1_000_000)
    parser.add_argument("--vouchers", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--statement-lines", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database",
        help="measure again on a database kept by an earlier run (its writes are rolled back)",
    )
    args = parser.parse_args()
    name = args.database or f"voucher_bench_scale_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = make_url(args.admin_url).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    if not args.database:
        asyncio.run(admin_execute(args.admin_url, f'CREATE DATABASE "{name}"'))
    try:
        if not args.database:
            migrations.upgrade(rendered)
        asyncio.run(run(rendered, args))
    finally:
        if not args.keep and not args.database:
            asyncio.run(
                admin_execute(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )


if __name__ == "__main__":
    main()
