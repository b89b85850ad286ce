"""The billing example runs, as a provider would run it, against the real service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from providers.sdk import ClientSecret
from tests.programs.factories import create_voucher
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher

EXAMPLE = Path(__file__).parents[2] / "examples" / "provider_billing.py"


def job(order_id: str, code: str | None, estimate: int, final: int, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer": "星河智能",
        "voucher_code": code,
        "estimated_amount": estimate,
        "final_amount": final,
        "gpu_hours": "10",
        "unit_price": 2500,
        **extra,
    }


def run_example(url: str, credentials: ClientSecret, jobs: Path) -> list[dict[str, Any]]:
    env = os.environ | {
        "VOUCHER_BASE_URL": url,
        "VOUCHER_CLIENT_ID": credentials.client_id,
        "VOUCHER_CLIENT_SECRET": credentials.client_secret,
    }
    done = subprocess.run(  # noqa: S603 - our interpreter, our example
        [sys.executable, str(EXAMPLE), str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def available(database: Database, voucher: Voucher) -> int:
    async with database.unit_of_work(readonly=True) as session:
        return (await vouchers.balance_of(session, voucher)).available


async def test_the_billing_job(
    live_url: str,
    secret_credentials: ClientSecret,
    session: AsyncSession,
    database: Database,
    provider: Organisation,
    tmp_path: Path,
) -> None:
    rich = await create_voucher(session, amount=10_000_00, provider=provider, rate_bp=3000)
    poor = await create_voucher(session, amount=500, provider=provider, rate_bp=5000)
    foreign = await create_voucher(session, amount=10_000_00)
    jobs = [
        job("JOB-1", rich.code, 400_000, 360_000),
        job("JOB-2", rich.code, 100_000, 100_000, cancelled=True),
        job("JOB-3", poor.code, 10_000, 10_000),
        job("JOB-4", foreign.code, 10_000, 10_000),
        job("JOB-5", None, 7_000, 7_000),
    ]
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(jobs, ensure_ascii=False))
    invoices = {line["order_id"]: line for line in run_example(live_url, secret_credentials, path)}

    assert invoices["JOB-1"]["voucher_covers"] == 360_000 * 3000 // 10_000 == 108_000
    assert invoices["JOB-1"]["customer_pays"] == 252_000
    assert invoices["JOB-2"]["note"] == "cancelled: voided"
    assert (invoices["JOB-3"]["voucher_covers"], invoices["JOB-3"]["customer_pays"]) == (500, 9_500)
    assert "short" in invoices["JOB-3"]["note"]
    assert invoices["JOB-4"]["note"] == "voucher unknown to us"
    assert invoices["JOB-5"]["customer_pays"] == 7_000
    assert await available(database, rich) == 10_000_00 - 108_000  # the void released its hold
    assert await available(database, poor) == 0

    again = {line["order_id"]: line for line in run_example(live_url, secret_credentials, path)}
    assert again["JOB-1"] == invoices["JOB-1"]  # a second run replays instead of redeeming
    assert await available(database, rich) == 10_000_00 - 108_000
