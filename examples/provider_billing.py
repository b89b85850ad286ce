"""A compute provider's billing job, using the voucher SDK (``providers.sdk``).

For every job of the billing run it:
1. looks the customer's voucher up (unknown, foreign or not redeemable: bill in full);
2. when the job starts, places a hold for the voucher's share of the estimated bill
   (``capture=False``); if the voucher is short it asks again with ``allow_partial`` and the
   customer pays the rest;
3. when the job finishes, captures what the voucher covers of the final bill (the rest of the
   hold is released); a cancelled job's hold is voided;
4. checks the receipt of every capture against the service's published keys;
5. prints one invoice line (JSON) per job.

Every call has an idempotency key derived from the order id, so running the job again after a
crash continues where it stopped instead of redeeming twice.

    VOUCHER_BASE_URL=https://vouchers.example.gov.cn \\
    VOUCHER_CLIENT_ID=vc_... VOUCHER_CLIENT_SECRET=... \\
    python examples/provider_billing.py jobs.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from providers.sdk import (
    ClientSecret,
    InsufficientBalance,
    NotFound,
    Redemption,
    Usage,
    VoucherClient,
    VoucherNotRedeemable,
)


@dataclass(frozen=True)
class Job:
    """A job of our own billing system. Amounts in fen."""

    order_id: str
    customer: str
    voucher_code: str | None
    estimated_amount: int
    final_amount: int
    gpu_hours: str
    unit_price: int
    cancelled: bool = False

    def usage(self) -> Usage:
        return Usage("gpu_hour", self.gpu_hours, "hour", self.unit_price)


@dataclass(frozen=True)
class Invoice:
    order_id: str
    customer: str
    bill_amount: int
    voucher_covers: int
    customer_pays: int
    redemption_id: str | None
    note: str


def full_price(job: Job, note: str) -> Invoice:
    bill = 0 if job.cancelled else job.final_amount
    return Invoice(job.order_id, job.customer, bill, 0, bill, None, note)


def place_hold(client: VoucherClient, job: Job, code: str) -> tuple[Redemption, str]:
    """A hold for the voucher's share of the estimate, or for what is left if it is short."""

    def hold(allow_partial: bool, key: str) -> Redemption:
        return client.redeem(
            code,
            job.order_id,
            job.estimated_amount,
            job.usage(),
            capture=False,
            allow_partial=allow_partial,
            idempotency_key=f"{job.order_id}:{key}",
        )

    try:
        return hold(False, "hold"), "voucher applied"
    except InsufficientBalance as short:
        available = short.extensions.get("available_amount")
        partial = hold(True, "hold-partial")
        return partial, f"voucher short ({available} fen left): partly covered"


def bill(client: VoucherClient, job: Job) -> Invoice:
    """Run one job through the voucher: hold, then capture or void; the invoice line."""
    if not job.voucher_code:
        return full_price(job, "no voucher")
    try:
        voucher = client.get_voucher(job.voucher_code)
    except NotFound:
        return full_price(job, "voucher unknown to us")
    if not voucher.redeemable:
        return full_price(job, f"voucher {voucher.status}")
    try:
        hold, note = place_hold(client, job, voucher.code)
    except VoucherNotRedeemable as refused:
        return full_price(job, f"voucher refused: {refused.problem_code}")
    share = job.final_amount * voucher.rate_bp // 10_000
    if job.cancelled or share == 0:
        client.void(hold.id, idempotency_key=f"{job.order_id}:void")
        if job.cancelled:
            return Invoice(job.order_id, job.customer, 0, 0, 0, str(hold.id), "cancelled: voided")
        return full_price(job, "nothing to cover: voided")
    captured = client.capture(
        hold.id, min(share, hold.covered_amount), idempotency_key=f"{job.order_id}:capture"
    )
    assert captured.receipt is not None  # noqa: S101 - the API always sends one
    client.verify_receipt(captured.receipt)
    covers = captured.captured_amount
    return Invoice(
        job.order_id,
        job.customer,
        job.final_amount,
        covers,
        job.final_amount - covers,
        str(captured.id),
        note,
    )


def run(client: VoucherClient, jobs: list[Job]) -> list[Invoice]:
    return [bill(client, job) for job in jobs]


def load_jobs(path: Path) -> list[Job]:
    rows: list[dict[str, Any]] = json.loads(path.read_text())
    return [Job(**row) for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", type=Path, help="JSON list of jobs")
    args = parser.parse_args(argv)
    credentials = ClientSecret(os.environ["VOUCHER_CLIENT_ID"], os.environ["VOUCHER_CLIENT_SECRET"])
    with VoucherClient(os.environ["VOUCHER_BASE_URL"], credentials) as client:
        for invoice in run(client, load_jobs(args.jobs)):
            print(json.dumps(asdict(invoice), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
