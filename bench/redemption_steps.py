"""Where a redemption's server CPU goes: serial redemptions through the app in this process.

    .venv/bin/python -m bench.redemption_steps [--redemptions 400] [--profile]

Creates ``voucher_steps`` (dropped first) like ``redemption_load`` does, builds the app with the
production settings and no worker, and redeems one bill at a time through the provider SDK on an
in-process ASGI transport: nothing else runs meanwhile, so the CPU time measured around a step is
that step's. Prints the app's CPU per redemption and the hot path's main steps (their CPU
includes the statements they await); ``--profile`` adds cProfile of the app, by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import os
import pstats
import random
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from bench.redemption_load import BILL_AMOUNT, USAGE, prepare
from providers.sdk import NO_RETRIES, AsyncVoucherClient

spent: collections.Counter[str] = collections.Counter()


def timed(owner: Any, name: str) -> None:
    """Replace the function ``owner.name`` with one that adds up its CPU time."""
    function: Callable[..., Any] = getattr(owner, name)
    label = f"{getattr(owner, '__name__', owner)}.{name}".removeprefix("voucher_service.")

    @functools.wraps(function)
    def measured(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    @functools.wraps(function)
    async def measured_coroutine(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return await function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    coroutine = asyncio.iscoroutinefunction(function)
    setattr(owner, name, measured_coroutine if coroutine else measured)


def instrument() -> None:
    from voucher_service.idempotency import service as idempotency
    from voucher_service.redemptions import service as redemptions

    for owner, name in [
        (redemptions, "redeem"),
        (redemptions, "redeemable_voucher"),
        (redemptions, "_move"),
        (redemptions, "record"),
        (idempotency, "claim"),
        (idempotency, "complete"),
        (AsyncSession, "flush"),
        (AsyncSession, "commit"),
        (ledger, "fresh_receipt"),  # called as ledger.fresh_receipt: the patch is seen
    ]:
        timed(owner, name)


async def run(args: argparse.Namespace) -> None:
    pepper = secrets.token_urlsafe(32)
    data_dir = Path(tempfile.mkdtemp(prefix="voucher-steps-"))
    url = (
        make_url(args.admin_url)
        .set(drivername="postgresql+asyncpg", database=args.database)
        .render_as_string(hide_password=False)
    )
    setup = argparse.Namespace(
        admin_url=args.admin_url, database=args.database, providers=1, vouchers=50, clients=1
    )
    seller = (await prepare(setup, url, data_dir, pepper))[0]
    os.environ.update(
        VOUCHER_ENVIRONMENT="production",
        VOUCHER_DATABASE_URL=url,
        VOUCHER_DATA_DIR=str(data_dir),
        VOUCHER_BASE_URL="http://bench",
        VOUCHER_CLIENT_SECRET_PEPPER=pepper,
        VOUCHER_LOG_LEVEL="WARNING",
    )
    instrument()
    from voucher_service.app import create_app

    app = create_app(embedded_worker=False)
    profile = cProfile.Profile()

    async def measured_app(scope: Any, receive: Any, send: Any) -> None:
        started = time.process_time()
        if args.profile:
            profile.enable()
        try:
            await app(scope, receive, send)
        finally:
            if args.profile:
                profile.disable()
            spent["the app, in all"] += time.process_time() - started

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=measured_app)
        sdk = AsyncVoucherClient(
            "http://bench", seller.credentials, retry=NO_RETRIES, transport=transport
        )

        async def redeem() -> None:
            code = random.choice(seller.codes)
            await sdk.redeem(code, f"steps-{uuid.uuid4().hex}", BILL_AMOUNT, USAGE)

        for _ in range(30):  # warm-up: token, connections, caches, FastAPI's lazy routes
            await redeem()
        spent.clear()
        for _ in range(args.redemptions):
            await redeem()
        await sdk.aclose()
    print(f"CPU per redemption ({args.redemptions}, serial, in process):")
    for label, seconds in spent.most_common():
        print(f"  {1000 * seconds / args.redemptions:6.3f} ms  {label}")
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="voucher_steps")
    parser.add_argument("--redemptions", type=int, default=400)
    parser.add_argument("--profile", action="store_true", help="cProfile of the app")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
